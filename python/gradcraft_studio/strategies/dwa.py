"""Dynamic Weight Average (Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention",
CVPR 2019), as LibMTL: with w_t = L̄_t(e−1)/L̄_t(e−2), the weights are K·softmax(w/T) (towers too);
before two "epochs" are complete every weight is 1. An epoch is a window of ``window`` steps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .base import Strategy, StrategyResult


def _init(k: int, params: dict[str, Any]) -> dict[str, Any]:
    return {"windowSum": [0.0] * k, "windowSteps": 0, "lastAverage": None, "previousAverage": None}


def _loss_ratio(last: float, previous: float) -> float:
    """L̄(e−1)/L̄(e−2), never a division by zero: two zeros count as steady (1), a rise from exactly
    0 gets the cap, as does any ratio beyond ±1e6."""
    if previous == 0:
        return 1.0 if last == 0 else 1e6
    return min(1e6, max(-1e6, last / previous))


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    if len(state["windowSum"]) != k:
        raise ValueError(f"dwa: state holds {len(state['windowSum'])} tasks, not {k}")
    weights = np.ones(k)
    last, previous = state["lastAverage"], state["previousAverage"]
    if last is not None and previous is not None:
        scores = [_loss_ratio(last[t], previous[t]) / params["temperature"] for t in range(k)]
        largest = max(scores)
        # Softmax shifted by its largest score: exp never overflows.
        exps = [math.exp(s - largest) for s in scores]
        total = sum(exps)
        weights = np.array([k * e / total for e in exps])
    window_sum = [total_t + float(losses[t]) for t, total_t in enumerate(state["windowSum"])]
    window_steps = int(state["windowSteps"]) + 1
    if window_steps >= params["window"]:
        following = {
            "windowSum": [0.0] * k,
            "windowSteps": 0,
            "lastAverage": [s / window_steps for s in window_sum],
            "previousAverage": last,
        }
    else:
        following = {**state, "windowSum": window_sum, "windowSteps": window_steps}
    return StrategyResult(weights=weights, tower_weights=weights.copy(), state=following)


dwa = Strategy("dwa", _step, _init)
