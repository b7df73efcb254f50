import { z } from "zod";
import { normFromSquare, quadraticForm } from "../linalg/gram";
import { choleskySolveInPlace } from "../linalg/nnls";
import { defineStrategy } from "../strategy";

/** Serialisable state: the last solution (raw scale), reused as warm start and between updates. */
export interface NashMtlState {
  readonly alpha: number[] | null;
  /** Steps seen, for `updateWeightsEvery`. */
  readonly calls: number;
}

/**
 * Ridge added to the cosine matrix (unit diagonal). It only matters when a non-negative
 * combination of the gradients vanishes (e.g. g_2 = −g_1), where the bargaining equation has no
 * solution: the weights then grow to about 1/√ridge along that combination and stay finite.
 */
const RIDGE = 1e-8;

/**
 * Nash-MTL (Navon et al., "Multi-Task Learning as a Bargaining Game", ICML 2022). The weights
 * solve the bargaining equation Gα = 1/α (α > 0), i.e. α_t·(g_t·u) = 1 for the update
 * u = Σ α_t g_t, so ‖u‖² = K before clipping. The official code approaches it with up to 20
 * convex-concave steps of cvxpy/ECOS; here the same point is found exactly as the minimiser of
 * the strictly convex ½αᵀGα − Σ log α_t by damped Newton steps on the K×K matrix. As in the
 * official code and LibMTL: the previous α is the warm start, weights can be refreshed only every
 * `updateWeightsEvery` steps, the shared update is rescaled to norm `maxNorm` when longer, and the
 * towers get α (the method weights the task losses by α).
 */
export const nashMtl = defineStrategy({
  name: "nash-mtl",
  title: "Nash-MTL",
  summary: "Nash bargaining solution: weights solve Gα = 1/α; update norm clipped.",
  citation: "Navon et al., Multi-Task Learning as a Bargaining Game, ICML 2022",
  params: z
    .object({
      maxNorm: z
        .number()
        .min(0)
        .default(1)
        .meta({ unit: "L2 norm of the update" })
        .describe(
          "Clip the shared update to this norm when longer (official max_norm); 0 turns clipping off.",
        ),
      maxIterations: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(100)
        .meta({ unit: "Newton iterations" })
        .describe("Cap on damped Newton iterations (from a warm start a few suffice)."),
      updateWeightsEvery: z
        .number()
        .int()
        .min(1)
        .default(1)
        .meta({ unit: "steps" })
        .describe("Solve for new weights every this many steps; reuse the last ones in between."),
    })
    .strict(),
  usesLosses: false,
  init: (): NashMtlState => ({ alpha: null, calls: 0 }),
  step: ({ k, gram }, params, state: NashMtlState) => {
    const flags = new Set<string>();
    const reuse =
      state.alpha !== null && state.alpha.length === k && state.calls % params.updateWeightsEvery !== 0;
    const alpha = reuse
      ? Float64Array.from(state.alpha as number[])
      : solveBargaining(k, gram, state, params, flags);

    // Shared update: clip ‖Σ α_t g_t‖ to maxNorm (official: clip_grad_norm_ on shared parameters).
    const updateNorm = normFromSquare(quadraticForm(k, gram, alpha));
    const clip = params.maxNorm > 0 && updateNorm > params.maxNorm ? params.maxNorm / updateNorm : 1;
    const weights = new Float64Array(k);
    const towerWeights = new Float64Array(k);
    for (let t = 0; t < k; t++) {
      weights[t] = alpha[t] * clip;
      // A task left out of the bargaining (zero shared gradient) keeps its tower trained at 1.
      towerWeights[t] = alpha[t] > 0 ? alpha[t] : 1;
    }
    return {
      weights,
      towerWeights,
      state: { alpha: Array.from(alpha), calls: state.calls + 1 },
      ...(flags.size > 0 ? { flags: [...flags] } : {}),
    };
  },
});

function solveBargaining(
  k: number,
  gram: Float64Array,
  state: NashMtlState,
  params: { maxIterations: number },
  flags: Set<string>,
): Float64Array {
  let maxDiagonal = 0;
  for (let t = 0; t < k; t++) maxDiagonal = Math.max(maxDiagonal, gram[t * k + t]);
  // Tasks with no shared gradient cannot bargain (α_t·0 = 1 has no solution): weight 0.
  const members: number[] = [];
  for (let t = 0; t < k; t++)
    if (gram[t * k + t] > 1e-16 * maxDiagonal && gram[t * k + t] > 0) members.push(t);
  const alpha = new Float64Array(k);
  if (members.length < k) flags.add("zero-gradient");
  const n = members.length;
  if (n === 0) return alpha;

  // The equation is invariant under diagonal scaling: with n_t = ‖g_t‖ and the cosine matrix
  // C = D^-½ G D^-½, y = n∘α solves C y = 1/y. Solving on C keeps tasks of very different
  // norms equally well conditioned; then α_t = y_t / n_t.
  const norms = members.map((t) => Math.sqrt(gram[t * k + t]));
  const h = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) h[a * n + b] = gram[members[a] * k + members[b]] / (norms[a] * norms[b]);
    h[a * n + a] = 1 + RIDGE;
  }

  const x = new Float64Array(n);
  const warm = state.alpha !== null && state.alpha.length === k ? state.alpha : null;
  for (let a = 0; a < n; a++) {
    const previous = warm ? warm[members[a]] * norms[a] : 0;
    // Without a usable warm start: the solution for mutually orthogonal gradients.
    x[a] = previous > 0 && Number.isFinite(previous) ? previous : 1;
  }

  if (!minimiseBarrier(n, h, x, params.maxIterations)) flags.add("iteration-cap");
  // The ridge biases the answer by about RIDGE relative: polish on the exact equation. Where no
  // exact solution exists (a vanishing non-negative combination) Newton runs off towards
  // infinity instead of converging, and the ridge's finite answer stays, flagged.
  for (let a = 0; a < n; a++) h[a * n + a] -= RIDGE;
  const polished = Float64Array.from(x);
  if (minimiseBarrier(n, h, polished, 8) && polished.every((v) => Number.isFinite(v) && v > 0))
    x.set(polished);
  else flags.add("singular-gram");
  for (let a = 0; a < n; a++) alpha[members[a]] = x[a] / norms[a];
  return alpha;
}

/**
 * Damped Newton on ½ xᵀHx − Σ log x from x > 0, in place (H is made positive definite by the
 * log barrier's Hessian diag(1/x²)). Returns true when the Newton decrement reached rounding level.
 */
function minimiseBarrier(n: number, h: Float64Array, x: Float64Array, maxIterations: number): boolean {
  const residual = new Float64Array(n);
  const direction = new Float64Array(n);
  const hessian = new Float64Array(n * n);
  const trial = new Float64Array(n);
  for (let iteration = 0; iteration < maxIterations; iteration++) {
    for (let a = 0; a < n; a++) {
      let sum = 0;
      for (let b = 0; b < n; b++) sum += h[a * n + b] * x[b];
      residual[a] = sum - 1 / x[a];
    }
    hessian.set(h);
    for (let a = 0; a < n; a++) {
      hessian[a * n + a] += 1 / (x[a] * x[a]);
      direction[a] = -residual[a];
    }
    choleskySolveInPlace(n, hessian, direction);
    let decrement = 0;
    for (let a = 0; a < n; a++) decrement -= residual[a] * direction[a];
    // λ²/2 bounds f − f* near the optimum: stop when it is at rounding level.
    if (!(decrement > 1e-20 * n)) return true;
    // Stay inside x > 0. Near the optimum (λ² small: the quadratic-convergence region of this
    // self-concordant function) take the full step, as f's decrease there is below rounding;
    // elsewhere backtrack until f decreases enough (Armijo).
    let stepSize = 1;
    for (let a = 0; a < n; a++)
      if (direction[a] < 0) stepSize = Math.min(stepSize, (-0.99 * x[a]) / direction[a]);
    const current = decrement < 0.01 ? Number.NaN : barrierObjective(n, h, x);
    for (let halvings = 0; halvings < 60; halvings++) {
      for (let a = 0; a < n; a++) trial[a] = x[a] + stepSize * direction[a];
      if (Number.isNaN(current)) break;
      if (barrierObjective(n, h, trial) <= current - 0.25 * stepSize * decrement) break;
      stepSize *= 0.5;
    }
    x.set(trial);
  }
  return false;
}

/** ½ xᵀHx − Σ log x: strictly convex on x > 0, its stationary point solves Hx = 1/x. */
function barrierObjective(n: number, h: Float64Array, x: Float64Array): number {
  let value = 0;
  for (let a = 0; a < n; a++) {
    if (!(x[a] > 0)) return Number.POSITIVE_INFINITY;
    let sum = 0;
    for (let b = 0; b < n; b++) sum += h[a * n + b] * x[b];
    value += 0.5 * x[a] * sum - Math.log(x[a]);
  }
  return value;
}
