"""PCGrad (Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020), as the GradCraft
repository's solvers/pc_grad.py (the paper's baseline): for each task i, pc_i starts at g_i and
visits the ORIGINAL gradients g_j in a shuffled order, j = i included; whenever pc_i·g_j < 0 it
removes that component, pc_i −= (pc_i·g_j)/(‖g_j‖² + δ)·g_j. The update is the mean of the pc_i
(``reduction: "sum"`` with ``denominatorEps: 1e-8`` is LibMTL's flavour).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._projection import ProjectedGradient, check_orders, visiting_order
from .base import ProjectionStats, Strategy, StrategyResult


def seeded_state(k: int, params: dict[str, Any]) -> dict[str, Any]:
    """{"rng": uint32}: the generator state, advanced once per shuffle."""
    return {"rng": params["seed"] & 0xFFFFFFFF}


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    orders = params.get("orders")
    if orders is not None:
        check_orders("pcgrad", k, orders, False)
    rng = int(state["rng"]) & 0xFFFFFFFF
    weights = np.zeros(k)
    conflict_set_size = [0] * k
    correction_norm = [0.0] * k
    zero_tasks = int((~(np.diag(gram) > 0)).sum())
    for i in range(k):
        order, rng = visiting_order(i, k, orders, rng, False)
        pc = ProjectedGradient(gram, i)
        for j in order:
            dot = pc.h[j]
            if not dot < 0:
                continue
            pc.move_along(j, -dot / (gram[j, j] + params["denominatorEps"]))
            conflict_set_size[i] += 1
        correction_norm[i] = pc.correction_norm()
        weights += pc.c
    if params["reduction"] == "mean":
        weights /= k
    return StrategyResult(
        weights=weights,
        state={"rng": rng},
        projection=ProjectionStats(conflict_set_size, correction_norm, [1.0] * k),
        flags=("zero-gradient",) if zero_tasks > 0 else (),
    )


pcgrad = Strategy("pcgrad", _step, seeded_state)
