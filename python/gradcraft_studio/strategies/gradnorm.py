"""GradNorm (Chen et al., ICML 2018). Learned task weights w_t (start 1) multiply the task losses;
each step they move by one optimizer step down the gradient of
L_grad = Σ_t |w_t‖g_t‖ − mean_j(w_j‖g_j‖)·r_t^α| (target held constant), r_t = L̃_t/mean(L̃),
L̃_t = L_t/L_t(0), and are renormalised to sum K. Norms come from the Gram diagonal. The step
returns the weights it started from, as a joint optimizer step would.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._optimizer import fresh_moments, optimizer_step
from .base import Strategy, StrategyResult

#: Floor for a learned weight before renormalising: a weight never reaches 0 or below.
_MIN_WEIGHT = 1e-6


def _init(k: int, params: dict[str, Any]) -> dict[str, Any]:
    return {"weights": [1.0] * k, "initialLosses": None, "moments": fresh_moments(k)}


def _sign(x: float) -> float:
    return 1.0 if x > 0 else -1.0 if x < 0 else 0.0


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    current = state["weights"]
    if len(current) != k:
        raise ValueError(f"gradnorm: state holds {len(current)} tasks, not {k}")
    initial = state["initialLosses"]
    if initial is None:
        initial = [float(params["initialLoss"])] * k if params.get("initialLoss") is not None else [float(x) for x in losses]
    # Relative inverse training rates r_t (1 where a ratio is undefined).
    ratios = [float(losses[t]) / initial[t] if initial[t] > 0 else 1.0 for t in range(k)]
    ratio_mean = 0.0
    for r in ratios:
        ratio_mean += r / k
    norms = [math.sqrt(max(0.0, gram[t, t])) for t in range(k)]
    weighted = [current[t] * norms[t] for t in range(k)]
    average_norm = 0.0
    for value in weighted:
        average_norm += value / k
    gradient = []
    for t in range(k):
        relative = max(0.0, ratios[t] / ratio_mean) if ratio_mean > 0 else 1.0
        target = average_norm * relative ** params["alpha"]
        gradient.append(_sign(weighted[t] - target) * norms[t])
    following, moments = optimizer_step(params["optimizer"], params["lr"], current, gradient, state["moments"])
    floored = [max(w, _MIN_WEIGHT) for w in following]
    total = 0.0
    for w in floored:
        total += w
    weights = np.array(current, dtype=np.float64)
    return StrategyResult(
        weights=weights,
        tower_weights=weights.copy(),
        state={"weights": [k * w / total for w in floored], "initialLosses": initial, "moments": moments},
    )


gradnorm = Strategy("gradnorm", _step, _init)
