"""Dense solvers for UPGrad's dual-cone projections and Nash-MTL's Newton steps, as
src/core/linalg/nnls.ts: a Cholesky solve that survives semi-definite input, and an exact
active-set solver for the non-negatively constrained quadratic programs that live in Gram space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


def cholesky_factor_in_place(a: NDArray[np.float64], floor: float = 1e-13) -> int:
    """Overwrites the lower triangle of A with L (A = LLᵀ); pivots below ``floor``·max|A_jj| are
    raised to it (a tiny ridge on a singular direction). Returns how many were raised."""
    n = a.shape[0]
    max_diagonal = float(np.abs(np.diag(a)).max()) if n else 0.0
    min_pivot = floor * (max_diagonal if max_diagonal > 0 else 1.0)
    raised = 0
    for j in range(n):
        diagonal = a[j, j] - float(a[j, :j] @ a[j, :j])
        if not diagonal > min_pivot:
            diagonal = min_pivot
            raised += 1
        pivot = math.sqrt(diagonal)
        a[j, j] = pivot
        if j + 1 < n:
            a[j + 1 :, j] = (a[j + 1 :, j] - a[j + 1 :, :j] @ a[j, :j]) / pivot
    return raised


def cholesky_solve_factored(l: NDArray[np.float64], b: NDArray[np.float64]) -> None:
    """Solves L Lᵀ x = b in place, L the lower triangle left by cholesky_factor_in_place."""
    n = l.shape[0]
    for i in range(n):
        b[i] = (b[i] - l[i, :i] @ b[:i]) / l[i, i]
    for i in range(n - 1, -1, -1):
        b[i] = (b[i] - l[i + 1 :, i] @ b[i + 1 :]) / l[i, i]


def cholesky_solve_in_place(a: NDArray[np.float64], b: NDArray[np.float64], floor: float = 1e-13) -> int:
    """Solves A x = b in place (A overwritten by its factor, b by x); returns the raised pivots."""
    raised = cholesky_factor_in_place(a, floor)
    cholesky_solve_factored(a, b)
    return raised


@dataclass(frozen=True)
class BoundedQpResult:
    #: The minimiser λ >= 0.
    x: NDArray[np.float64]
    #: Indices with λ_j > 0 at the solution (the constraints that bind in the primal).
    active: list[int]
    #: Outer iterations used (each adds one index).
    iterations: int
    #: True when the iteration cap stopped the solver before the optimality test passed.
    capped: bool
    #: Pivots raised in the sub-solves: the Hessian was (numerically) singular there.
    raised_pivots: int


def solve_nonnegative_qp(
    hessian: NDArray[np.float64],
    linear: NDArray[np.float64],
    tolerance: float = 1e-12,
    max_iterations: int | None = None,
    guess: Sequence[int] = (),
) -> BoundedQpResult:
    """Exact minimiser of ½ λᵀHλ + qᵀλ subject to λ >= 0 for a symmetric positive definite H:
    non-negative least squares on the normal equations (Lawson & Hanson 1974, ch. 23), with the
    Cholesky factor of the passive block grown one row per entering index and an optional guessed
    support to start from."""
    k = hessian.shape[0]
    if max_iterations is None:
        max_iterations = 3 * k + 10
    scale = max(float(np.abs(np.diag(hessian)).max()), float(np.abs(linear).max())) if k else 0.0
    threshold = tolerance * (scale if scale > 0 else 1.0)
    x = np.zeros(k)
    factor = _CholeskyRows(hessian)
    iterations = 0
    capped = False

    # Warm start: a guessed support whose sub-solve is positive is a feasible starting point with
    # exactly that passive set; the optimality test below confirms it or the iteration goes on.
    if guess:
        for i in guess:
            if not factor.has(i):
                factor.add(i)
        passive = list(factor.indices)
        work = -linear[passive]
        factor.solve(work)
        if all(value > 0 for value in work):
            x[passive] = work
        else:
            factor.remove(passive)

    while True:
        support = factor.indices
        gradient = linear + hessian[:, support] @ x[support]
        entering = -1
        most_negative = -threshold
        for i in range(k):
            if not factor.has(i) and gradient[i] < most_negative:
                most_negative = gradient[i]
                entering = i
        if entering < 0:
            break
        if iterations >= max_iterations:
            capped = True
            break
        iterations += 1
        factor.add(entering)

        # Inner loop: solve on the passive set, step back to feasibility while some λ_P <= 0.
        while True:
            passive = list(factor.indices)
            work = -linear[passive]
            factor.solve(work)
            if all(value > 0 for value in work):
                x[passive] = work
                break
            candidate = np.zeros(k)
            candidate[passive] = work
            # Largest step from x towards the candidate that keeps every passive λ non-negative.
            step = 1.0
            for i in passive:
                if not candidate[i] > 0:
                    denominator = x[i] - candidate[i]
                    ratio = x[i] / denominator if denominator > 0 else 0.0
                    if ratio < step:
                        step = ratio
            leaving = []
            for i in passive:
                x[i] += step * (candidate[i] - x[i])
                if x[i] <= threshold * 1e-3 or not (candidate[i] > 0 or x[i] > 0):
                    x[i] = 0
                    leaving.append(i)
            factor.remove(leaving)
            if not factor.indices:
                break
    active = [i for i in range(k) if x[i] > 0]
    return BoundedQpResult(x, active, iterations, capped, factor.raised_pivots)


class _CholeskyRows:
    """Cholesky factor L of H restricted to an ordered index set, grown row by row."""

    def __init__(self, hessian: NDArray[np.float64]) -> None:
        k = hessian.shape[0]
        self.hessian = hessian
        self.indices: list[int] = []
        self.raised_pivots = 0
        self._member = [False] * k
        self._lower = np.zeros((k, k))
        max_diagonal = float(np.abs(np.diag(hessian)).max()) if k else 0.0
        self._min_pivot = 1e-13 * (max_diagonal if max_diagonal > 0 else 1.0)

    def has(self, i: int) -> bool:
        return self._member[i]

    def add(self, j: int) -> None:
        """Appends index j: one forward substitution for the new row."""
        lower, indices = self._lower, self.indices
        p = len(indices)
        diagonal = float(self.hessian[j, j])
        for a in range(p):
            value = (self.hessian[indices[a], j] - lower[p, :a] @ lower[a, :a]) / lower[a, a]
            lower[p, a] = value
            diagonal -= value * value
        # A (numerically) dependent column: a tiny pivot acts as a ridge on that direction.
        if not diagonal > self._min_pivot:
            diagonal = self._min_pivot
            self.raised_pivots += 1
        lower[p, p] = math.sqrt(diagonal)
        indices.append(j)
        self._member[j] = True

    def remove(self, leaving: Sequence[int]) -> None:
        """Drops indices and refactors what remains (rare: only when a sub-solve left the cone)."""
        if not leaving:
            return
        for i in leaving:
            self._member[i] = False
        kept = [i for i in self.indices if self._member[i]]
        self.indices.clear()
        for i in kept:
            self._member[i] = False
            self.add(i)

    def solve(self, b: NDArray[np.float64]) -> None:
        """Solves H_PP z = b in place (b in passive order)."""
        lower = self._lower
        p = len(self.indices)
        for a in range(p):
            b[a] = (b[a] - lower[a, :a] @ b[:a]) / lower[a, a]
        for a in range(p - 1, -1, -1):
            b[a] = (b[a] - lower[a + 1 : p, a] @ b[a + 1 : p]) / lower[a, a]
