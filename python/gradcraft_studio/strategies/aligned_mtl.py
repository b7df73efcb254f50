"""Aligned-MTL (Senushkin et al., "Independent Component Alignment for Multi-Task Learning", CVPR
2023), as LibMTL: eigendecomposition G = VΛVᵀ, keep the eigenpairs with λ > max(λ)·K·ε_float64,
B = √λ_min·V diag(λ^-1/2) Vᵀ over the kept pairs, α = column sums of B.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..linalg.eigen import symmetric_eigen
from .base import Strategy, StrategyResult


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    eigen = symmetric_eigen(gram)
    values, vectors = eigen.values, eigen.vectors
    cut = values[0] * k * np.finfo(np.float64).eps
    rank = 0
    while rank < k and values[rank] > cut:
        rank += 1
    flags: list[str] = []
    if not (np.diag(gram) > 0).all():
        flags.append("zero-gradient")
    if rank == 0:
        # Every gradient is zero: any weights give the zero update; report the mean.
        return StrategyResult(weights=np.full(k, 1 / k), state=state, flags=tuple(flags))
    if rank < k:
        flags.append("rank-deficient")
    smallest = math.sqrt(values[rank - 1])
    # α_j = √λ_min Σ_e V_je λ_e^-1/2 (Σ_i V_ie).
    weights = np.zeros(k)
    for e in range(rank):
        weights += smallest * float(vectors[:, e].sum()) / math.sqrt(values[e]) * vectors[:, e]
    return StrategyResult(weights=weights, state=state, flags=tuple(flags))


aligned_mtl = Strategy("aligned-mtl", _step)
