"""What the sequential one-vs-one projections share (PCGrad, PCGrad+, GradVac): in Gram space the
projected gradient pc_i is a coefficient vector c (pc_i = Σ_t c_t g_t) kept beside h = Gc, so that
pc_i·g_t = h_t for every t without a D-sized vector. Each method visits the other gradients in a
seeded random order (the project's generator, identical in both languages) or a replayed one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..random import next_random


def shuffle_in_place(items: list[int], state: int) -> int:
    """Fisher–Yates shuffle with the seeded generator; returns the generator's new state."""
    s = state
    for i in range(len(items) - 1, 0, -1):
        value, s = next_random(s)
        j = int(value * (i + 1))
        items[i], items[j] = items[j], items[i]
    return s


def check_orders(who: str, k: int, orders: Sequence[Sequence[int]], exclude_self: bool) -> None:
    """Replayed visiting orders: one list per task, each a permutation of the allowed indices
    (every task, or every other task when ``exclude_self``)."""
    if len(orders) != k:
        raise ValueError(f'{who}: "orders" has {len(orders)} lists, expected one per task ({k})')
    for i, order in enumerate(orders):
        expected = k - 1 if exclude_self else k
        valid = (
            len(order) == expected
            and len(set(order)) == expected
            and all(0 <= j < k and not (exclude_self and j == i) for j in order)
        )
        if not valid:
            allowed = f"other than {i}" if exclude_self else f"0..{k - 1}"
            listed = ", ".join(str(j) for j in order)
            raise ValueError(f"{who}: orders[{i}] = [{listed}] must be a permutation of the task indices {allowed}")


def visiting_order(
    i: int, k: int, orders: Sequence[Sequence[int]] | None, rng: int, exclude_self: bool
) -> tuple[list[int], int]:
    """Task i's visiting order (the replayed list when ``orders`` is given, else every task, or
    every other task, shuffled) and the generator's new state."""
    if orders is not None:
        return list(orders[i]), rng
    order = [j for j in range(k) if not (exclude_self and j == i)]
    return order, shuffle_in_place(order, rng)


class ProjectedGradient:
    """pc_i as coefficients c over the task gradients (pc_i = Σ_t c_t g_t), starting at g_i, with
    h = Gc kept beside them so that pc_i·g_t = h_t."""

    def __init__(self, gram: NDArray[np.float64], i: int) -> None:
        self.gram = gram
        self.i = i
        self.c = np.zeros(gram.shape[0])
        self.c[i] = 1
        self.h = gram[i].copy()

    def move_along(self, j: int, w: float) -> None:
        """pc_i += w·g_j."""
        self.c[j] += w
        self.h += w * self.gram[j]

    def squared_norm(self) -> float:
        """‖pc_i‖² = cᵀGc = c·h."""
        return float(self.c @ self.h)

    def correction_norm(self) -> float:
        """‖pc_i − g_i‖ = √(δᵀGδ) with δ = c − e_i."""
        delta = self.c.copy()
        delta[self.i] -= 1
        return math.sqrt(max(0.0, float(delta @ self.gram @ delta)))
