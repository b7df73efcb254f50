"""The Balancer: per-task gradients of the shared parameters, their K×K Gram matrix, a strategy's
weights, and ``.grad`` set for the optimizer (docs/pytorch.md, docs/architecture.md).

One step, everything on the model's device except the K×K matrix and the K losses:

1. per-task gradients (``_gradients``): above the shared modules' outputs (cut by forward hooks,
   ``_boundary``) one ordinary autograd call per task runs through that task's own code only; below
   them ONE batched call (``is_grads_batched``) runs through the shared modules with the K per-task
   cotangents. Embedding tables never get dense per-task gradients (``_lookups``);
2. the shared blocks are stacked K × D and the Gram matrix is one product;
3. the Gram matrix, the losses and the task-specific parameters' per-task squared norms leave the
   device in one copy (the step's only synchronisation); a non-finite value skips the step naming
   the task;
4. the strategy weighs the Gram matrix in float64 on the host;
5. the shared update Σ_t α_t g_t is one product; towers get their own task's gradient (times the
   strategy's tower weight); everything is added to ``.grad`` as ``backward()`` does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import torch
from torch import Tensor, nn

from ._distributed import Reducer, default_group
from ._graph import reaches
from ._boundary import Boundary, boundary_modules
from ._gradients import SplitPass, batched_pass
from ._lookups import EmbeddingTable, Lookup, TableGradients, table_gradients
from .strategies import ProjectionStats, Strategy, StrategyResult, require_strategy

#: Marks a model a Balancer is attached to: two would cut its shared modules twice.
_ATTACHED = "_gradcraft_balancer_attached"

#: What ``shared`` and each tower may be: a module, a parameter, or several of either.
ParameterSource = Union[nn.Module, nn.Parameter, Iterable[Union[nn.Module, nn.Parameter]]]


@dataclass(frozen=True)
class BalanceReport:
    """What one ``Balancer.backward`` did."""

    #: 1-based step (every call counts, skipped ones too).
    step: int
    #: The K task losses as computed (before any loss transform), float64.
    losses: np.ndarray
    #: K×K Gram matrix of the task gradients on the shared parameters, float64.
    gram: np.ndarray
    #: α: the shared update is Σ α_t g_t (zeros when the step was skipped).
    weights: np.ndarray
    #: Scale of each task's gradient on its own parameters; None means 1.
    tower_weights: np.ndarray | None
    projection: ProjectionStats | None
    flags: tuple[str, ...]
    #: Why the step was skipped (naming the task), None when it was applied. Every ``.grad`` is then None.
    skipped: str | None = None
    #: Index of the task that made the step be skipped.
    skipped_task: int | None = None


def _collect(source: ParameterSource, what: str) -> tuple[list[nn.Module], list[Tensor]]:
    """Modules and the trainable parameters they hold (each once, in order)."""
    items: list[Any] = [source] if isinstance(source, (nn.Module, Tensor)) else list(source)
    modules: list[nn.Module] = []
    params: dict[int, Tensor] = {}
    for item in items:
        if isinstance(item, nn.Module):
            modules.append(item)
            for p in item.parameters():
                if p.requires_grad:
                    params.setdefault(id(p), p)
        elif isinstance(item, Tensor):
            if not item.requires_grad:
                raise ValueError(f"{what}: a tensor that does not require grad cannot be trained")
            params.setdefault(id(item), item)
        else:
            raise TypeError(f"{what}: expected modules or parameters, got {type(item).__name__}")
    return modules, list(params.values())


class Balancer:
    """Balances the task gradients of ``shared`` with a strategy (docs/strategies.md).

    ``model`` holds every trainable parameter; ``shared`` the part all tasks train (modules or
    parameters); the rest are task-specific: a parameter in ``towers[task]`` gets that task's
    gradient, any other the sum of the tasks' gradients, each times the strategy's tower weight.

    Under torch.distributed (``process_group``, or the default group when it is initialised with
    several processes) the per-task gradients are averaged over the ranks before balancing, so the
    Gram matrix and the update are those of the global batch; the model must then not be wrapped
    in DistributedDataParallel (the Balancer does its reductions), and every rank starts from the
    first rank's parameters.
    """

    def __init__(
        self,
        model: nn.Module,
        *,
        shared: ParameterSource,
        tasks: Sequence[str],
        strategy: str = "gradcraft",
        params: Mapping[str, Any] | None = None,
        towers: Mapping[str, ParameterSource] | None = None,
        process_group: Any = None,
    ) -> None:
        self.tasks: list[str] = [str(t) for t in tasks]
        if not self.tasks:
            raise ValueError("tasks: name at least one task")
        if len(set(self.tasks)) != len(self.tasks):
            raise ValueError(f"tasks: names must be distinct, got {self.tasks}")
        if getattr(model, _ATTACHED, False):
            raise ValueError("model: another Balancer is attached to it; close() that one first")
        shared_modules, shared_params = _collect(shared, "shared")
        shared_ids = {id(p) for p in shared_params}
        if not shared_params:
            raise ValueError("shared: holds no trainable parameter")

        # Every embedding table, shared or not, is differentiated through its lookups.
        modules = list(model.modules()) + [m for s in shared_modules for m in s.modules()]
        self._tables: list[EmbeddingTable] = []
        seen: set[int] = set()
        for module in modules:
            if isinstance(module, nn.Embedding) and module.weight.requires_grad and id(module) not in seen:
                seen.add(id(module))
                self._tables.append(EmbeddingTable(module, shared=id(module.weight) in shared_ids))
        table_weights = {id(t.module.weight) for t in self._tables}

        self._dense: list[Tensor] = [p for p in shared_params if id(p) not in table_weights]
        self._others: list[Tensor] = [
            p for p in model.parameters() if p.requires_grad and id(p) not in shared_ids and id(p) not in table_weights
        ]
        self._owner: dict[int, int] = {}
        for task, source in (towers or {}).items():
            if task not in self.tasks:
                raise ValueError(f'towers: "{task}" is not a task (tasks: {", ".join(self.tasks)})')
            for p in _collect(source, f'towers["{task}"]')[1]:
                if id(p) in shared_ids:
                    raise ValueError(f'towers["{task}"]: holds a parameter that is also in shared')
                if self._owner.setdefault(id(p), self.tasks.index(task)) != self.tasks.index(task):
                    raise ValueError(f'towers["{task}"]: holds a parameter of another task\'s tower')
        self._step = 0
        self._dependencies_checked = False
        self._boundary_used = False
        self._strategy: Strategy
        self._params: dict[str, Any]
        self._state: Any
        self.set_strategy(strategy, params)

        # Everything is valid: attach to the model.
        group = default_group(process_group)
        self._reducer = Reducer(group) if group is not None else None
        if self._reducer is not None:
            self._reducer.broadcast_model(model)
        self._hooks = [t.module.register_forward_hook(t.record) for t in self._tables]
        self._boundary = Boundary(boundary_modules(shared_modules))
        self._split = SplitPass()
        self._model = model
        setattr(model, _ATTACHED, True)

    # -- strategy ------------------------------------------------------------------------------

    @property
    def strategy(self) -> str:
        return self._strategy.name

    @property
    def params(self) -> dict[str, Any]:
        return dict(self._params)

    @property
    def loss_transform(self) -> str | None:
        return self._strategy.loss_transform

    def set_strategy(self, name: str, params: Mapping[str, Any] | None = None, *, carry_state: bool = False) -> None:
        """Switches strategy or parameters (between two steps), with a fresh state unless
        ``carry_state`` and the name is unchanged (new parameters, same learned state). ValueError
        naming the strategy or the parameter when either is bad, leaving the current one in place."""
        strategy = require_strategy(name)
        parsed = strategy.parse_params(params)
        keep = carry_state and hasattr(self, "_strategy") and strategy is self._strategy
        state = self._state if keep else strategy.init(len(self.tasks), parsed)
        self._strategy, self._params, self._state = strategy, parsed, state

    def state_dict(self) -> dict[str, Any]:
        """JSON-serialisable: strategy name, parameters, state and step."""
        return {"strategy": self.strategy, "params": self.params, "state": self._state, "step": self._step}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.set_strategy(state["strategy"], state.get("params"))
        self._state = state.get("state", self._state)
        self._step = int(state.get("step", 0))

    def close(self) -> None:
        """Detaches the Balancer from the model (its forward hooks): ``loss.backward()`` trains the
        shared parameters again."""
        for hook in self._hooks:
            hook.remove()
        self._hooks = []
        self._boundary.close()
        setattr(self._model, _ATTACHED, False)

    # -- one step ------------------------------------------------------------------------------

    def _stack_losses(self, losses: Sequence[Tensor] | Tensor) -> tuple[Tensor, list[Tensor] | None]:
        k = len(self.tasks)
        if isinstance(losses, Tensor):
            if losses.dim() != 1 or losses.numel() != k:
                raise ValueError(f"losses: expected {k} task losses, got a tensor of shape {tuple(losses.shape)}")
            if not losses.requires_grad:
                raise ValueError("losses: they do not depend on any trainable parameter (no grad_fn)")
            return losses, None
        separate = list(losses)
        if len(separate) != k:
            raise ValueError(f"losses: expected {k} task losses ({', '.join(self.tasks)}), got {len(separate)}")
        for name, loss in zip(self.tasks, separate):
            if not isinstance(loss, Tensor) or loss.numel() != 1:
                raise ValueError(f'task "{name}": its loss must be a scalar tensor')
            if not loss.requires_grad:
                raise ValueError(
                    f'task "{name}": its loss does not depend on the shared parameters (it requires no grad)'
                )
        return torch.stack([loss.reshape(()) for loss in separate]), separate

    def _check_dependencies(self, roots: list[Tensor], lookups: list[list[Any]], tasks: Iterable[int]) -> None:
        """A loss that cannot reach the shared parameters is a configuration error, not a zero
        gradient: name the task."""
        leaves = self._dense + [t.module.weight for t in self._tables if t.shared]
        nodes = [l.rows.grad_fn for t, ls in zip(self._tables, lookups) if t.shared for l in ls]
        for t in tasks:
            if not reaches(roots[t], leaves, nodes):
                raise ValueError(self._unreached_message(t))

    def _unreached_message(self, t: int) -> str:
        return (
            f'task "{self.tasks[t]}": its loss does not depend on the shared parameters '
            "(check `shared`, and that the loss is not computed from detached outputs)"
        )

    def backward(self, losses: Sequence[Tensor] | Tensor) -> BalanceReport:
        """Computes the per-task gradients, balances them and adds the result to ``.grad``.

        A non-finite loss or gradient skips the step (every ``.grad`` set to None so that the
        optimizer moves nothing, the strategy state untouched) and the report names the task; a
        loss that does not depend on the shared parameters raises ValueError naming the task.
        """
        k = len(self.tasks)
        stacked, roots = self._stack_losses(losses)
        lookups = [table.take() for table in self._tables]
        dense, others, tables, stacked = self._task_gradients(stacked, roots, lookups)
        blocks = [g.reshape(k, -1) for _, g in dense] + [t.row_gradients() for t in tables if t.table.shared]
        if not blocks:
            raise ValueError("no task loss depends on the shared parameters (check `shared`)")
        matrix = torch.cat(blocks, dim=1) if len(blocks) > 1 else blocks[0]
        if matrix.dtype in (torch.float16, torch.bfloat16):
            # Half-precision gradients: their squared norms overflow or lose the small entries.
            matrix = matrix.float()
        gram = matrix @ matrix.T
        own = _own_squares(k, others, tables, gram)

        # The step's one copy from the device.
        packed = torch.cat([gram.reshape(-1), stacked.detach().to(gram.dtype), own])
        values = packed.to(device="cpu", dtype=torch.float64).numpy()
        host_gram = values[: k * k].reshape(k, k).copy()
        loss_values = values[k * k : k * k + k].copy()
        self._step += 1

        problem = self._non_finite(host_gram, loss_values, values[k * k + k :])
        if problem is not None:
            task, reason = problem
            # None, not zero: an optimizer then moves nothing (Adam would move a zero gradient's
            # weight by its momentum).
            for p in self._managed():
                p.grad = None
            return BalanceReport(
                self._step, loss_values, host_gram, np.zeros(k), None, None, ("non-finite",), reason, task
            )
        if roots is not None and not self._boundary_used:
            # The batched pass cannot tell a zero gradient from a loss that never reaches the
            # shared parameters: the graph can.
            vanished = [t for t in range(k) if host_gram[t, t] == 0]
            if vanished:
                self._check_dependencies(roots, lookups, vanished)

        result = self._strategy.step(host_gram, loss_values, self._step, self._params, self._state)
        self._state = result.state
        self._apply(result, matrix, dense, others, tables)
        return BalanceReport(
            self._step, loss_values, host_gram, result.weights, result.tower_weights, result.projection, result.flags
        )

    def _task_gradients(
        self, stacked: Tensor, roots: list[Tensor] | None, lookups: list[list[Lookup]]
    ) -> tuple[list[tuple[Tensor, Tensor]], list[tuple[Tensor, list[Tensor | None]]], list[TableGradients], Tensor]:
        """The per-task gradients (split pass when shared modules were cut, else the batched
        pass), of the global batch under torch.distributed; and the losses, likewise."""
        k = len(self.tasks)
        cuts = self._boundary.take()
        self._boundary_used = bool(cuts)
        log = self._strategy.loss_transform == "log"
        target = torch.log(stacked + 1e-8) if log else stacked
        if cuts:
            separate = (
                [target[t] for t in range(k)]
                if roots is None
                else [torch.log(loss.reshape(()) + 1e-8) if log else loss.reshape(()) for loss in roots]
            )
            self._boundary.balancing = True
            try:
                grads = self._split(separate, self._dense, self._others, lookups, cuts)
            finally:
                self._boundary.balancing = False
            if grads.unreached:
                raise ValueError(self._unreached_message(grads.unreached[0]))
        else:
            if roots is not None and not self._dependencies_checked:
                self._check_dependencies(roots, lookups, range(k))
                self._dependencies_checked = True
            grads = batched_pass(target, self._dense, self._others, lookups)
        tables = [table_gradients(t, ls, rows, k) for t, ls, rows in zip(self._tables, lookups, grads.rows)]
        if self._reducer is None:
            return grads.dense, grads.others, tables, stacked
        dense, others, stacked, tables = self._reducer.global_batch(
            k, self._dense, grads.dense, grads.others, stacked, tables
        )
        return dense, others, tables, stacked

    def _apply(
        self,
        result: StrategyResult,
        matrix: Tensor,
        dense: list[tuple[Tensor, Tensor]],
        others: list[tuple[Tensor, list[Tensor | None]]],
        tables: list[TableGradients],
    ) -> None:
        """Adds Σ α_t g_t to the shared parameters' ``.grad`` (one product over the stacked
        gradients) and each task's own gradient, times its tower weight, to the other ones'."""
        k = len(self.tasks)
        alpha = _upload(result.weights, matrix)
        tower = (
            torch.ones(k, dtype=matrix.dtype, device=matrix.device)
            if result.tower_weights is None
            else _upload(result.tower_weights, matrix)
        )
        if dense:
            width = sum(g[0].numel() for _, g in dense)
            update = alpha @ matrix[:, :width]
            offset = 0
            for p, g in dense:
                n = g[0].numel()
                _add_grad(p, update[offset : offset + n].view_as(p))
                offset += n
        for table in tables:
            table.apply(alpha if table.table.shared else tower)
        for p, per_task in others:
            owner = self._owner.get(id(p))
            terms = [(t, g) for t, g in enumerate(per_task) if g is not None and (owner is None or t == owner)]
            if terms:
                _add_grad(p, sum((tower[t] * g for t, g in terms[1:]), tower[terms[0][0]] * terms[0][1]))

    def _managed(self) -> list[Tensor]:
        return [*self._dense, *self._others, *(t.module.weight for t in self._tables)]

    def _non_finite(self, gram: np.ndarray, losses: np.ndarray, own: np.ndarray) -> tuple[int | None, str] | None:
        for t, name in enumerate(self.tasks):
            if not np.isfinite(losses[t]):
                return t, f'task "{name}": its loss is not finite ({losses[t]}): step skipped'
        for values, which in ((np.diag(gram), "the shared parameters"), (own, "its own parameters")):
            bad = [t for t in range(len(self.tasks)) if not np.isfinite(values[t])]
            if len(bad) == len(self.tasks) and len(bad) > 1:
                # A non-finite value in one task's backward pass (e.g. 0·inf) spreads to every task
                # of the batched pass, so the culprit cannot be told apart.
                return None, f"every task's gradient of {which} is not finite ({', '.join(self.tasks)}): step skipped"
            if bad:
                names = ", ".join(f'"{self.tasks[t]}"' for t in bad)
                return bad[0], f"task {names}: its gradient of {which} is not finite: step skipped"
        if not np.isfinite(gram).all():
            i = int(np.argwhere(~np.isfinite(gram))[0][0])
            return i, f'task "{self.tasks[i]}": its gradient gives a non-finite Gram entry: step skipped'
        return None


def _own_squares(
    k: int, others: list[tuple[Tensor, list[Tensor | None]]], tables: list[TableGradients], like: Tensor
) -> Tensor:
    """Per task, the squared norm of its gradient on the task-specific parameters (checked for
    non-finite values with the Gram matrix, in the same copy)."""
    terms: list[list[Tensor]] = [[] for _ in range(k)]
    for _, per_task in others:
        for t, g in enumerate(per_task):
            if g is not None:
                terms[t].append(g.square().sum())
    for table in tables:
        if not table.table.shared:
            for t in range(k):
                terms[t].append(table.positions[t].square().sum())
    zero = torch.zeros((), dtype=like.dtype, device=like.device)
    return torch.stack([torch.stack(ts).sum().to(like.dtype) if ts else zero for ts in terms])


def _upload(values: np.ndarray, like: Tensor) -> Tensor:
    """Host weights onto the device without waiting for it: from pinned memory, asynchronously (a
    plain copy from pageable memory would synchronise the stream)."""
    host = torch.from_numpy(np.ascontiguousarray(values)).to(like.dtype)
    if like.device.type != "cuda":
        return host.to(like.device)
    return host.pin_memory().to(like.device, non_blocking=True)


def _add_grad(p: Tensor, grad: Tensor) -> None:
    """Accumulates into ``.grad`` as ``Tensor.backward`` does."""
    grad = grad.to(p.dtype)
    if p.grad is None:
        p.grad = grad
    else:
        p.grad.add_(grad)
