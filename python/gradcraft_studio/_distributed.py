"""Balancing on the global batch under torch.distributed.

The Balancer does what DistributedDataParallel does for gradients, but per task and before
balancing: every rank's per-task gradients are averaged over the group (one all-reduce of one flat
buffer, the K losses riding along), and every embedding table's looked-up rows and their per-task
gradients are gathered from all ranks (different ranks look up different rows). Each rank then
holds the global batch's per-task gradients, forms the same Gram matrix, gets the same weights and
applies the same update, so the replicas stay equal without DDP's own gradient hooks.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor, nn

from ._lookups import TableGradients


def default_group(process_group: Any) -> Any:
    """The group to balance over: the one given, else the default group when torch.distributed is
    initialised with more than one process, else None (one process)."""
    if process_group is not None:
        return process_group
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist.group.WORLD
    return None


class Reducer:
    def __init__(self, group: Any) -> None:
        self.group = group
        self.world = dist.get_world_size(group)
        # The group's first rank, by its global rank (public in torch >= 2.0).
        global_rank = getattr(dist, "get_global_rank", None) or dist.distributed_c10d._get_global_rank
        self.source = 0 if group is dist.group.WORLD else global_rank(group, 0)

    def broadcast_model(self, model: nn.Module) -> None:
        """Every rank starts from the first rank's parameters and buffers, as DDP's constructor does."""
        with torch.no_grad():
            for tensor in [*model.parameters(), *model.buffers()]:
                dist.broadcast(tensor, src=self.source, group=self.group)

    def global_batch(
        self,
        k: int,
        dense_params: list[Tensor],
        dense: list[tuple[Tensor, Tensor]],
        others: list[tuple[Tensor, list[Tensor | None]]],
        losses: Tensor,
        tables: list[TableGradients],
    ) -> tuple[list[tuple[Tensor, Tensor]], list[tuple[Tensor, list[Tensor | None]]], Tensor, list[TableGradients]]:
        """This rank's per-task gradients and losses turned into the global batch's. Every rank
        contributes to every buffer: what no local loss reached counts as zeros."""
        local = {id(p): g for p, g in dense}

        def full(p: Tensor, g: Tensor | None) -> Tensor:
            return torch.zeros((k, *p.shape), dtype=p.dtype, device=p.device) if g is None else g

        stacked_others = [
            full(p, None if all(g is None for g in per_task) else torch.stack([torch.zeros_like(p) if g is None else g for g in per_task]))
            for p, per_task in others
        ]
        averaged, losses = self.mean(k, [full(p, local.get(id(p))) for p in dense_params] + stacked_others, losses)
        nd = len(dense_params)
        return (
            list(zip(dense_params, averaged[:nd])),
            [(p, list(g.unbind(0))) for (p, _), g in zip(others, averaged[nd:])],
            losses,
            self.gather(tables),
        )

    def mean(self, k: int, grads: list[Tensor], losses: Tensor) -> tuple[list[Tensor], Tensor]:
        """The per-task gradients (each K × shape) and the K losses averaged over the ranks, in one
        all-reduce; returns views of one buffer."""
        dtype = grads[0].dtype if grads else losses.dtype
        flat = torch.cat([g.reshape(-1) for g in grads] + [losses.detach().to(dtype).reshape(-1)])
        dist.all_reduce(flat, group=self.group)
        flat.div_(self.world)
        out = []
        offset = 0
        for g in grads:
            out.append(flat[offset : offset + g.numel()].view(g.shape))
            offset += g.numel()
        return out, flat[offset:]

    def gather(self, tables: list[TableGradients]) -> list[TableGradients]:
        """Every table's ids and per-task position gradients from all ranks (averaged over ranks).
        Ranks may look up different numbers of rows: the counts are exchanged first (read on the
        host to size the buffers: the only other host read, and only with tables under
        torch.distributed) and shorter ones padded with zero gradients."""
        if not tables:
            return tables
        device = tables[0].ids.device
        local = torch.tensor([t.ids.numel() for t in tables], dtype=torch.long, device=device)
        counts = [torch.empty_like(local) for _ in range(self.world)]
        dist.all_gather(counts, local, group=self.group)
        largest = torch.stack(counts).max(0).values.tolist()
        out = []
        for table, n in zip(tables, largest):
            k, have, dim = table.positions.shape
            ids = torch.zeros(n, dtype=table.ids.dtype, device=device)
            ids[:have] = table.ids
            positions = torch.zeros(k, n, dim, dtype=table.positions.dtype, device=device)
            positions[:, :have] = table.positions
            all_ids = [torch.empty_like(ids) for _ in range(self.world)]
            all_positions = [torch.empty_like(positions) for _ in range(self.world)]
            dist.all_gather(all_ids, ids, group=self.group)
            dist.all_gather(all_positions, positions, group=self.group)
            out.append(TableGradients(table.table, torch.cat(all_ids), torch.cat(all_positions, dim=1) / self.world))
        return out
