"""DB-MTL, gradient part (Lin et al., "Dual-Balancing for Multi-Task Learning", 2023; LibMTL's
DB_MTL): the trainer differentiates log(L_t + 1e-8) (lossTransform "log"); each task's gradient is
rescaled to the largest (EMA) gradient norm and the results are SUMMED. Vectors cannot live in Gram
space, so the EMA is of the gradient NORMS ν_t (state) applied to the current direction:
α_t = max ν/(ν_t + 1e-8)·ν_t/‖g_t‖ — equal to LibMTL on the first step (docs/strategies.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from .base import Strategy, StrategyResult


def _init(k: int, params: dict[str, Any]) -> dict[str, Any]:
    return {"step": 0, "norms": [0.0] * k}


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    if len(state["norms"]) != k:
        raise ValueError(f"db-mtl: state holds {len(state['norms'])} norms, expected {k}")
    count = int(state["step"]) + 1
    rate = params["beta"] / count ** params["betaSigma"]
    current = np.sqrt(np.maximum(0.0, np.diag(gram)))
    norms = current + rate * (np.asarray(state["norms"], dtype=np.float64) - current)
    largest = max(0.0, float(norms.max()))
    weights = np.zeros(k)
    alive = current > 0
    weights[alive] = largest / (norms[alive] + 1e-8) * norms[alive] / current[alive]
    return StrategyResult(
        weights=weights,
        state={"step": count, "norms": [float(x) for x in norms]},
        flags=("zero-gradient",) if not alive.all() else (),
    )


db_mtl = Strategy("db-mtl", _step, _init)
