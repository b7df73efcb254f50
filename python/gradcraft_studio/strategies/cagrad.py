"""CAGrad (Liu et al., "Conflict-Averse Gradient Descent for Multi-task Learning", NeurIPS 2021),
with LibMTL's conventions: c' = c·√(mean(G) + 1e-8) + 1e-8;
w = argmin over the simplex of wᵀG·(1/K) + c'·√(wᵀGw + 1e-8) (solved to optimality, where LibMTL
stops SLSQP at its default tolerance); update = mean(g) + c'/(‖g_w‖ + 1e-8)·g_w, divided by 1 + c²
(rescale 1), 1 + c (rescale 2) or not at all (rescale 0). Weights α_t = (1/K + λ w_t)/rescale.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..linalg.simplex import minimize_linear_plus_norm_on_simplex
from .base import Strategy, StrategyResult


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    c = params["c"]
    radius = c * math.sqrt(max(0.0, float(gram.sum()) / (k * k) + 1e-8)) + 1e-8
    linear = gram.sum(axis=1) / k
    solved = minimize_linear_plus_norm_on_simplex(gram, linear, radius, 1e-8)
    w = solved.weights
    lam = radius / (math.sqrt(max(0.0, float(w @ gram @ w))) + 1e-8)
    rescale = params["rescale"]
    divisor = 1 + c * c if rescale == 1 else 1 + c if rescale == 2 else 1
    flags: list[str] = []
    if not (np.diag(gram) > 0).all():
        flags.append("zero-gradient")
    if not solved.converged:
        flags.append("solver-not-converged")
    return StrategyResult(weights=(1 / k + lam * w) / divisor, state=state, flags=tuple(flags))


cagrad = Strategy("cagrad", _step)
