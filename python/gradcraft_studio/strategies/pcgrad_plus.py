"""PCGrad+ (the GradCraft paper's baseline, official solvers/pc_grad_magnitude_positive.py):
GradCraft's magnitude step (ĝ_t = s_t g_t), then PCGrad's sequential one-vs-one projection on the
rescaled gradients in a seeded random order, with a positive target: whenever pc_i·ĝ_j < 0, pc_i
moves along ĝ_j until pc_i·ĝ_j = ε‖pc_i‖‖ĝ_j‖. Mean reduction. (The official code subtracts the
scalar ε‖g_j‖‖g_i‖ from every coordinate of g_i; the target is applied along ĝ_j here, as the
paper describes and Gram space can express: docs/strategies.md.)
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._projection import ProjectedGradient, check_orders, visiting_order
from .base import ProjectionStats, Strategy, StrategyResult
from .gradcraft import magnitude_scales, scaled_gram
from .pcgrad import seeded_state


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    orders = params.get("orders")
    if orders is not None:
        check_orders("pcgrad-plus", k, orders, False)
    rng = int(state["rng"]) & 0xFFFFFFFF
    scales, zero_tasks = magnitude_scales(gram, params["tau"])
    g = scaled_gram(gram, scales)
    coefficients = np.zeros(k)
    conflict_set_size = [0] * k
    correction_norm = [0.0] * k
    for i in range(k):
        order, rng = visiting_order(i, k, orders, rng, False)
        pc = ProjectedGradient(g, i)
        for j in order:
            dot = pc.h[j]
            squared = g[j, j]
            if not dot < 0 or not squared > 0:
                continue
            target = params["eps"] * math.sqrt(max(0.0, pc.squared_norm())) * math.sqrt(squared)
            pc.move_along(j, (target - dot) / squared)
            conflict_set_size[i] += 1
        correction_norm[i] = pc.correction_norm()
        coefficients += pc.c
    return StrategyResult(
        weights=scales * coefficients / k,
        state={"rng": rng},
        projection=ProjectionStats(conflict_set_size, correction_norm, [float(s) for s in scales]),
        flags=("zero-gradient",) if zero_tasks > 0 else (),
    )


pcgrad_plus = Strategy("pcgrad-plus", _step, seeded_state)
