import { solveGeneral } from "./solve";

/**
 * Exact minimum-norm point of the convex hull of K vectors given only their Gram matrix:
 * min ‖Σ w_t g_t‖² over the simplex (w ≥ 0, Σ w = 1). This is MGDA's subproblem.
 *
 * Wolfe's finite active-set method (P. Wolfe, "Finding the nearest point in a polytope",
 * Math. Programming 11, 1976), written with Gram entries only: a corral S of affinely independent
 * points is grown by the point most opposed to the current x; the affine minimiser of S is taken
 * when it lies inside the hull of S, otherwise x moves to the boundary and points leave S. It ends
 * after finitely many steps with the exact optimum (up to rounding), unlike Frank–Wolfe loops.
 */
export interface MinNormResult {
  /** Simplex weights w of the optimum (not unique when the hull's points are dependent). */
  readonly weights: Float64Array;
  /** ‖Σ w_t g_t‖². */
  readonly normSquared: number;
  /** Major iterations (points added). */
  readonly iterations: number;
}

export function minNormPoint(k: number, gram: ArrayLike<number>): MinNormResult {
  const weights = new Float64Array(k);
  if (k === 1) {
    weights[0] = 1;
    return { weights, normSquared: Math.max(0, gram[0]), iterations: 0 };
  }
  let maxDiag = 0;
  let start = 0;
  for (let t = 0; t < k; t++) {
    const diag = gram[t * k + t];
    maxDiag = Math.max(maxDiag, diag);
    if (diag < gram[start * k + start]) start = t;
  }
  weights[start] = 1;
  if (maxDiag <= 0) return { weights, normSquared: 0, iterations: 0 };
  const support: number[] = [start];
  const gw = new Float64Array(k);
  const affine = new Float64Array(k);
  const maxMajor = 10 * k + 20;
  let iterations = 0;
  for (; iterations < maxMajor; iterations++) {
    // gw = G w; x·x = wᵀ G w; x·g_j = (G w)_j.
    let xx = 0;
    for (let i = 0; i < k; i++) {
      let sum = 0;
      for (const s of support) sum += gram[i * k + s] * weights[s];
      gw[i] = sum;
    }
    for (const s of support) xx += weights[s] * gw[s];
    let entering = -1;
    let best = Number.POSITIVE_INFINITY;
    for (let j = 0; j < k; j++) {
      if (gw[j] < best) {
        best = gw[j];
        entering = j;
      }
    }
    // Wolfe's optimality test: no point is below the supporting hyperplane through x.
    if (xx - best <= 1e-14 * maxDiag || support.includes(entering)) break;
    support.push(entering);
    weights[entering] = 0;
    // Minor cycle: move to the affine minimiser of the corral, dropping points that leave it.
    for (let minor = 0; minor < k + 2; minor++) {
      affineMinimiser(k, gram, support, maxDiag, affine);
      let inside = true;
      for (const s of support) if (!(affine[s] > 0)) inside = false;
      if (inside) {
        for (const s of support) weights[s] = affine[s];
        break;
      }
      // Largest step from w towards the affine minimiser that stays in the simplex.
      let theta = 1;
      for (const s of support) {
        if (affine[s] <= 0) {
          const denominator = weights[s] - affine[s];
          if (denominator > 0) theta = Math.min(theta, weights[s] / denominator);
        }
      }
      for (const s of support) weights[s] = (1 - theta) * weights[s] + theta * affine[s];
      // Remove the points that reached zero (at least the one that set theta).
      let removed = false;
      for (let idx = support.length - 1; idx >= 0; idx--) {
        const s = support[idx];
        if (weights[s] <= 1e-15 && support.length > 1) {
          weights[s] = 0;
          support.splice(idx, 1);
          removed = true;
        }
      }
      if (!removed) {
        // Rounding prevented an exact zero: drop the smallest weight to guarantee progress.
        let smallest = 0;
        for (let idx = 1; idx < support.length; idx++)
          if (weights[support[idx]] < weights[support[smallest]]) smallest = idx;
        weights[support[smallest]] = 0;
        support.splice(smallest, 1);
      }
      normalise(weights, support);
    }
  }
  normalise(weights, support);
  let normSquared = 0;
  for (const i of support) for (const j of support) normSquared += weights[i] * gram[i * k + j] * weights[j];
  return { weights, normSquared: Math.max(0, normSquared), iterations };
}

/**
 * Weights v (Σ v = 1) of the point of minimum norm in the affine hull of the support: the
 * bordered system [G_SS 1; 1ᵀ 0][v; μ] = [0; 1], with the border scaled to the Gram entries.
 */
function affineMinimiser(
  k: number,
  gram: ArrayLike<number>,
  support: number[],
  scale: number,
  out: Float64Array,
): void {
  const m = support.length;
  const n = m + 1;
  const a = new Float64Array(n * n);
  const b = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) a[i * n + j] = gram[support[i] * k + support[j]];
    a[i * n + m] = scale;
    a[m * n + i] = scale;
  }
  b[m] = scale;
  const { x } = solveGeneral(n, a, b, 1e-14);
  out.fill(0);
  for (let i = 0; i < m; i++) out[support[i]] = x[i];
}

function normalise(weights: Float64Array, support: number[]): void {
  let sum = 0;
  for (const s of support) {
    if (weights[s] < 0) weights[s] = 0;
    sum += weights[s];
  }
  if (sum > 0) for (const s of support) weights[s] /= sum;
}
