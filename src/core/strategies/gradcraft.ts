import { z } from "zod";
import { normFromSquare, scaledGram, taskNorms } from "../linalg/gram";
import { solvePsd } from "../linalg/solve";
import { defineStrategy } from "../strategy";

/**
 * GradCraft (Bai et al., "GradCraft: Elevating Multi-task Recommendations through Holistic
 * Gradient Crafting", KDD 2024), exactly as the official code computes it
 * (solvers/global_pc_grad_magnitude_positive.py, b = 0):
 * 1. magnitude: ĝ_t = s_t·g_t with s_t = τ·max(n)/n_t + (1 − τ), n_t = ‖g_t‖;
 * 2. direction, for each task i independently against the unprojected set {ĝ}: with
 *    C_i = {j : ĝ_i·ĝ_j < 0}, solve Ĝ_CC w = ε‖ĝ_i‖[‖ĝ_j‖]_C − [ĝ_j·ĝ_i]_C and set
 *    p_i = ĝ_i + Σ_C w_j ĝ_j, so that p_i·ĝ_j = ε‖ĝ_i‖‖ĝ_j‖ for every j in C_i;
 * 3. the update is the mean of the p_i.
 * In Gram space: α_j = s_j·(1/K)·Σ_i C_ij with C the projection coefficients (docs/strategies.md).
 * "local" is the paper's one-vs-one ablation: the conflicting tasks are handled one at a time.
 */
export const gradcraftParams = z.object({
  tau: z
    .number()
    .min(0)
    .max(1)
    .default(1)
    .meta({ unit: "fraction of the largest norm, 0 to 1" })
    .describe(
      "Magnitude alignment τ in [0, 1]: 1 lifts every task to the largest norm, 0 leaves norms alone.",
    ),
  eps: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .meta({ unit: "cosine target, 0 to 1" })
    .describe("Positive target ε ≥ 0: after projection p_i·ĝ_j = ε‖ĝ_i‖‖ĝ_j‖ for each conflicting j."),
  projection: z
    .enum(["global", "local"])
    .default("global")
    .describe('"global": against all conflicting tasks at once (GradCraft); "local": one-vs-one ablation.'),
});
export type GradcraftParams = z.infer<typeof gradcraftParams>;

/**
 * A gradient this many times smaller than the largest one has vanished: rescaling it would blow
 * float32 rounding noise (the trainer's Gram matrix is float32 on the device) up to the largest
 * norm, with weights near 1e20. The reference cases' "tiny" tasks are 1e-3 of the others.
 */
export const VANISHED_NORM_RATIO = 1e-10;

/**
 * Magnitude scale factors s_t = τ·max(n)/n_t + (1 − τ). A zero (or vanished) gradient cannot be
 * rescaled: its factor is 1 (the official code divides by zero there) and it is counted in the
 * returned number of zero tasks.
 */
export function magnitudeScales(k: number, gram: ArrayLike<number>, tau: number, out: Float64Array): number {
  const norms = taskNorms(k, gram);
  let maxNorm = 0;
  for (let t = 0; t < k; t++) maxNorm = Math.max(maxNorm, norms[t]);
  let zeroTasks = 0;
  for (let t = 0; t < k; t++) {
    const norm = norms[t];
    if (norm > maxNorm * VANISHED_NORM_RATIO) out[t] = (tau * maxNorm) / norm + (1 - tau);
    else {
      out[t] = 1;
      zeroTasks++;
    }
  }
  return zeroTasks;
}

export const gradcraft = defineStrategy({
  name: "gradcraft",
  title: "GradCraft",
  summary: "Magnitude alignment, then projection of each task against all its conflicting tasks at once.",
  citation:
    "Bai et al., GradCraft: Elevating Multi-task Recommendations through Holistic Gradient Crafting, KDD 2024",
  params: gradcraftParams,
  usesLosses: false,
  init: () => null,
  step: ({ k, gram }, params, state) => {
    const scales = new Float64Array(k);
    const zeroTasks = magnitudeScales(k, gram, params.tau, scales);
    const g = scaledGram(k, gram, scales);
    const norms = taskNorms(k, g);
    // coefficients[j] accumulates Σ_i (coefficient of ĝ_j in p_i).
    const coefficients = new Float64Array(k);
    const conflictSetSize = new Array<number>(k).fill(0);
    const correctionNorm = new Array<number>(k).fill(0);
    let singular = false;
    const conflict: number[] = [];
    for (let i = 0; i < k; i++) {
      coefficients[i] += 1;
      conflict.length = 0;
      for (let j = 0; j < k; j++) if (g[i * k + j] < 0) conflict.push(j);
      conflictSetSize[i] = conflict.length;
      if (conflict.length === 0) continue;
      const m = conflict.length;
      let correction: Float64Array;
      if (params.projection === "global") {
        const system = new Float64Array(m * m);
        const rhs = new Float64Array(m);
        for (let x = 0; x < m; x++) {
          const cx = conflict[x];
          for (let y = 0; y < m; y++) system[x * m + y] = g[cx * k + conflict[y]];
          rhs[x] = params.eps * norms[i] * norms[cx] - g[cx * k + i];
        }
        const solved = solvePsd(m, system, rhs);
        if (solved.rank < m) singular = true;
        correction = solved.x;
      } else {
        correction = localCorrection(k, g, i, conflict, norms, params.eps);
      }
      // ‖p_i − ĝ_i‖² = wᵀ Ĝ_CC w.
      let squared = 0;
      for (let x = 0; x < m; x++) {
        coefficients[conflict[x]] += correction[x];
        for (let y = 0; y < m; y++)
          squared += correction[x] * g[conflict[x] * k + conflict[y]] * correction[y];
      }
      correctionNorm[i] = normFromSquare(squared);
    }
    const weights = new Float64Array(k);
    for (let j = 0; j < k; j++) weights[j] = (scales[j] * coefficients[j]) / k;
    const flags: string[] = [];
    if (zeroTasks > 0) flags.push("zero-gradient");
    if (singular) flags.push("singular-conflict-system");
    return {
      weights,
      state,
      projection: { conflictSetSize, correctionNorm, magnitudeScale: Array.from(scales) },
      flags,
    };
  },
});

/**
 * One-vs-one: p starts at ĝ_i and, for each initially conflicting j in index order, is moved along
 * ĝ_j onto the target plane p·ĝ_j = ε‖ĝ_i‖‖ĝ_j‖ when it is below it. Returns the coefficients
 * of ĝ_j, j in the conflict set.
 */
function localCorrection(
  k: number,
  g: Float64Array,
  i: number,
  conflict: number[],
  norms: Float64Array,
  eps: number,
): Float64Array {
  const m = conflict.length;
  const correction = new Float64Array(m);
  // h_j = p·ĝ_j, kept up to date as p changes.
  const h = new Float64Array(k);
  for (let j = 0; j < k; j++) h[j] = g[i * k + j];
  for (let x = 0; x < m; x++) {
    const j = conflict[x];
    const target = eps * norms[i] * norms[j];
    const squared = g[j * k + j];
    if (!(h[j] < target) || !(squared > 0)) continue;
    const w = (target - h[j]) / squared;
    correction[x] += w;
    for (let t = 0; t < k; t++) h[t] += w * g[j * k + t];
  }
  return correction;
}
