"""Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018), in LibMTL's form: learned
log-variances s_t and the objective Σ_t ½·exp(−s_t)·L_t + ½·s_t. The task weight is ½·exp(−s_t),
applied to the whole task loss (shared and tower gradients) and summed over tasks. Each step
returns the weights of the current s, then takes one optimizer step on s with
∂/∂s_t = ½(1 − exp(−s_t)·L_t); s stays within ±logVarianceBound.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._optimizer import fresh_moments, optimizer_step
from .base import Strategy, StrategyResult


def _init(k: int, params: dict[str, Any]) -> dict[str, Any]:
    return {"logVariance": [float(params["initialLogVariance"])] * k, "moments": fresh_moments(k)}


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    log_variance = state["logVariance"]
    if len(log_variance) != k:
        raise ValueError(f"uw: state holds {len(log_variance)} log-variances for {k} tasks")
    weights = np.zeros(k)
    gradient = []
    for t in range(k):
        precision = math.exp(-log_variance[t])
        weights[t] = 0.5 * precision
        gradient.append(0.5 * (1 - precision * float(losses[t])))
    following, moments = optimizer_step(params["optimizer"], params["lr"], log_variance, gradient, state["moments"])
    bound = params["logVarianceBound"]
    return StrategyResult(
        weights=weights,
        tower_weights=weights.copy(),
        state={"logVariance": [min(bound, max(-bound, s)) for s in following], "moments": moments},
    )


uw = Strategy("uw", _step, _init)
