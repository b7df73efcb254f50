import { symmetricEigen } from "./eigen";
import { solvePsd } from "./solve";

/**
 * min over the simplex (w ≥ 0, Σ w = 1) of  f(w) = aᵀw + c·√(wᵀGw + δ),  G positive semi-definite.
 * This is CAGrad's inner problem (Liu et al., NeurIPS 2021: a = G·(1/K), c = calpha·‖g₀‖).
 *
 * f is convex and smooth for δ > 0, so an active-set Newton method converges to the optimum to
 * working precision in a handful of steps: Newton on the face {w_F > 0, Σ w_F = 1} (reduced to
 * the tangent space, singular directions dropped by a pivoted solve), Armijo backtracking, a step
 * that hits the boundary releases that coordinate, and at a face optimum the coordinate with the
 * most negative reduced gradient joins the face.
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
  const direction = new Float64Array(k);
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
  let converged = false;
  let stalled = false;
  // Face optima reached without any decrease of f since the previous one (cycling guard).
  let stalls = 0;
  let lastFaceValue = Number.POSITIVE_INFINITY;
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
    const face: number[] = [];
    for (let i = 0; i < k; i++) if (free[i]) face.push(i);
    // Anchor: the face coordinate with the largest weight; the others move freely and the
    // anchor absorbs the sum constraint (p_anchor = −Σ p_others).
    let anchor = face[0];
    for (const i of face) if (w[i] > w[anchor]) anchor = i;
    const others = face.filter((i) => i !== anchor);
    const m = others.length;
    direction.fill(0);
    let decrement = 0;
    if (m > 0) {
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
      // Newton step. The pivoted Cholesky solve is fast; when it reveals a (numerically)
      // singular reduced Hessian, the eigendecomposition takes over: Newton on the curved
      // directions, and along flat ones (where f is linear) a steepest-descent step of length 2
      // towards the boundary (the line search clips it).
      const cholesky = solvePsd(m, reduced, rhs, 1e-10);
      const step = cholesky.rank === m ? cholesky.x : flatAwareStep(m, reduced, rhs, 1e-14 * scale);
      let sum = 0;
      for (let x = 0; x < m; x++) {
        direction[others[x]] = step[x];
        sum += step[x];
        decrement += rhs[x] * step[x];
      }
      direction[anchor] = -sum;
    }
    const stepSize = maxAbs(direction);
    // Face optimum when the Newton decrement is below what f can resolve, or the last step stalled.
    if (stalled || stepSize <= 1e-15 || decrement <= 1e-30 * scale) {
      stalled = false;
      // Face optimum: test the multipliers of the coordinates at zero.
      const mu = grad[anchor];
      let entering = -1;
      // The gradient's own rounding level: c·Gw/s amplifies rounding when s is small.
      let most = -1e-12 * (scale + (c * scale) / s);
      if (value >= lastFaceValue) stalls++;
      else stalls = 0;
      lastFaceValue = value;
      if (stalls >= 3) {
        converged = true;
        break;
      }
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
      continue;
    }
    // Longest feasible step along the direction, then Armijo backtracking from min(1, max).
    let maxStep = Number.POSITIVE_INFINITY;
    let blocking = -1;
    for (const i of face) {
      if (direction[i] < 0) {
        const limit = w[i] / -direction[i];
        if (limit < maxStep) {
          maxStep = limit;
          blocking = i;
        }
      }
    }
    let slope = 0;
    for (const i of face) slope += grad[i] * direction[i];
    let alpha = Math.min(1, maxStep);
    let accepted = false;
    for (let tries = 0; tries < 60; tries++) {
      for (let i = 0; i < k; i++) trial[i] = w[i] + alpha * direction[i];
      if (alpha === maxStep && blocking >= 0) trial[blocking] = 0;
      for (let i = 0; i < k; i++) if (trial[i] < 0) trial[i] = 0;
      const next = objective(trial);
      if (next <= value + 1e-4 * alpha * slope || next <= value) {
        accepted = true;
        stalled = !(next < value);
        value = next;
        break;
      }
      alpha *= 0.5;
    }
    if (!accepted) {
      // No descent possible at this precision: the point is optimal up to rounding.
      converged = true;
      break;
    }
    const hitBoundary = alpha === maxStep && blocking >= 0;
    w.set(trial);
    if (hitBoundary) free[blocking] = 0;
    // Re-normalise against drift of the sum constraint.
    let sum = 0;
    for (let i = 0; i < k; i++) sum += w[i];
    for (let i = 0; i < k; i++) w[i] /= sum;
  }
  return { weights: w, value, iterations, converged };
}

function maxAbs(x: Float64Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i]));
  return m;
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
