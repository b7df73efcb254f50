"""Diagnostics of one step, all from the Gram matrix and the weights (no D-sized vector), as
src/core/diagnostics.ts: norms √G_tt, cosines G_ij/(n_i n_j), the update's norm √(αᵀGα) and its
cosine with each task (Gα)_t/(n_t‖u‖)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class StepDiagnostics:
    #: ‖g_t‖ = √G_tt.
    norms: list[float]
    #: K×K cosines; 0 where a norm is 0; diagonal 1 (0 for a zero task).
    cosines: list[list[float]]
    #: Unordered pairs i < j with G_ij < 0.
    conflicting_pairs: int
    #: ‖u‖ = √(αᵀGα).
    update_norm: float
    #: cos(u, g_t); 0 where undefined.
    update_cosines: list[float]
    #: Some task with a non-zero gradient has a negative inner product with the update.
    conflicts_with_update: bool


def diagnose(gram: ArrayLike, weights: ArrayLike) -> StepDiagnostics:
    g = np.asarray(gram, dtype=np.float64)
    alpha = np.asarray(weights, dtype=np.float64)
    k = g.shape[0]
    norms = np.sqrt(np.maximum(0.0, np.diag(g)))
    denominator = np.outer(norms, norms)
    with np.errstate(divide="ignore", invalid="ignore"):
        cosines = np.where(denominator > 0, np.clip(g / np.where(denominator > 0, denominator, 1), -1, 1), 0.0)
    conflicting_pairs = int((np.triu(g, 1) < 0).sum())
    g_alpha = g @ alpha
    update_norm = math.sqrt(max(0.0, float(alpha @ g_alpha)))
    update_cosines = [0.0] * k
    conflicts = False
    for t in range(k):
        d = norms[t] * update_norm
        update_cosines[t] = float(min(1.0, max(-1.0, g_alpha[t] / d))) if d > 0 else 0.0
        if norms[t] > 0 and update_norm > 0 and g_alpha[t] < -1e-12 * d:
            conflicts = True
    return StepDiagnostics(
        norms=[float(n) for n in norms],
        cosines=cosines.tolist(),
        conflicting_pairs=conflicting_pairs,
        update_norm=update_norm,
        update_cosines=update_cosines,
        conflicts_with_update=conflicts,
    )
