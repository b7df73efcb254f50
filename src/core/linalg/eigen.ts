/**
 * Symmetric eigendecomposition by the cyclic Jacobi method (float64). For the small matrices of
 * this project (K ≤ 32) it is simple, unconditionally convergent and, with the relative stopping
 * rule below, accurate for the small eigenvalues of a positive semi-definite Gram matrix.
 */

export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  readonly values: Float64Array;
  /** Row-major n×n; column j (vectors[i*n+j], i = 0..n-1) is the unit eigenvector of values[j]. */
  readonly vectors: Float64Array;
  /** Jacobi sweeps used. */
  readonly sweeps: number;
}

const MAX_SWEEPS = 60;

/** Eigenvalues and eigenvectors of the symmetric n×n matrix `a` (row-major, not modified). */
export function symmetricEigen(n: number, a: ArrayLike<number>): SymmetricEigen {
  const m = Float64Array.from(a as ArrayLike<number>);
  // Symmetrise against rounding in the caller's matrix: Jacobi assumes exact symmetry.
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const mean = 0.5 * (m[i * n + j] + m[j * n + i]);
      m[i * n + j] = mean;
      m[j * n + i] = mean;
    }
  }
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  let sweeps = 0;
  for (; sweeps < MAX_SWEEPS; sweeps++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (apq === 0) continue;
        const app = m[p * n + p];
        const aqq = m[q * n + q];
        // Relative rule (Demmel–Veselić): an entry negligible against its diagonal pair is
        // dropped; this keeps tiny eigenvalues accurate to working precision.
        if (Math.abs(apq) <= 1e-17 * Math.sqrt(Math.abs(app * aqq)) || Math.abs(apq) < 1e-300) {
          m[p * n + q] = 0;
          m[q * n + p] = 0;
          continue;
        }
        rotated = true;
        const theta = (aqq - app) / (2 * apq);
        const t =
          Math.abs(theta) > 1e150
            ? 0.5 / theta
            : (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        const tau = s / (1 + c);
        m[p * n + p] = app - t * apq;
        m[q * n + q] = aqq + t * apq;
        m[p * n + q] = 0;
        m[q * n + p] = 0;
        for (let r = 0; r < n; r++) {
          if (r !== p && r !== q) {
            const arp = m[r * n + p];
            const arq = m[r * n + q];
            const newRp = arp - s * (arq + tau * arp);
            const newRq = arq + s * (arp - tau * arq);
            m[r * n + p] = newRp;
            m[p * n + r] = newRp;
            m[r * n + q] = newRq;
            m[q * n + r] = newRq;
          }
          const vrp = v[r * n + p];
          const vrq = v[r * n + q];
          v[r * n + p] = vrp - s * (vrq + tau * vrp);
          v[r * n + q] = vrq + s * (vrp - tau * vrq);
        }
      }
    }
    if (!rotated) break;
  }
  // Sort descending.
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => m[j * n + j] - m[i * n + i]);
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const src = order[j];
    values[j] = m[src * n + src];
    for (let i = 0; i < n; i++) vectors[i * n + j] = v[i * n + src];
  }
  return { values, vectors, sweeps };
}

/**
 * x = A⁺ b for a symmetric A through its eigendecomposition, discarding eigenvalues with
 * |λ| ≤ tolerance · max|λ|. Returns the solution and the rank kept.
 */
export function pseudoInverseSolve(
  n: number,
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  tolerance = 1e-12,
): { x: Float64Array; rank: number } {
  const { values, vectors } = symmetricEigen(n, a);
  let maxAbs = 0;
  for (let j = 0; j < n; j++) maxAbs = Math.max(maxAbs, Math.abs(values[j]));
  const x = new Float64Array(n);
  let rank = 0;
  for (let j = 0; j < n; j++) {
    if (!(Math.abs(values[j]) > tolerance * maxAbs)) continue;
    rank++;
    let coefficient = 0;
    for (let i = 0; i < n; i++) coefficient += vectors[i * n + j] * b[i];
    coefficient /= values[j];
    for (let i = 0; i < n; i++) x[i] += coefficient * vectors[i * n + j];
  }
  return { x, rank };
}
