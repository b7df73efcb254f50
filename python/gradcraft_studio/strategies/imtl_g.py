"""IMTL-G, the gradient part of IMTL (Liu et al., "Towards Impartial Multi-task Learning", ICLR
2021): the update u = Σ α_t g_t with Σ α = 1 has the same projection on every unit gradient
u_t = g_t/‖g_t‖. As LibMTL computes it: D = g_1 − g_{2..K}, U = u_1 − u_{2..K},
a = g_1 Uᵀ (D Uᵀ)⁻¹, α = [1 − Σa, a], every product a Gram entry divided by norms. Where the peer
returns NaN: zero-gradient tasks get weight 0; a singular D Uᵀ falls back to α ∝ G⁺n (TorchJD's
formulation of the same condition), flagged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..linalg.eigen import pseudo_inverse_solve
from ..linalg.solve import solve_general
from .base import Strategy, StrategyResult


def _step(gram: NDArray[np.float64], losses: NDArray[np.float64], step: int, params: dict[str, Any], state: Any) -> StrategyResult:
    k = gram.shape[0]
    norms = np.sqrt(np.maximum(0.0, np.diag(gram)))
    active = [t for t in range(k) if norms[t] > 0]
    flags: list[str] = ["zero-gradient"] if len(active) < k else []
    weights = np.zeros(k)
    if not active:
        return StrategyResult(weights=np.full(k, 1 / k), state=state, flags=tuple(flags))
    if len(active) == 1:
        weights[active[0]] = 1
        return StrategyResult(weights=weights, state=state, flags=tuple(flags))
    first, rest = active[0], active[1:]
    m = len(rest)
    # Solve (D Uᵀ)ᵀ aᵀ = (g_1 Uᵀ)ᵀ, with (D Uᵀ)[x][y] = (g_1 − g_x)·(u_1 − u_y) stored transposed.
    g11 = gram[first, first] / norms[first]
    system = np.zeros((m, m))
    rhs = np.zeros(m)
    for x, tx in enumerate(rest):
        rhs[x] = g11 - gram[first, tx] / norms[tx]
        for y, ty in enumerate(rest):
            system[y, x] = g11 - gram[first, ty] / norms[ty] - gram[tx, first] / norms[first] + gram[tx, ty] / norms[ty]
    solved = solve_general(system, rhs, 1e-13)
    if solved.rank == m:
        weights[rest] = solved.x
        weights[first] = 1 - float(solved.x.sum())
        return StrategyResult(weights=weights, state=state, flags=tuple(flags))
    flags.append("singular-conflict-system")
    solution, _ = pseudo_inverse_solve(gram[np.ix_(active, active)], norms[active])
    total = float(solution.sum())
    weights[active] = solution / total if abs(total) > 1e-300 else 1 / len(active)
    return StrategyResult(weights=weights, state=state, flags=tuple(flags))


imtl_g = Strategy("imtl-g", _step)
