"""Gram matrices of task gradients: formed (for gradient rows on the host) and checked."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray


def gram_matrix(rows: Sequence[ArrayLike] | NDArray[np.floating]) -> NDArray[np.float64]:
    """K×K Gram matrix ``G[i, j] = g_i·g_j`` of K gradient rows, every entry correctly rounded.

    Strategies on nearly collinear gradients square the conditioning, so each dot product is
    summed exactly (``math.fsum`` of float64 products; products of float32 inputs are exact).
    """
    matrix = np.asarray(rows, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0:
        raise ValueError(f"gradient rows must be a non-empty K×D array, got shape {matrix.shape}")
    k = matrix.shape[0]
    gram = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            gram[i, j] = gram[j, i] = math.fsum(matrix[i] * matrix[j])
    return gram


def check_gram(gram: ArrayLike, who: str = "strategy") -> NDArray[np.float64]:
    """The Gram matrix as a float64 K×K array; a clear ValueError for a wrong shape or a
    non-finite entry, naming the task whose gradient produced it (a NaN or infinite gradient
    poisons its row and column), as assertFiniteGram in src/core/linalg/gram.ts.
    """
    matrix = np.array(gram, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1] or matrix.shape[0] < 1:
        raise ValueError(f"{who}: the Gram matrix must be K×K with K >= 1, got shape {matrix.shape}")
    finite = np.isfinite(matrix)
    if not finite.all():
        i, j = (int(x) for x in np.argwhere(~finite)[0])
        # Name the task whose own entry is bad when there is one: it is the culprit.
        culprit = j if finite[i, i] and not finite[j, j] else i
        raise ValueError(
            f"{who}: the gradient of task {culprit} gives a non-finite Gram entry G[{i}][{j}] = "
            f"{matrix[i, j]} (NaN or infinite gradient values?)"
        )
    return matrix
