"""UPGrad (Quinton & Rey, "Jacobian Descent for Multi-Objective Optimization", 2024; TorchJD's
``UPGrad`` with its default mean preference). Each task gradient g_i is projected onto the dual
cone {v : v·g_j >= 0 for all j} and the projections are averaged. In Gram space the projection of
Jᵀu is Jᵀw with w = argmin_{w >= u} wᵀGw; writing w = u + λ gives a non-negative QP, solved exactly
by an active-set method. As TorchJD, G is first divided by its trace (0 below ``normEps``) and
``regEps``·I is added.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..linalg.nnls import cholesky_factor_in_place, cholesky_solve_factored, solve_nonnegative_qp
from .base import ProjectionStats, Strategy, StrategyResult


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    trace = float(np.trace(gram))
    scale = 1 / trace if trace >= params["normEps"] and trace > 0 else 0.0
    hessian = gram * scale
    hessian[np.diag_indices(k)] += params["regEps"]
    weights = np.full(k, 1 / k)
    # Support guesses: with every other constraint active the projection weights of g_i are
    # H⁻¹e_i/(H⁻¹)_ii, so the positive entries of column i of H⁻¹ are a good first support.
    inverse = _inverse(hessian)
    conflict_set_size = [0] * k
    correction_norm = [0.0] * k
    flags: list[str] = ["gram-below-norm-eps"] if scale == 0 else []
    for i in range(k):
        # For u = e_i the linear term is column i of the Hessian; a row with no negative entry is
        # already in the dual cone (λ = 0 is optimal), which skips the solver in the common case.
        linear = hessian[:, i].copy()
        if not bool((linear < 0).any()):
            continue
        guess = [j for j in range(k) if j != i and inverse[j, i] > 0]
        solution = solve_nonnegative_qp(hessian, linear, 1e-12, 3 * k + 10, guess)
        if solution.capped:
            flags.append("iteration-cap")
        if solution.raised_pivots > 0:
            flags.append("singular-conflict-system")
        conflict_set_size[i] = len(solution.active)
        # By homogeneity the solution for u = e_i/K is λ/K.
        weights[solution.active] += solution.x[solution.active] / k
        # ‖Jᵀλ‖ in the caller's units: the raw Gram matrix, not the normalised one.
        lam = solution.x[solution.active]
        correction_norm[i] = math.sqrt(max(0.0, float(lam @ gram[np.ix_(solution.active, solution.active)] @ lam)))
    return StrategyResult(
        weights=weights,
        state=state,
        projection=ProjectionStats(conflict_set_size, correction_norm, [1.0] * k),
        flags=tuple(dict.fromkeys(flags)),
    )


def _inverse(hessian: NDArray[np.float64]) -> NDArray[np.float64]:
    """H⁻¹ of a symmetric positive definite matrix, column by column."""
    k = hessian.shape[0]
    factor = hessian.copy()
    cholesky_factor_in_place(factor)
    inverse = np.zeros((k, k))
    for i in range(k):
        column = np.zeros(k)
        column[i] = 1
        cholesky_solve_factored(factor, column)
        inverse[:, i] = column
    return inverse


upgrad = Strategy("upgrad", _step)
