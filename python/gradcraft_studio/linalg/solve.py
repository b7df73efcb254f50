"""Small dense solves in float64 that never produce NaN on singular systems: they detect the
numerical rank and return a defined solution with it (src/core/linalg/solve.ts, line for line).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

#: Relative pivot size below which a matrix is treated as singular.
DEFAULT_RANK_TOLERANCE = 1e-12


@dataclass(frozen=True)
class SolveResult:
    x: NDArray[np.float64]
    #: Numerical rank found while factorising.
    rank: int


def solve_psd(a: ArrayLike, b: ArrayLike, tolerance: float = DEFAULT_RANK_TOLERANCE) -> SolveResult:
    """Solves A x = b for a symmetric positive semi-definite A (a Gram matrix) by Cholesky with
    diagonal pivoting. Pivots below ``tolerance · max diag(A)`` end the factorisation: x is the
    basic solution on the pivoted (linearly independent) rows, the rest 0.
    """
    l = np.array(a, dtype=np.float64)
    rhs = np.asarray(b, dtype=np.float64)
    n = l.shape[0]
    perm = list(range(n))
    max_diag = max((l[i, i] for i in range(n)), default=0.0)
    max_diag = max(max_diag, 0.0)
    threshold = tolerance * max_diag
    rank = 0
    for k in range(n):
        p = k
        for i in range(k + 1, n):
            if l[i, i] > l[p, p]:
                p = i
        if not (l[p, p] > threshold) or max_diag <= 0:
            break
        if p != k:
            l[[k, p], :] = l[[p, k], :]
            l[:, [k, p]] = l[:, [p, k]]
            perm[k], perm[p] = perm[p], perm[k]
        pivot = float(np.sqrt(l[k, k]))
        l[k, k] = pivot
        l[k + 1 :, k] /= pivot
        # Trailing update of the whole symmetric block: later pivots swap rows AND columns of it.
        column = l[k + 1 :, k]
        l[k + 1 :, k + 1 :] -= np.outer(column, column)
        rank = k + 1
    y = np.zeros(n)
    for i in range(rank):
        y[i] = (rhs[perm[i]] - l[i, :i] @ y[:i]) / l[i, i]
    for i in range(rank - 1, -1, -1):
        y[i] = (y[i] - l[i + 1 : rank, i] @ y[i + 1 : rank]) / l[i, i]
    x = np.zeros(n)
    for i in range(rank):
        x[perm[i]] = y[i]
    return SolveResult(x, rank)


def solve_general(a: ArrayLike, b: ArrayLike, tolerance: float = DEFAULT_RANK_TOLERANCE) -> SolveResult:
    """Solves A x = b for a general square A by LU with partial (row) pivoting. A column whose best
    pivot is below ``tolerance · max|A|`` is dependent: its unknown is 0 and the rank drops.
    """
    m = np.array(a, dtype=np.float64)
    rhs = np.array(b, dtype=np.float64)
    n = m.shape[0]
    max_abs = float(np.abs(m).max()) if n > 0 else 0.0
    threshold = tolerance * max_abs
    pivot_row = [-1] * n
    used = [False] * n
    rank = 0
    for c in range(n):
        p = -1
        best = threshold
        for r in range(n):
            if used[r]:
                continue
            v = abs(m[r, c])
            if v > best:
                best = v
                p = r
        if p < 0 or max_abs == 0:
            continue
        used[p] = True
        pivot_row[c] = p
        rank += 1
        pivot = m[p, c]
        for r in range(n):
            if used[r]:
                continue
            factor = m[r, c] / pivot
            if factor == 0:
                continue
            m[r, c:] -= factor * m[p, c:]
            rhs[r] -= factor * rhs[p]
    x = np.zeros(n)
    for c in range(n - 1, -1, -1):
        p = pivot_row[c]
        if p < 0:
            continue
        x[c] = (rhs[p] - m[p, c + 1 :] @ x[c + 1 :]) / m[p, c]
    return SolveResult(x, rank)
