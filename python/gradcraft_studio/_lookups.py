"""Embedding tables without dense per-task gradients.

A forward hook records each lookup of an ``nn.Embedding`` (its ids and its output rows). The
per-task gradients are taken with respect to those output rows (K × positions × dim), never the
table: the table's gradient for task t is the scatter of its rows' gradients, so the Gram matrix
only needs the rows a batch looked up, summed per distinct id. The combined update is scattered
into the table once, as ``nn.Embedding``'s own backward does.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn


@dataclass
class Lookup:
    ids: Tensor
    rows: Tensor


@dataclass
class EmbeddingTable:
    module: nn.Embedding
    #: True for a table of the shared parameters (balanced); False for a task-specific one.
    shared: bool
    lookups: list[Lookup] = field(default_factory=list)

    def record(self, module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        # Lookups without a graph (evaluation under no_grad, frozen tables) are never balanced.
        if torch.is_grad_enabled() and output.requires_grad:
            self.lookups.append(Lookup(inputs[0], output))

    def take(self) -> list[Lookup]:
        taken, self.lookups = self.lookups, []
        return taken


@dataclass
class TableGradients:
    """One table's gradients for a step: per-task gradients of every looked-up position."""

    table: EmbeddingTable
    #: Ids of every position, flattened (N).
    ids: Tensor
    #: Per-task gradients of the looked-up rows, K × N × dim (padding masked, frequency-scaled).
    positions: Tensor

    def row_gradients(self) -> Tensor:
        """K × (N·dim): per-task gradients of the distinct rows (duplicates summed), zero-padded to
        N rows. Equal ids are grouped through a sort, so nothing waits for the device."""
        k, n, dim = self.positions.shape
        slots = row_slots(self.ids)
        rows = torch.zeros_like(self.positions).index_add_(1, slots, self.positions)
        return rows.reshape(k, n * dim)

    def apply(self, weights: Tensor) -> None:
        """Adds Σ_t weights[t]·(task t's table gradient) to the table's ``.grad`` (sparse for a
        sparse table, as nn.Embedding's backward)."""
        weight = self.table.module.weight
        if self.ids.numel() == 0:
            return
        combined = torch.tensordot(weights.to(self.positions.dtype), self.positions, dims=1)
        if self.table.module.sparse:
            grad = _unchecked_sparse(self.ids.unsqueeze(0), combined, weight.shape)
        else:
            grad = torch.zeros_like(weight).index_add_(0, self.ids, combined)
        weight.grad = grad if weight.grad is None else weight.grad + grad


def row_slots(ids: Tensor) -> Tensor:
    """For each position, the index of its id among the distinct ids (0..U−1), without the host:
    ``torch.unique`` would wait for the device to size its output."""
    ordered, order = torch.sort(ids)
    starts = torch.ones_like(ordered, dtype=torch.long)
    starts[1:] = (ordered[1:] != ordered[:-1]).long()
    slots = torch.empty_like(ids)
    slots[order] = torch.cumsum(starts, 0) - 1
    return slots


def table_gradients(table: EmbeddingTable, lookups: list[Lookup], grads: list[Tensor | None], k: int) -> TableGradients:
    """Gathers one table's lookups and their batched gradients (None where no loss used a lookup);
    no rows at all when none was used."""
    used = [(lookup, g) for lookup, g in zip(lookups, grads) if g is not None]
    dim = table.module.embedding_dim
    weight = table.module.weight
    if not used:
        empty = torch.zeros(k, 0, dim, dtype=weight.dtype, device=weight.device)
        return TableGradients(table, torch.zeros(0, dtype=torch.long, device=weight.device), empty)
    ids = torch.cat([lookup.ids.reshape(-1) for lookup, _ in used])
    positions = torch.cat([g.reshape(k, -1, dim) for _, g in used], dim=1)
    module = table.module
    if module.padding_idx is not None:
        # nn.Embedding never trains its padding row.
        positions = positions * (ids != module.padding_idx).to(positions.dtype)[None, :, None]
    if module.scale_grad_by_freq:
        slots = row_slots(ids)
        counts = torch.zeros(ids.numel(), dtype=positions.dtype, device=ids.device)
        counts.index_add_(0, slots, torch.ones_like(counts))
        positions = positions / counts[slots][None, :, None]
    return TableGradients(table, ids, positions)


def _unchecked_sparse(indices: Tensor, values: Tensor, size: torch.Size) -> Tensor:
    """A sparse COO tensor without the index check: the ids come from the lookup itself, so they
    are in range, and the check would read their maximum back from the device."""
    try:
        return torch.sparse_coo_tensor(indices, values, size, check_invariants=False)  # type: ignore[call-arg]
    except TypeError:  # torch 1.13
        return torch._sparse_coo_tensor_unsafe(indices, values, list(size))
