"""Nash-MTL (Navon et al., "Multi-Task Learning as a Bargaining Game", ICML 2022). The weights solve
the bargaining equation Gα = 1/α (α > 0), found exactly as the minimiser of the strictly convex
½yᵀCy − Σ log y on the cosine matrix C (y_t = ‖g_t‖α_t) by damped Newton steps, with a tiny ridge
removed again by a polishing run. As the official code and LibMTL: the previous α is the warm start,
``updateWeightsEvery`` reuses the last α in between, the shared update is clipped to ``maxNorm`` and
the towers get the unclipped α.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..linalg.nnls import cholesky_solve_in_place
from .base import Strategy, StrategyResult

#: Ridge added to the cosine matrix (unit diagonal). It only matters when a non-negative combination
#: of the gradients vanishes (e.g. g_2 = −g_1), where the equation has no solution: the weights
#: then grow to about 1/√ridge along that combination and stay finite.
_RIDGE = 1e-8


def _init(k: int, params: dict[str, Any]) -> dict[str, Any]:
    return {"alpha": None, "calls": 0}


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    flags: list[str] = []
    previous = state["alpha"]
    reuse = previous is not None and len(previous) == k and state["calls"] % params["updateWeightsEvery"] != 0
    alpha = np.array(previous, dtype=np.float64) if reuse else _solve_bargaining(gram, previous, params["maxIterations"], flags)
    # Shared update: clip ‖Σ α_t g_t‖ to maxNorm (official: clip_grad_norm_ on shared parameters).
    update_norm = math.sqrt(max(0.0, float(alpha @ gram @ alpha)))
    max_norm = params["maxNorm"]
    clip = max_norm / update_norm if max_norm > 0 and update_norm > max_norm else 1.0
    # A task left out of the bargaining (zero shared gradient) keeps its tower trained at 1.
    tower_weights = np.where(alpha > 0, alpha, 1.0)
    return StrategyResult(
        weights=alpha * clip,
        tower_weights=tower_weights,
        state={"alpha": [float(a) for a in alpha], "calls": int(state["calls"]) + 1},
        flags=tuple(dict.fromkeys(flags)),
    )


def _solve_bargaining(
    gram: NDArray[np.float64], warm: list[float] | None, max_iterations: int, flags: list[str]
) -> NDArray[np.float64]:
    k = gram.shape[0]
    max_diagonal = float(np.diag(gram).max(initial=0.0))
    # Tasks with no shared gradient cannot bargain (α_t·0 = 1 has no solution): weight 0.
    members = [t for t in range(k) if gram[t, t] > 1e-16 * max_diagonal and gram[t, t] > 0]
    alpha = np.zeros(k)
    if len(members) < k:
        flags.append("zero-gradient")
    n = len(members)
    if n == 0:
        return alpha
    # The equation is invariant under diagonal scaling: y = n∘α solves C y = 1/y on the cosine
    # matrix, which keeps tasks of very different norms equally well conditioned.
    norms = np.sqrt(np.array([gram[t, t] for t in members]))
    h = gram[np.ix_(members, members)] / np.outer(norms, norms)
    np.fill_diagonal(h, 1 + _RIDGE)
    usable = warm is not None and len(warm) == k
    x = np.ones(n)
    for a, t in enumerate(members):
        start = warm[t] * norms[a] if usable and warm is not None else 0.0
        # Without a usable warm start: the solution for mutually orthogonal gradients.
        x[a] = start if start > 0 and math.isfinite(start) else 1.0
    if not _minimise_barrier(h, x, max_iterations):
        flags.append("iteration-cap")
    # The ridge biases the answer by about RIDGE relative: polish on the exact equation. Where no
    # exact solution exists Newton runs off instead of converging and the ridge's answer stays.
    h[np.diag_indices(n)] -= _RIDGE
    polished = x.copy()
    if _minimise_barrier(h, polished, 8) and bool(np.all(np.isfinite(polished) & (polished > 0))):
        x = polished
    else:
        flags.append("singular-gram")
    alpha[members] = x / norms
    return alpha


def _minimise_barrier(h: NDArray[np.float64], x: NDArray[np.float64], max_iterations: int) -> bool:
    """Damped Newton on ½ xᵀHx − Σ log x from x > 0, in place. True when the Newton decrement
    reached rounding level."""
    n = x.size
    for _ in range(max_iterations):
        residual = h @ x - 1 / x
        hessian = h.copy()
        hessian[np.diag_indices(n)] += 1 / (x * x)
        direction = -residual
        cholesky_solve_in_place(hessian, direction)
        decrement = -float(residual @ direction)
        # λ²/2 bounds f − f* near the optimum: stop when it is at rounding level.
        if not decrement > 1e-20 * n:
            return True
        # Stay inside x > 0. Near the optimum (the quadratic-convergence region of this
        # self-concordant function) take the full step; elsewhere backtrack (Armijo).
        step_size = 1.0
        for a in range(n):
            if direction[a] < 0:
                step_size = min(step_size, (-0.99 * x[a]) / direction[a])
        current = math.nan if decrement < 0.01 else _barrier_objective(h, x)
        trial = x
        for _ in range(60):
            trial = x + step_size * direction
            if math.isnan(current):
                break
            if _barrier_objective(h, trial) <= current - 0.25 * step_size * decrement:
                break
            step_size *= 0.5
        x[:] = trial
    return False


def _barrier_objective(h: NDArray[np.float64], x: NDArray[np.float64]) -> float:
    """½ xᵀHx − Σ log x: strictly convex on x > 0; its stationary point solves Hx = 1/x."""
    if not bool(np.all(x > 0)):
        return math.inf
    return float(0.5 * x @ h @ x - np.log(x).sum())


nash_mtl = Strategy("nash-mtl", _step, _init)
