import { symmetricEigen } from "./eigen";
import { solvePsd } from "./solve";

/**
 * min over the simplex (w ≥ 0, Σ w = 1) of  f(w) = aᵀw + c·√(wᵀGw + δ),  G positive semi-definite.
 * This is CAGrad's inner problem (Liu et al., NeurIPS 2021: a = G·(1/K), c = calpha·‖g₀‖).
 *
 * f is convex and smooth for δ > 0, so an active-set Newton method reaches the optimum to working
 * precision in a handful of steps: Newton on the face {w_F ≥ 0, Σ w_F = 1} (reduced to its tangent
 * space), Armijo backtracking, steepest descent within the face when the Newton model fails (f is
 * far from quadratic where wᵀGw ≈ 0), a step that reaches the boundary releases that coordinate,
 * and at a face optimum the coordinate with the most negative reduced gradient joins the face.
 */
export interface SimplexSolveResult {
  readonly weights: Float64Array;
  readonly value: number;
  readonly iterations: number;
  /** True when the KKT conditions hold at the returned point (within rounding). */
  readonly converged: boolean;
}

export function minimizeLinearPlusNormOnSimplex(
  k: number,
  gram: ArrayLike<number>,
  a: ArrayLike<number>,
  c: number,
  delta: number,
  maxIterations = 200,
): SimplexSolveResult {
  const w = new Float64Array(k).fill(1 / k);
  if (k === 1)
    return {
      weights: w,
      value: a[0] + c * Math.sqrt(Math.max(0, gram[0]) + delta),
      iterations: 0,
      converged: true,
    };
  const free = new Uint8Array(k).fill(1);
  const gw = new Float64Array(k);
  const grad = new Float64Array(k);
  const newton = new Float64Array(k);
  const steepest = new Float64Array(k);
  const trial = new Float64Array(k);
  let scale = 0;
  for (let t = 0; t < k; t++) scale = Math.max(scale, Math.abs(gram[t * k + t]), Math.abs(a[t]));
  if (scale === 0) scale = 1;
  const objective = (x: Float64Array): number => {
    let quad = 0;
    let lin = 0;
    for (let i = 0; i < k; i++) {
      if (x[i] === 0) continue;
      lin += a[i] * x[i];
      let row = 0;
      for (let j = 0; j < k; j++) row += gram[i * k + j] * x[j];
      quad += x[i] * row;
    }
    return lin + c * Math.sqrt(Math.max(0, quad) + delta);
  };
  let value = objective(w);

  /**
   * Armijo backtracking along `direction` (zero sum, zero off the face) from min(1, step to the
   * boundary). Progress means a strict decrease or reaching the boundary (the face changes).
   */
  const lineSearch = (direction: Float64Array): boolean => {
    let slope = 0;
    for (let i = 0; i < k; i++) slope += grad[i] * direction[i];
    if (!(slope < 0)) return false;
    let maxStep = Number.POSITIVE_INFINITY;
    let blocking = -1;
    for (let i = 0; i < k; i++) {
      if (free[i] && direction[i] < 0) {
        const limit = w[i] / -direction[i];
        if (limit < maxStep) {
          maxStep = limit;
          blocking = i;
        }
      }
    }
    let alpha = Math.min(1, maxStep);
    for (let tries = 0; tries < 60; tries++) {
      const atBoundary = alpha === maxStep && blocking >= 0;
      for (let i = 0; i < k; i++) trial[i] = Math.max(0, w[i] + alpha * direction[i]);
      if (atBoundary) trial[blocking] = 0;
      const next = objective(trial);
      if (next <= value + 1e-4 * alpha * slope || (atBoundary && next <= value)) {
        if (!(next < value) && !atBoundary) return false;
        value = next;
        w.set(trial);
        if (atBoundary) free[blocking] = 0;
        // Re-normalise against drift of the sum constraint.
        let sum = 0;
        for (let i = 0; i < k; i++) sum += w[i];
        for (let i = 0; i < k; i++) w[i] /= sum;
        return true;
      }
      alpha *= 0.5;
    }
    return false;
  };

  /** The whole step, clipped at the boundary; progress while it still moves w. */
  const fullStep = (direction: Float64Array): boolean => {
    let size = 0;
    let alpha = 1;
    let blocking = -1;
    for (let i = 0; i < k; i++) {
      size = Math.max(size, Math.abs(direction[i]));
      if (free[i] && direction[i] < 0 && w[i] / -direction[i] < alpha) {
        alpha = w[i] / -direction[i];
        blocking = i;
      }
    }
    if (!(size * alpha > 1e-16)) return false;
    for (let i = 0; i < k; i++) w[i] = Math.max(0, w[i] + alpha * direction[i]);
    if (blocking >= 0) {
      w[blocking] = 0;
      free[blocking] = 0;
    }
    let sum = 0;
    for (let i = 0; i < k; i++) sum += w[i];
    for (let i = 0; i < k; i++) w[i] /= sum;
    value = objective(w);
    return true;
  };

  let converged = false;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    // Gradient a + c·Gw/s and Hessian c·(G/s − (Gw)(Gw)ᵀ/s³).
    let quad = 0;
    for (let i = 0; i < k; i++) {
      let row = 0;
      for (let j = 0; j < k; j++) row += gram[i * k + j] * w[j];
      gw[i] = row;
      quad += w[i] * row;
    }
    const s = Math.sqrt(Math.max(0, quad) + delta);
    for (let i = 0; i < k; i++) grad[i] = a[i] + (c * gw[i]) / s;
    // The gradient's own rounding level: c·Gw/s amplifies rounding when s is small.
    const noise = 1e-12 * (scale + (c * scale) / s);
    const face: number[] = [];
    for (let i = 0; i < k; i++) if (free[i]) face.push(i);
    // Anchor: the face coordinate with the largest weight; it absorbs the sum constraint.
    let anchor = face[0];
    for (const i of face) if (w[i] > w[anchor]) anchor = i;
    let faceGradient = 0;
    for (const i of face) faceGradient = Math.max(faceGradient, Math.abs(grad[i] - grad[anchor]));
    let progress = false;
    if (faceGradient > noise) {
      newtonDirection(k, gram, c, s, gw, grad, face, anchor, scale, newton);
      let decrement = 0;
      for (const i of face) decrement -= grad[i] * newton[i];
      // Near the optimum f cannot resolve its own decrease (it changes by ~decrement, below its
      // rounding): Newton's local quadratic convergence is trusted and the full step is taken.
      progress = decrement > 0 && decrement <= 1e-9 * Math.abs(value) ? fullStep(newton) : lineSearch(newton);
      if (!progress) {
        // Steepest descent within the face: −(grad_i − mean over the face).
        let mean = 0;
        for (const i of face) mean += grad[i];
        mean /= face.length;
        steepest.fill(0);
        for (const i of face) steepest[i] = -(grad[i] - mean);
        progress = lineSearch(steepest);
      }
    }
    if (progress) continue;
    // Face optimum (or no representable progress within it): test the coordinates at zero.
    const mu = grad[anchor];
    let entering = -1;
    let most = -noise;
    for (let i = 0; i < k; i++) {
      if (free[i]) continue;
      const reducedGradient = grad[i] - mu;
      if (reducedGradient < most) {
        most = reducedGradient;
        entering = i;
      }
    }
    if (entering < 0) {
      converged = true;
      break;
    }
    free[entering] = 1;
  }
  return { weights: w, value, iterations, converged };
}

/**
 * Newton direction on the face: coordinates `face` except the anchor move freely, the anchor takes
 * minus their sum. The pivoted Cholesky solve is fast; when it reveals a (numerically) singular
 * reduced Hessian, the eigendecomposition takes over: Newton on the curved directions and, along
 * flat ones (where f is linear), a steepest-descent step of length 2 that the line search clips.
 */
function newtonDirection(
  k: number,
  gram: ArrayLike<number>,
  c: number,
  s: number,
  gw: Float64Array,
  grad: Float64Array,
  face: number[],
  anchor: number,
  scale: number,
  out: Float64Array,
): void {
  out.fill(0);
  const others = face.filter((i) => i !== anchor);
  const m = others.length;
  if (m === 0) return;
  const hess = (i: number, j: number) => c * (gram[i * k + j] / s - (gw[i] * gw[j]) / (s * s * s));
  const reduced = new Float64Array(m * m);
  const rhs = new Float64Array(m);
  const haa = hess(anchor, anchor);
  for (let x = 0; x < m; x++) {
    const i = others[x];
    rhs[x] = -(grad[i] - grad[anchor]);
    const hia = hess(i, anchor);
    for (let y = 0; y < m; y++) {
      const j = others[y];
      reduced[x * m + y] = hess(i, j) - hia - hess(anchor, j) + haa;
    }
  }
  const cholesky = solvePsd(m, reduced, rhs, 1e-10);
  const step = cholesky.rank === m ? cholesky.x : flatAwareStep(m, reduced, rhs, 1e-14 * scale);
  let sum = 0;
  for (let x = 0; x < m; x++) {
    out[others[x]] = step[x];
    sum += step[x];
  }
  out[anchor] = -sum;
}

/** Pseudo-Newton step of a singular PSD system, with steepest descent along its null space. */
function flatAwareStep(
  m: number,
  hessian: Float64Array,
  rhs: Float64Array,
  negligible: number,
): Float64Array {
  const { values, vectors } = symmetricEigen(m, hessian);
  const curvatureFloor = 1e-12 * Math.max(values[0], 0);
  const step = new Float64Array(m);
  for (let e = 0; e < m; e++) {
    let projection = 0;
    for (let x = 0; x < m; x++) projection += vectors[x * m + e] * rhs[x];
    let length: number;
    if (values[e] > curvatureFloor && values[e] > 0) length = projection / values[e];
    else if (Math.abs(projection) > negligible) length = 2 * Math.sign(projection);
    else continue;
    for (let x = 0; x < m; x++) step[x] += length * vectors[x * m + e];
  }
  return step;
}
