"""Exact minimum-norm point of the convex hull of K vectors from their Gram matrix (MGDA's
subproblem): min ‖Σ w_t g_t‖² over the simplex, by Wolfe's finite active-set method (P. Wolfe,
"Finding the nearest point in a polytope", Math. Programming 11, 1976), as
src/core/linalg/minnorm.ts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .solve import solve_general


@dataclass(frozen=True)
class MinNormResult:
    #: Simplex weights of the optimum (not unique when the hull's points are dependent).
    weights: NDArray[np.float64]
    #: ‖Σ w_t g_t‖².
    norm_squared: float
    #: Major iterations (points added).
    iterations: int


def min_norm_point(gram: NDArray[np.float64]) -> MinNormResult:
    k = gram.shape[0]
    weights = np.zeros(k)
    if k == 1:
        weights[0] = 1
        return MinNormResult(weights, max(0.0, float(gram[0, 0])), 0)
    max_diag = 0.0
    start = 0
    for t in range(k):
        max_diag = max(max_diag, gram[t, t])
        if gram[t, t] < gram[start, start]:
            start = t
    weights[start] = 1
    if max_diag <= 0:
        return MinNormResult(weights, 0.0, 0)
    support = [start]
    max_major = 10 * k + 20
    iterations = 0
    while iterations < max_major:
        gw = gram[:, support] @ weights[support]
        xx = float(weights[support] @ gw[support])
        entering = int(np.argmin(gw))
        best = gw[entering]
        # Wolfe's optimality test: no point is below the supporting hyperplane through x.
        if xx - best <= 1e-14 * max_diag or entering in support:
            break
        support.append(entering)
        weights[entering] = 0
        # Minor cycle: move to the affine minimiser of the corral, dropping points that leave it.
        for _ in range(k + 2):
            affine = _affine_minimiser(gram, support, max_diag)
            if all(affine[s] > 0 for s in support):
                weights[support] = affine[support]
                break
            # Largest step from w towards the affine minimiser that stays in the simplex.
            theta = 1.0
            for s in support:
                if affine[s] <= 0:
                    denominator = weights[s] - affine[s]
                    if denominator > 0:
                        theta = min(theta, weights[s] / denominator)
            for s in support:
                weights[s] = (1 - theta) * weights[s] + theta * affine[s]
            # Remove the points that reached zero (at least the one that set theta).
            removed = False
            for index in range(len(support) - 1, -1, -1):
                s = support[index]
                if weights[s] <= 1e-15 and len(support) > 1:
                    weights[s] = 0
                    del support[index]
                    removed = True
            if not removed:
                # Rounding prevented an exact zero: drop the smallest weight to guarantee progress.
                smallest = 0
                for index in range(1, len(support)):
                    if weights[support[index]] < weights[support[smallest]]:
                        smallest = index
                weights[support[smallest]] = 0
                del support[smallest]
            _normalise(weights, support)
        iterations += 1
    _normalise(weights, support)
    w = weights[support]
    norm_squared = float(w @ gram[np.ix_(support, support)] @ w)
    return MinNormResult(weights, max(0.0, norm_squared), iterations)


def _affine_minimiser(gram: NDArray[np.float64], support: list[int], scale: float) -> NDArray[np.float64]:
    """Weights v (Σ v = 1) of the point of minimum norm in the affine hull of the support: the
    bordered system [G_SS 1; 1ᵀ 0][v; μ] = [0; 1], with the border scaled to the Gram entries.
    """
    m = len(support)
    a = np.zeros((m + 1, m + 1))
    a[:m, :m] = gram[np.ix_(support, support)]
    a[:m, m] = scale
    a[m, :m] = scale
    b = np.zeros(m + 1)
    b[m] = scale
    x = solve_general(a, b, 1e-14).x
    out = np.zeros(gram.shape[0])
    out[support] = x[:m]
    return out


def _normalise(weights: NDArray[np.float64], support: list[int]) -> None:
    total = 0.0
    for s in support:
        if weights[s] < 0:
            weights[s] = 0
        total += weights[s]
    if total > 0:
        for s in support:
            weights[s] /= total
