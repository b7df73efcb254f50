"""What the sequential one-vs-one projections share (PCGrad, PCGrad+, GradVac): in Gram space the
projected gradient pc_i is a coefficient vector c (pc_i = Σ_t c_t g_t) kept beside h = Gc, so that
pc_i·g_t = h_t for every t without a D-sized vector. Each method visits the other gradients in a
seeded random order (the project's generator, identical in both languages) or a replayed one.
"""

from __future__ import annotations

from collections.abc import Sequence

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
