"""Symmetric eigendecomposition by the cyclic Jacobi method (float64), as src/core/linalg/eigen.ts.
For K <= 32 it is simple, always converges and, with the relative stopping rule below, keeps the
small eigenvalues of a positive semi-definite Gram matrix accurate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

_MAX_SWEEPS = 60


@dataclass(frozen=True)
class SymmetricEigen:
    #: Eigenvalues in descending order.
    values: NDArray[np.float64]
    #: Column j is the unit eigenvector of values[j].
    vectors: NDArray[np.float64]
    sweeps: int


def symmetric_eigen(a: ArrayLike) -> SymmetricEigen:
    """Eigenvalues and eigenvectors of the symmetric matrix ``a`` (not modified)."""
    m = np.array(a, dtype=np.float64)
    n = m.shape[0]
    # Symmetrise against rounding in the caller's matrix: Jacobi assumes exact symmetry.
    m = 0.5 * (m + m.T)
    v = np.eye(n)
    sweeps = 0
    while sweeps < _MAX_SWEEPS:
        rotated = False
        for p in range(n - 1):
            for q in range(p + 1, n):
                apq = m[p, q]
                if apq == 0:
                    continue
                app = m[p, p]
                aqq = m[q, q]
                # Relative rule (Demmel–Veselić): an entry negligible against its diagonal pair is
                # dropped; this keeps tiny eigenvalues accurate to working precision.
                if abs(apq) <= 1e-17 * math.sqrt(abs(app * aqq)) or abs(apq) < 1e-300:
                    m[p, q] = m[q, p] = 0.0
                    continue
                rotated = True
                theta = (aqq - app) / (2 * apq)
                if abs(theta) > 1e150:
                    t = 0.5 / theta
                else:
                    t = (1.0 if theta >= 0 else -1.0) / (abs(theta) + math.sqrt(theta * theta + 1))
                c = 1 / math.sqrt(t * t + 1)
                s = t * c
                tau = s / (1 + c)
                m[p, p] = app - t * apq
                m[q, q] = aqq + t * apq
                m[p, q] = m[q, p] = 0.0
                others = [r for r in range(n) if r != p and r != q]
                arp = m[others, p].copy()
                arq = m[others, q].copy()
                new_rp = arp - s * (arq + tau * arp)
                new_rq = arq + s * (arp - tau * arq)
                m[others, p] = new_rp
                m[p, others] = new_rp
                m[others, q] = new_rq
                m[q, others] = new_rq
                vrp = v[:, p].copy()
                vrq = v[:, q].copy()
                v[:, p] = vrp - s * (vrq + tau * vrp)
                v[:, q] = vrq + s * (vrp - tau * vrq)
        if not rotated:
            break
        sweeps += 1
    diagonal = np.diag(m).copy()
    # Stable descending sort, as Array.prototype.sort with (i, j) => d[j] - d[i].
    order = sorted(range(n), key=lambda i: -diagonal[i])
    return SymmetricEigen(diagonal[order], v[:, order], sweeps)


def pseudo_inverse_solve(a: ArrayLike, b: ArrayLike, tolerance: float = 1e-12) -> tuple[NDArray[np.float64], int]:
    """x = A⁺b for a symmetric A through its eigendecomposition, discarding eigenvalues with
    |λ| <= tolerance · max|λ|. Returns the solution and the rank kept.
    """
    eigen = symmetric_eigen(a)
    rhs = np.asarray(b, dtype=np.float64)
    values, vectors = eigen.values, eigen.vectors
    max_abs = float(np.abs(values).max()) if values.size else 0.0
    x = np.zeros(values.size)
    rank = 0
    for j in range(values.size):
        if not abs(values[j]) > tolerance * max_abs:
            continue
        rank += 1
        x += (vectors[:, j] @ rhs) / values[j] * vectors[:, j]
    return x, rank
