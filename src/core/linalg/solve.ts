/**
 * Small dense solves in float64, row-major n×n matrices. Singular systems never produce NaN: the
 * solvers detect the numerical rank and return a defined solution together with that rank.
 */

/** Relative pivot size below which a matrix is treated as singular. */
export const DEFAULT_RANK_TOLERANCE = 1e-12;

export interface SolveResult {
  /** The solution (length n). */
  readonly x: Float64Array;
  /** Numerical rank found while factorising. */
  readonly rank: number;
}

/**
 * Solves A x = b for a symmetric positive semi-definite A (a Gram matrix) by Cholesky with
 * diagonal pivoting. Pivots below `tolerance · max diag(A)` end the factorisation: the rank is the
 * number of pivots taken and the returned x is the basic solution that uses only the pivoted
 * (linearly independent) rows; for a consistent system its image Aᵀ-side combination is the
 * same as the minimum-norm solution's. A is not modified.
 */
export function solvePsd(
  n: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tolerance = DEFAULT_RANK_TOLERANCE,
): SolveResult {
  const l = Float64Array.from(a as ArrayLike<number>);
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, l[i * n + i]);
  const threshold = tolerance * maxDiag;
  let rank = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (l[i * n + i] > l[p * n + p]) p = i;
    if (!(l[p * n + p] > threshold) || maxDiag <= 0) break;
    if (p !== k) swapSymmetric(l, n, k, p, perm);
    const pivot = Math.sqrt(l[k * n + k]);
    l[k * n + k] = pivot;
    for (let i = k + 1; i < n; i++) l[i * n + k] /= pivot;
    // Trailing update of the whole symmetric block: later pivots swap rows AND columns of it.
    for (let i = k + 1; i < n; i++) {
      const lik = l[i * n + k];
      for (let j = k + 1; j < n; j++) l[i * n + j] -= lik * l[j * n + k];
    }
    rank = k + 1;
  }
  // Forward then backward substitution on the leading rank×rank factor, in pivoted order.
  const y = new Float64Array(n);
  for (let i = 0; i < rank; i++) {
    let sum = b[perm[i]];
    for (let j = 0; j < i; j++) sum -= l[i * n + j] * y[j];
    y[i] = sum / l[i * n + i];
  }
  for (let i = rank - 1; i >= 0; i--) {
    let sum = y[i];
    for (let j = i + 1; j < rank; j++) sum -= l[j * n + i] * y[j];
    y[i] = sum / l[i * n + i];
  }
  const x = new Float64Array(n);
  for (let i = 0; i < rank; i++) x[perm[i]] = y[i];
  return { x, rank };
}

/** Swaps index k and p of a symmetric matrix stored in the lower triangle (rows and columns). */
function swapSymmetric(l: Float64Array, n: number, k: number, p: number, perm: Int32Array): void {
  // Full symmetric swap is simplest and n is small: swap rows, then columns.
  for (let j = 0; j < n; j++) {
    const t = l[k * n + j];
    l[k * n + j] = l[p * n + j];
    l[p * n + j] = t;
  }
  for (let i = 0; i < n; i++) {
    const t = l[i * n + k];
    l[i * n + k] = l[i * n + p];
    l[i * n + p] = t;
  }
  const t = perm[k];
  perm[k] = perm[p];
  perm[p] = t;
}

/**
 * Solves A x = b for a general square A by LU with partial (row) pivoting. A column whose best
 * pivot is below `tolerance · max|A|` is treated as dependent: its unknown is set to 0 and the rank
 * drops. A is not modified.
 */
export function solveGeneral(
  n: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tolerance = DEFAULT_RANK_TOLERANCE,
): SolveResult {
  const m = Float64Array.from(a as ArrayLike<number>);
  const rhs = Float64Array.from(b as ArrayLike<number>);
  let maxAbs = 0;
  for (let i = 0; i < n * n; i++) maxAbs = Math.max(maxAbs, Math.abs(m[i]));
  const threshold = tolerance * maxAbs;
  // pivotRow[c] = the row eliminated with column c, or -1 when the column is dependent.
  const pivotRow = new Int32Array(n).fill(-1);
  const used = new Uint8Array(n);
  let rank = 0;
  for (let c = 0; c < n; c++) {
    let p = -1;
    let best = threshold;
    for (let r = 0; r < n; r++) {
      if (used[r]) continue;
      const v = Math.abs(m[r * n + c]);
      if (v > best) {
        best = v;
        p = r;
      }
    }
    if (p < 0 || maxAbs === 0) continue;
    used[p] = 1;
    pivotRow[c] = p;
    rank++;
    const pivot = m[p * n + c];
    for (let r = 0; r < n; r++) {
      if (used[r]) continue;
      const factor = m[r * n + c] / pivot;
      if (factor === 0) continue;
      for (let j = c; j < n; j++) m[r * n + j] -= factor * m[p * n + j];
      rhs[r] -= factor * rhs[p];
    }
  }
  // Back substitution in reverse column order; dependent columns contribute 0.
  const x = new Float64Array(n);
  for (let c = n - 1; c >= 0; c--) {
    const p = pivotRow[c];
    if (p < 0) continue;
    let sum = rhs[p];
    for (let j = c + 1; j < n; j++) sum -= m[p * n + j] * x[j];
    x[c] = sum / m[p * n + c];
  }
  return { x, rank };
}
