"""MGDA (Désidéri 2012; Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization",
NeurIPS 2018): the update is the minimum-norm point of the convex hull of the task gradients,
solved EXACTLY (Wolfe's active-set method on the Gram matrix) rather than with the peers'
Frank–Wolfe loop. Like LibMTL the update is Σ w_t ĝ_t with the simplex weights w (no rescaling);
``normalization: "l2"`` first divides each gradient by its norm (LibMTL's mgda_gn='l2').
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..linalg.minnorm import min_norm_point
from .base import Strategy, StrategyResult


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    norms = np.sqrt(np.maximum(0.0, np.diag(gram)))
    alive = norms > 0
    scales = np.ones(k)
    # A zero gradient stays zero under normalisation (LibMTL divides 0 by 0).
    if params["normalization"] == "l2":
        scales[alive] = 1 / norms[alive]
    g = scales[:, None] * scales[None, :] * gram if params["normalization"] == "l2" else gram
    solution = min_norm_point(g)
    flags: list[str] = []
    if not alive.all():
        flags.append("zero-gradient")
    if solution.norm_squared <= 1e-20 * float(np.diag(g).max(initial=0.0)):
        flags.append("pareto-stationary")
    return StrategyResult(weights=solution.weights * scales, state=state, flags=tuple(flags))


mgda = Strategy("mgda", _step)
