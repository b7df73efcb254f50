"""Gradient Vaccine (Wang et al., "Gradient Vaccine: Investigating and Improving Multi-task
Optimization in Massively Multilingual Models", ICLR 2021), as LibMTL for the whole shared model
(group_type 0): for task i and every other task j in a seeded random order,
ρ = pc_i·g_j/(‖pc_i‖‖g_j‖ + 1e-8); when ρ < ρ̂_ij, pc_i += g_j·‖pc_i‖(ρ̂√(1−ρ²) − ρ√(1−ρ̂²))
/(‖g_j‖√(1−ρ̂²) + 1e-8); then ρ̂_ij ← (1−β)ρ̂_ij + βρ. The update is the SUM of the pc_i
(LibMTL). State: the K×K targets ρ̂ (row-major list, start 0) and the generator.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._projection import ProjectedGradient, check_orders, visiting_order
from .base import ProjectionStats, Strategy, StrategyResult


def _init(k: int, params: dict[str, Any]) -> dict[str, Any]:
    return {"targets": [0.0] * (k * k), "rng": params["seed"] & 0xFFFFFFFF}


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    if len(state["targets"]) != k * k:
        raise ValueError(f"gradvac: state holds {len(state['targets'])} targets, expected {k}×{k}")
    orders = params.get("orders")
    if orders is not None:
        check_orders("gradvac", k, orders, True)
    targets = [float(x) for x in state["targets"]]
    rng = int(state["rng"]) & 0xFFFFFFFF
    beta = params["beta"]
    norms = np.sqrt(np.maximum(0.0, np.diag(gram)))
    zero_tasks = int((~(norms > 0)).sum())
    weights = np.zeros(k)
    conflict_set_size = [0] * k
    correction_norm = [0.0] * k
    for i in range(k):
        order, rng = visiting_order(i, k, orders, rng, True)
        pc = ProjectedGradient(gram, i)
        for j in order:
            pc_norm = math.sqrt(max(0.0, pc.squared_norm()))
            rho = pc.h[j] / (pc_norm * norms[j] + 1e-8)
            target = targets[i * k + j]
            if rho < target:
                w = (
                    pc_norm
                    * (target * math.sqrt(max(0.0, 1 - rho * rho)) - rho * math.sqrt(max(0.0, 1 - target * target)))
                ) / (norms[j] * math.sqrt(max(0.0, 1 - target * target)) + 1e-8)
                pc.move_along(j, w)
                conflict_set_size[i] += 1
            targets[i * k + j] = (1 - beta) * target + beta * float(rho)
        # j = i is never visited, so c_i stays 1 and this is the norm of the added part.
        correction_norm[i] = pc.correction_norm()
        weights += pc.c
    return StrategyResult(
        weights=weights,
        state={"targets": targets, "rng": rng},
        projection=ProjectionStats(conflict_set_size, correction_norm, [1.0] * k),
        flags=("zero-gradient",) if zero_tasks > 0 else (),
    )


gradvac = Strategy("gradvac", _step, _init)
