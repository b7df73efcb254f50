"""min over the simplex (w >= 0, Σ w = 1) of f(w) = aᵀw + c·√(wᵀGw + δ), G positive semi-definite:
CAGrad's inner problem (Liu et al., NeurIPS 2021), by the active-set Newton method of
src/core/linalg/simplex.ts (Newton on the face, Armijo backtracking, steepest descent within the
face when the Newton model fails, coordinates released at the boundary and re-entering by their
reduced gradient).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .eigen import symmetric_eigen
from .solve import solve_psd


@dataclass(frozen=True)
class SimplexSolveResult:
    weights: NDArray[np.float64]
    value: float
    iterations: int
    #: True when the KKT conditions hold at the returned point (within rounding).
    converged: bool


def minimize_linear_plus_norm_on_simplex(
    gram: NDArray[np.float64],
    a: NDArray[np.float64],
    c: float,
    delta: float,
    max_iterations: int = 200,
) -> SimplexSolveResult:
    k = gram.shape[0]
    w = np.full(k, 1 / k)
    if k == 1:
        return SimplexSolveResult(w, float(a[0] + c * math.sqrt(max(0.0, gram[0, 0]) + delta)), 0, True)
    free = np.ones(k, dtype=bool)
    scale = float(max(np.abs(np.diag(gram)).max(), np.abs(a).max()))
    if scale == 0:
        scale = 1.0

    def objective(x: NDArray[np.float64]) -> float:
        quad = float(x @ gram @ x)
        return float(a @ x) + c * math.sqrt(max(0.0, quad) + delta)

    value = objective(w)
    grad = np.zeros(k)

    def line_search(direction: NDArray[np.float64]) -> bool:
        """Armijo backtracking from min(1, step to the boundary); progress means a strict
        decrease or reaching the boundary (the face changes)."""
        nonlocal value, w
        slope = float(grad @ direction)
        if not slope < 0:
            return False
        max_step = math.inf
        blocking = -1
        for i in range(k):
            if free[i] and direction[i] < 0:
                limit = w[i] / -direction[i]
                if limit < max_step:
                    max_step = limit
                    blocking = i
        alpha = min(1.0, max_step)
        for _ in range(60):
            at_boundary = alpha == max_step and blocking >= 0
            trial = np.maximum(0.0, w + alpha * direction)
            if at_boundary:
                trial[blocking] = 0
            following = objective(trial)
            if following <= value + 1e-4 * alpha * slope or (at_boundary and following <= value):
                if not following < value and not at_boundary:
                    return False
                value = following
                w = trial
                if at_boundary:
                    free[blocking] = False
                # Re-normalise against drift of the sum constraint.
                w = w / w.sum()
                return True
            alpha *= 0.5
        return False

    def full_step(direction: NDArray[np.float64]) -> bool:
        """The whole step, clipped at the boundary; progress while it still moves w."""
        nonlocal value, w
        size = 0.0
        alpha = 1.0
        blocking = -1
        for i in range(k):
            size = max(size, abs(direction[i]))
            if free[i] and direction[i] < 0 and w[i] / -direction[i] < alpha:
                alpha = w[i] / -direction[i]
                blocking = i
        if not size * alpha > 1e-16:
            return False
        w = np.maximum(0.0, w + alpha * direction)
        if blocking >= 0:
            w[blocking] = 0
            free[blocking] = False
        w = w / w.sum()
        value = objective(w)
        return True

    converged = False
    iterations = 0
    while iterations < max_iterations:
        # Gradient a + c·Gw/s and Hessian c·(G/s − (Gw)(Gw)ᵀ/s³).
        gw = gram @ w
        quad = float(w @ gw)
        s = math.sqrt(max(0.0, quad) + delta)
        grad[:] = a + c * gw / s
        # The gradient's own rounding level: c·Gw/s amplifies rounding when s is small.
        noise = 1e-12 * (scale + c * scale / s)
        face = [i for i in range(k) if free[i]]
        # Anchor: the face coordinate with the largest weight; it absorbs the sum constraint.
        anchor = face[0]
        for i in face:
            if w[i] > w[anchor]:
                anchor = i
        face_gradient = max(abs(grad[i] - grad[anchor]) for i in face)
        progress = False
        if face_gradient > noise:
            newton = _newton_direction(gram, c, s, gw, grad, face, anchor, scale)
            decrement = -float(sum(grad[i] * newton[i] for i in face))
            # Near the optimum f cannot resolve its own decrease: Newton's local quadratic
            # convergence is trusted and the full step is taken.
            if 0 < decrement <= 1e-9 * abs(value):
                progress = full_step(newton)
            else:
                progress = line_search(newton)
            if not progress:
                # Steepest descent within the face: −(grad_i − mean over the face).
                mean = sum(grad[i] for i in face) / len(face)
                steepest = np.zeros(k)
                for i in face:
                    steepest[i] = -(grad[i] - mean)
                progress = line_search(steepest)
        if progress:
            iterations += 1
            continue
        # Face optimum (or no representable progress within it): test the coordinates at zero.
        mu = grad[anchor]
        entering = -1
        most = -noise
        for i in range(k):
            if free[i]:
                continue
            reduced_gradient = grad[i] - mu
            if reduced_gradient < most:
                most = reduced_gradient
                entering = i
        if entering < 0:
            converged = True
            break
        free[entering] = True
        iterations += 1
    return SimplexSolveResult(w, value, iterations, converged)


def _newton_direction(
    gram: NDArray[np.float64],
    c: float,
    s: float,
    gw: NDArray[np.float64],
    grad: NDArray[np.float64],
    face: list[int],
    anchor: int,
    scale: float,
) -> NDArray[np.float64]:
    """Newton direction on the face: coordinates ``face`` except the anchor move freely, the anchor
    takes minus their sum. Pivoted Cholesky first; a (numerically) singular reduced Hessian falls
    back to the eigendecomposition: Newton on the curved directions, and along flat ones (where f
    is linear) a steepest-descent step of length 2 that the line search clips.
    """
    k = gram.shape[0]
    out = np.zeros(k)
    others = [i for i in face if i != anchor]
    m = len(others)
    if m == 0:
        return out

    def hess(i: int, j: int) -> float:
        return c * (gram[i, j] / s - (gw[i] * gw[j]) / (s * s * s))

    reduced = np.zeros((m, m))
    rhs = np.zeros(m)
    haa = hess(anchor, anchor)
    for x, i in enumerate(others):
        rhs[x] = -(grad[i] - grad[anchor])
        hia = hess(i, anchor)
        for y, j in enumerate(others):
            reduced[x, y] = hess(i, j) - hia - hess(anchor, j) + haa
    cholesky = solve_psd(reduced, rhs, 1e-10)
    step = cholesky.x if cholesky.rank == m else _flat_aware_step(reduced, rhs, 1e-14 * scale)
    out[others] = step
    out[anchor] = -float(step.sum())
    return out


def _flat_aware_step(hessian: NDArray[np.float64], rhs: NDArray[np.float64], negligible: float) -> NDArray[np.float64]:
    """Pseudo-Newton step of a singular PSD system, with steepest descent along its null space."""
    eigen = symmetric_eigen(hessian)
    values, vectors = eigen.values, eigen.vectors
    curvature_floor = 1e-12 * max(values[0], 0.0)
    step = np.zeros(rhs.size)
    for e in range(values.size):
        projection = float(vectors[:, e] @ rhs)
        if values[e] > curvature_floor and values[e] > 0:
            length = projection / values[e]
        elif abs(projection) > negligible:
            length = 2.0 * math.copysign(1.0, projection)
        else:
            continue
        step += length * vectors[:, e]
    return step
