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
  // L y = b, then Lᵀ x = y.
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let p = 0; p < i; p++) sum -= a[i * n + p] * b[p];
    b[i] = sum / a[i * n + i];
  }
  for (let i = n - 1; i >= 0; i--) {
    let sum = b[i];
    for (let p = i + 1; p < n; p++) sum -= a[p * n + i] * b[p];
    b[i] = sum / a[i * n + i];
  }
  return raised;
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
 * hit zero leave. Finite termination for positive definite H; `tolerance` is relative to the
 * largest |H_jj|.
 */
export function solveNonNegativeQp(
  k: number,
  hessian: Float64Array,
  linear: Float64Array,
  tolerance = 1e-12,
  maxIterations = 3 * k + 10,
): BoundedQpResult {
  let scale = 0;
  for (let i = 0; i < k; i++) scale = Math.max(scale, Math.abs(hessian[i * k + i]));
  for (let i = 0; i < k; i++) scale = Math.max(scale, Math.abs(linear[i]));
  const x = new Float64Array(k);
  const passive = new Uint8Array(k);
  const gradient = new Float64Array(k);
  const candidate = new Float64Array(k);
  const sub = new Float64Array(k * k);
  const rhs = new Float64Array(k);
  const indices: number[] = [];
  const threshold = tolerance * (scale > 0 ? scale : 1);
  let iterations = 0;
  let raisedPivots = 0;
  let capped = false;

  for (;;) {
    for (let i = 0; i < k; i++) {
      let sum = linear[i];
      for (let j = 0; j < k; j++) sum += hessian[i * k + j] * x[j];
      gradient[i] = sum;
    }
    let entering = -1;
    let mostNegative = -threshold;
    for (let i = 0; i < k; i++) {
      if (!passive[i] && gradient[i] < mostNegative) {
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
    passive[entering] = 1;

    // Inner loop: solve on the passive set, step back to feasibility while some λ_P ≤ 0.
    for (;;) {
      indices.length = 0;
      for (let i = 0; i < k; i++) if (passive[i]) indices.push(i);
      const p = indices.length;
      for (let a = 0; a < p; a++) {
        const row = indices[a] * k;
        for (let b = 0; b < p; b++) sub[a * p + b] = hessian[row + indices[b]];
        rhs[a] = -linear[indices[a]];
      }
      raisedPivots += choleskySolveInPlace(p, sub, rhs);
      candidate.fill(0);
      let feasible = true;
      for (let a = 0; a < p; a++) {
        candidate[indices[a]] = rhs[a];
        if (!(rhs[a] > 0)) feasible = false;
      }
      if (feasible) {
        x.set(candidate);
        break;
      }
      // Largest step from x towards the candidate that keeps every passive λ non-negative.
      let step = 1;
      for (let a = 0; a < p; a++) {
        const i = indices[a];
        if (!(candidate[i] > 0)) {
          const denominator = x[i] - candidate[i];
          const ratio = denominator > 0 ? x[i] / denominator : 0;
          if (ratio < step) step = ratio;
        }
      }
      for (let a = 0; a < p; a++) {
        const i = indices[a];
        x[i] += step * (candidate[i] - x[i]);
        if (x[i] <= threshold * 1e-3 || !(candidate[i] > 0 || x[i] > 0)) {
          x[i] = 0;
          passive[i] = 0;
        }
      }
      // The entering index can be dropped straight away when its sub-solve went negative; the
      // outer test then decides again with the updated gradient.
      let anyPassive = false;
      for (let a = 0; a < p; a++) if (passive[indices[a]]) anyPassive = true;
      if (!anyPassive) break;
    }
  }
  const active: number[] = [];
  for (let i = 0; i < k; i++) if (x[i] > 0) active.push(i);
  return { x, active, iterations, capped, raisedPivots };
}
