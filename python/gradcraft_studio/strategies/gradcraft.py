"""GradCraft (Bai et al., "GradCraft: Elevating Multi-task Recommendations through Holistic Gradient
Crafting", KDD 2024), exactly as the official code computes it
(solvers/global_pc_grad_magnitude_positive.py, b = 0):

1. magnitude: ĝ_t = s_t·g_t with s_t = τ·max(n)/n_t + (1 − τ), n_t = ‖g_t‖;
2. direction, for each task i independently against the unprojected set {ĝ}: with
   C_i = {j : ĝ_i·ĝ_j < 0}, solve Ĝ_CC w = ε‖ĝ_i‖[‖ĝ_j‖]_C − [ĝ_j·ĝ_i]_C and set
   p_i = ĝ_i + Σ_C w_j ĝ_j, so that p_i·ĝ_j = ε‖ĝ_i‖‖ĝ_j‖ for every j in C_i;
3. the update is the mean of the p_i.

In Gram space α_j = s_j·(1/K)·Σ_i C_ij with C the projection coefficients (docs/strategies.md).
"local" is the paper's one-vs-one ablation: the conflicting tasks are handled one at a time.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..linalg.solve import solve_psd
from .base import ProjectionStats, Strategy, StrategyResult

#: A gradient this many times smaller than the largest one has vanished: rescaling it would blow
#: float32 rounding noise (the Gram matrix is float32 on the device) up to the largest norm.
VANISHED_NORM_RATIO = 1e-10


def magnitude_scales(gram: NDArray[np.float64], tau: float) -> tuple[NDArray[np.float64], int]:
    """Scale factors s_t = τ·max(n)/n_t + (1 − τ) and the number of zero tasks. A zero (or
    vanished) gradient cannot be rescaled: its factor is 1 (the official code divides by zero)."""
    norms = np.sqrt(np.maximum(0.0, np.diag(gram)))
    max_norm = float(norms.max())
    scales = np.ones(gram.shape[0])
    alive = norms > max_norm * VANISHED_NORM_RATIO
    scales[alive] = tau * max_norm / norms[alive] + (1 - tau)
    return scales, int((~alive).sum())


def scaled_gram(gram: NDArray[np.float64], scales: NDArray[np.float64]) -> NDArray[np.float64]:
    """Ĝ_ij = s_i s_j G_ij."""
    return scales[:, None] * scales[None, :] * gram


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    scales, zero_tasks = magnitude_scales(gram, params["tau"])
    g = scaled_gram(gram, scales)
    norms = np.sqrt(np.maximum(0.0, np.diag(g)))
    eps = params["eps"]
    # coefficients[j] accumulates Σ_i (coefficient of ĝ_j in p_i).
    coefficients = np.ones(k)
    conflict_set_size = [0] * k
    correction_norm = [0.0] * k
    singular = False
    for i in range(k):
        conflict = [j for j in range(k) if g[i, j] < 0]
        conflict_set_size[i] = len(conflict)
        if not conflict:
            continue
        block = g[np.ix_(conflict, conflict)]
        if params["projection"] == "global":
            rhs = eps * norms[i] * norms[conflict] - g[conflict, i]
            solved = solve_psd(block, rhs)
            if solved.rank < len(conflict):
                singular = True
            correction = solved.x
        else:
            correction = _local_correction(g, i, conflict, norms, eps)
        coefficients[conflict] += correction
        # ‖p_i − ĝ_i‖² = wᵀ Ĝ_CC w.
        correction_norm[i] = math.sqrt(max(0.0, float(correction @ block @ correction)))
    flags: list[str] = []
    if zero_tasks > 0:
        flags.append("zero-gradient")
    if singular:
        flags.append("singular-conflict-system")
    return StrategyResult(
        weights=scales * coefficients / k,
        state=state,
        projection=ProjectionStats(conflict_set_size, correction_norm, [float(s) for s in scales]),
        flags=tuple(flags),
    )


def _local_correction(
    g: NDArray[np.float64], i: int, conflict: list[int], norms: NDArray[np.float64], eps: float
) -> NDArray[np.float64]:
    """One-vs-one: p starts at ĝ_i and, for each initially conflicting j in index order, moves along
    ĝ_j onto the target plane p·ĝ_j = ε‖ĝ_i‖‖ĝ_j‖ when below it. Coefficients of ĝ_j, j in C_i."""
    correction = np.zeros(len(conflict))
    # h_j = p·ĝ_j, kept up to date as p changes.
    h = g[i].copy()
    for x, j in enumerate(conflict):
        target = eps * norms[i] * norms[j]
        squared = g[j, j]
        if not h[j] < target or not squared > 0:
            continue
        w = (target - h[j]) / squared
        correction[x] += w
        h += w * g[j]
    return correction


gradcraft = Strategy("gradcraft", _step)
