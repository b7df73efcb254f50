/**
 * Small dense solvers for core-B's strategies (UPGrad's dual-cone projections, Nash-MTL's Newton
 * steps): a Cholesky solve that survives semi-definite input, and an exact active-set solver for
 * the non-negatively constrained quadratic programs that live in Gram space.
 */

/**
 * Solves A x = b in place for a symmetric positive (semi-)definite n×n A (row-major, overwritten
 * by its Cholesky factor) and b (overwritten by x). A pivot that falls below `floor` (relative to
 * the largest diagonal entry) is raised to it, which amounts to a tiny ridge on a singular
 * direction; returns the number of pivots raised so callers can flag a singular system.
 */
export function choleskySolveInPlace(n: number, a: Float64Array, b: Float64Array, floor = 1e-13): number {
  const raised = choleskyFactorInPlace(n, a, floor);
  choleskySolveFactored(n, a, b);
  return raised;
}

/** Overwrites the lower triangle of A with L (A = LLᵀ); pivots below `floor`·max|A_jj| are raised. */
export function choleskyFactorInPlace(n: number, a: Float64Array, floor = 1e-13): number {
  let maxDiagonal = 0;
  for (let i = 0; i < n; i++) maxDiagonal = Math.max(maxDiagonal, Math.abs(a[i * n + i]));
  const minPivot = floor * (maxDiagonal > 0 ? maxDiagonal : 1);
  let raised = 0;
  for (let j = 0; j < n; j++) {
    let diagonal = a[j * n + j];
    for (let p = 0; p < j; p++) diagonal -= a[j * n + p] * a[j * n + p];
    if (!(diagonal > minPivot)) {
      diagonal = minPivot;
      raised++;
    }
    const pivot = Math.sqrt(diagonal);
    a[j * n + j] = pivot;
    for (let i = j + 1; i < n; i++) {
      let sum = a[i * n + j];
      for (let p = 0; p < j; p++) sum -= a[i * n + p] * a[j * n + p];
      a[i * n + j] = sum / pivot;
    }
  }
  return raised;
}

/** Solves L Lᵀ x = b in place, L the lower triangle left by choleskyFactorInPlace. */
export function choleskySolveFactored(n: number, l: Float64Array, b: Float64Array): void {
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let p = 0; p < i; p++) sum -= l[i * n + p] * b[p];
    b[i] = sum / l[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i];
    for (let p = i + 1; p < n; p++) sum -= l[p * n + i] * b[p];
    b[i] = sum / l[i * n + i];
  }
}

export interface BoundedQpResult {
  /** The minimiser λ ≥ 0. */
  readonly x: Float64Array;
  /** Indices with λ_j > 0 at the solution (the constraints that bind in the primal). */
  readonly active: number[];
  /** Outer iterations used (each adds one index). */
  readonly iterations: number;
  /** True when the iteration cap stopped the solver before the optimality test passed. */
  readonly capped: boolean;
  /** Pivots raised in the sub-solves: the Hessian was (numerically) singular there. */
  readonly raisedPivots: number;
}

/**
 * Exact minimiser of ½ λᵀ H λ + qᵀ λ subject to λ ≥ 0, for a symmetric positive definite k×k
 * H (row-major). This is non-negative least squares written on the normal equations
 * (Lawson & Hanson 1974, ch. 23): H plays AᵀA and −q plays Aᵀb, so no D-sized matrix is needed.
 * An index enters the passive set when its gradient (Hλ + q) is the most negative; a sub-solve on
 * the passive set that leaves the feasible region is cut back to the boundary and the indices that
 * hit zero leave. The Cholesky factor of H on the passive set grows by one row per entering index
 * (O(p²), not a fresh O(p³) factorisation) and is rebuilt only when indices leave. Finite
 * termination for positive definite H; `tolerance` is relative to the largest |H_jj| or |q_j|.
 * `guess` is an optional support to start from (see below).
 */
export function solveNonNegativeQp(
  k: number,
  hessian: Float64Array,
  linear: Float64Array,
  tolerance = 1e-12,
  maxIterations = 3 * k + 10,
  guess: readonly number[] = [],
): BoundedQpResult {
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, Math.abs(hessian[i * k + i]), Math.abs(linear[i]));
  const threshold = tolerance * (scale > 0 ? scale : 1);
  const x = new Float64Array(k);
  const gradient = new Float64Array(k);
  const candidate = new Float64Array(k);
  const work = new Float64Array(k);
  const factor = new CholeskyRows(k, hessian);
  let iterations = 0;
  let capped = false;

  // Warm start: a guessed support whose sub-solve is positive is a feasible starting point with
  // exactly that passive set, which is all Lawson–Hanson needs; the optimality test below then
  // confirms it (usually at once) or the iteration continues from there. A bad guess is dropped.
  if (guess.length > 0) {
    for (const i of guess) if (!factor.has(i)) factor.add(i);
    const passive = factor.indices;
    for (let a = 0; a < passive.length; a++) work[a] = -linear[passive[a]];
    factor.solve(work);
    let positive = true;
    for (let a = 0; a < passive.length; a++) if (!(work[a] > 0)) positive = false;
    if (positive) for (let a = 0; a < passive.length; a++) x[passive[a]] = work[a];
    else factor.remove([...passive]);
  }

  for (;;) {
    // Hλ + q, reading only the passive columns (λ is zero elsewhere).
    const support = factor.indices;
    for (let i = 0; i < k; i++) {
      let sum = linear[i];
      for (const j of support) sum += hessian[i * k + j] * x[j];
      gradient[i] = sum;
    }
    let entering = -1;
    let mostNegative = -threshold;
    for (let i = 0; i < k; i++) {
      if (!factor.has(i) && gradient[i] < mostNegative) {
        mostNegative = gradient[i];
        entering = i;
      }
    }
    if (entering < 0) break;
    if (iterations >= maxIterations) {
      capped = true;
      break;
    }
    iterations++;
    factor.add(entering);

    // Inner loop: solve on the passive set, step back to feasibility while some λ_P ≤ 0.
    for (;;) {
      const passive = factor.indices;
      const p = passive.length;
      for (let a = 0; a < p; a++) work[a] = -linear[passive[a]];
      factor.solve(work);
      let feasible = true;
      for (let a = 0; a < p; a++) if (!(work[a] > 0)) feasible = false;
      if (feasible) {
        for (let a = 0; a < p; a++) x[passive[a]] = work[a];
        break;
      }
      candidate.fill(0);
      for (let a = 0; a < p; a++) candidate[passive[a]] = work[a];
      // Largest step from x towards the candidate that keeps every passive λ non-negative.
      let step = 1;
      for (const i of passive) {
        if (!(candidate[i] > 0)) {
          const denominator = x[i] - candidate[i];
          const ratio = denominator > 0 ? x[i] / denominator : 0;
          if (ratio < step) step = ratio;
        }
      }
      const leaving: number[] = [];
      for (const i of passive) {
        x[i] += step * (candidate[i] - x[i]);
        if (x[i] <= threshold * 1e-3 || !(candidate[i] > 0 || x[i] > 0)) {
          x[i] = 0;
          leaving.push(i);
        }
      }
      factor.remove(leaving);
      if (factor.indices.length === 0) break;
    }
  }
  const active: number[] = [];
  for (let i = 0; i < k; i++) if (x[i] > 0) active.push(i);
  return { x, active, iterations, capped, raisedPivots: factor.raisedPivots };
}

/** Cholesky factor L of H restricted to an ordered index set, grown row by row. */
class CholeskyRows {
  readonly indices: number[] = [];
  raisedPivots = 0;
  private readonly member: Uint8Array;
  /** Row-major p×p lower triangle with stride k. */
  private readonly lower: Float64Array;
  private readonly minPivot: number;

  constructor(
    private readonly k: number,
    private readonly hessian: Float64Array,
  ) {
    this.member = new Uint8Array(k);
    this.lower = new Float64Array(k * k);
    let maxDiagonal = 0;
    for (let i = 0; i < k; i++) maxDiagonal = Math.max(maxDiagonal, Math.abs(hessian[i * k + i]));
    this.minPivot = 1e-13 * (maxDiagonal > 0 ? maxDiagonal : 1);
  }

  has(i: number): boolean {
    return this.member[i] === 1;
  }

  /** Appends index j: one forward substitution for the new row. */
  add(j: number): void {
    const { k, lower, hessian, indices } = this;
    const p = indices.length;
    let diagonal = hessian[j * k + j];
    for (let a = 0; a < p; a++) {
      let sum = hessian[indices[a] * k + j];
      for (let b = 0; b < a; b++) sum -= lower[a * k + b] * lower[p * k + b];
      const value = sum / lower[a * k + a];
      lower[p * k + a] = value;
      diagonal -= value * value;
    }
    // A (numerically) dependent column: a tiny pivot acts as a ridge on that direction.
    if (!(diagonal > this.minPivot)) {
      diagonal = this.minPivot;
      this.raisedPivots++;
    }
    lower[p * k + p] = Math.sqrt(diagonal);
    indices.push(j);
    this.member[j] = 1;
  }

  /** Drops indices and refactors what remains (rare: only when a sub-solve left the cone). */
  remove(leaving: readonly number[]): void {
    if (leaving.length === 0) return;
    for (const i of leaving) this.member[i] = 0;
    const kept = this.indices.filter((i) => this.member[i] === 1);
    this.indices.length = 0;
    for (const i of kept) {
      this.member[i] = 0;
      this.add(i);
    }
  }

  /** Solves H_PP z = b in place (b in passive order). */
  solve(b: Float64Array): void {
    const { k, lower } = this;
    const p = this.indices.length;
    for (let a = 0; a < p; a++) {
      let sum = b[a];
      for (let c = 0; c < a; c++) sum -= lower[a * k + c] * b[c];
      b[a] = sum / lower[a * k + a];
    }
    for (let a = p - 1; a >= 0; a--) {
      let sum = b[a];
      for (let c = a + 1; c < p; c++) sum -= lower[c * k + a] * b[c];
      b[a] = sum / lower[a * k + a];
    }
  }
}
