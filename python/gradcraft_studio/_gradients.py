"""Per-task gradients of one step, in one of two passes (docs/architecture.md, "Balancer").

- The split pass, when the shared modules' outputs were cut (``_boundary``): one ordinary autograd
  call per task above the cut, through that task's own code only (its tower, its PLE expert, its
  gate), then ONE batched call (``is_grads_batched``) from the cut down through the shared modules
  with the K per-task cotangents. Every layer is traversed K times only where the task gradients
  differ: PLE's task experts once, its shared expert K times.
- The batched pass otherwise (shared parameters given as bare tensors): one batched call from the K
  losses through the whole graph.

Both give each task's gradient of the shared dense parameters (K × shape), of the other trainable
parameters (per task, None where a task does not reach one) and of every embedding lookup's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from ._boundary import Cut
from ._lookups import Lookup

PerTask = list[Tensor | None]


@dataclass
class TaskGradients:
    #: Each shared dense parameter with its K × shape per-task gradients.
    dense: list[tuple[Tensor, Tensor]]
    #: Each other trainable parameter with its per-task gradients (None: the task does not reach it).
    others: list[tuple[Tensor, PerTask]]
    #: Per table, per lookup: K × rows.shape, or None when no task used the lookup.
    rows: list[list[Tensor | None]]
    #: Tasks whose loss reaches no shared parameter (known exactly by the split pass only).
    unreached: list[int]


def _stack(per_task: PerTask, like: Tensor) -> Tensor | None:
    if all(g is None for g in per_task):
        return None
    return torch.stack([torch.zeros_like(like) if g is None else g for g in per_task])


def _add(a: Tensor | None, b: Tensor | None) -> Tensor | None:
    if a is None:
        return b
    return a if b is None else a + b


def _regroup(flat: Sequence[Tensor | None], lookups: list[list[Lookup]]) -> list[list[Tensor | None]]:
    out, i = [], 0
    for table_lookups in lookups:
        out.append(list(flat[i : i + len(table_lookups)]))
        i += len(table_lookups)
    return out


def batched_pass(
    target: Tensor, dense: list[Tensor], others: list[Tensor], lookups: list[list[Lookup]]
) -> TaskGradients:
    k = target.numel()
    rows = [lookup.rows for table_lookups in lookups for lookup in table_lookups]
    eye = torch.eye(k, dtype=target.dtype, device=target.device)
    grads = torch.autograd.grad(
        target, [*dense, *others, *rows], grad_outputs=eye, is_grads_batched=True, allow_unused=True
    )
    nd, no = len(dense), len(others)
    return TaskGradients(
        dense=[(p, g) for p, g in zip(dense, grads[:nd]) if g is not None],
        others=[(p, [None] * k if g is None else list(g.unbind(0))) for p, g in zip(others, grads[nd : nd + no])],
        rows=_regroup(grads[nd + no :], lookups),
        unreached=[],
    )


class SplitPass:
    """The split pass; remembers whether one cut module feeds another (a chain), in which case the
    batched calls go module by module, last first, handing each its share of the cotangents."""

    def __init__(self) -> None:
        self.chained: bool | None = None

    def __call__(
        self,
        targets: list[Tensor],
        dense: list[Tensor],
        others: list[Tensor],
        lookups: list[list[Lookup]],
        cuts: list[Cut],
    ) -> TaskGradients:
        """``targets``: each task's own scalar loss, as computed (an element of a stacked tensor
        would lead every call through every task's code with zero cotangents)."""
        k = len(targets)
        rows = [lookup.rows for table_lookups in lookups for lookup in table_lookups]
        leaves = [cut.leaf for cut in cuts]
        above = [*leaves, *rows, *dense, *others]
        # One ordinary call per task: only that task's own code lies between its loss and the cut.
        per_task = [torch.autograd.grad(targets[t], above, retain_graph=True, allow_unused=True) for t in range(k)]
        nl, nr, nd = len(leaves), len(rows), len(dense)
        shared_end = nl + nr + nd
        unreached = [t for t in range(k) if all(g is None for g in per_task[t][:shared_end])]
        cotangents = [_stack([per_task[t][i] for t in range(k)], leaves[i]) for i in range(nl)]
        dense_grads = [_stack([per_task[t][nl + nr + j] for t in range(k)], p) for j, p in enumerate(dense)]
        row_grads = [_stack([per_task[t][nl + j] for t in range(k)], r) for j, r in enumerate(rows)]
        below = self._below(cuts, cotangents, [*dense, *rows])
        dense_grads = [_add(a, b) for a, b in zip(dense_grads, below[:nd])]
        row_grads = [_add(a, b) for a, b in zip(row_grads, below[nd:])]
        return TaskGradients(
            dense=[(p, g) for p, g in zip(dense, dense_grads) if g is not None],
            others=[(p, [per_task[t][shared_end + j] for t in range(k)]) for j, p in enumerate(others)],
            rows=_regroup(row_grads, lookups),
            unreached=unreached,
        )

    def _below(self, cuts: list[Cut], cotangents: list[Tensor | None], inputs: list[Tensor]) -> list[Tensor | None]:
        """The batched pass from the cut down through the shared modules."""
        active = [i for i, c in enumerate(cotangents) if c is not None]
        if not active:
            return [None] * len(inputs)
        if not self.chained:
            # Every cut's leaf is an input too: a gradient reaching one reveals a chain.
            first = self.chained is None
            grads = torch.autograd.grad(
                [cuts[i].original for i in active],
                [*inputs, *(cut.leaf for cut in cuts)],
                grad_outputs=[c for c in cotangents if c is not None],
                is_grads_batched=True,
                allow_unused=True,
                retain_graph=first,
            )
            self.chained = any(g is not None for g in grads[len(inputs) :])
            if not self.chained:
                return list(grads[: len(inputs)])
        # Last cut first: what it hands to an earlier cut's leaf joins that cut's cotangent (which
        # may have had none from above: a module only the shared ones consume).
        totals: list[Tensor | None] = [None] * len(inputs)
        pending = list(cotangents)
        remaining = [i for i in range(len(cuts)) if any(pending[j] is not None for j in range(i, len(cuts)))]
        for i in reversed(remaining):
            cotangent = pending[i]
            if cotangent is None:
                continue
            earlier = list(range(i))
            grads = torch.autograd.grad(
                cuts[i].original,
                [*inputs, *(cuts[j].leaf for j in earlier)],
                grad_outputs=cotangent,
                is_grads_batched=True,
                allow_unused=True,
                retain_graph=True,
            )
            totals = [_add(a, b) for a, b in zip(totals, grads[: len(inputs)])]
            for j, g in zip(earlier, grads[len(inputs) :]):
                pending[j] = _add(pending[j], g)
        return totals
