import { z } from "zod";
import { scaledGram, taskNorms } from "../linalg/gram";
import { minNormPoint } from "../linalg/minnorm";
import { defineStrategy } from "../strategy";

/**
 * MGDA (Désidéri 2012; Sener & Koltun, "Multi-Task Learning as Multi-Objective Optimization",
 * NeurIPS 2018): the update is the minimum-norm point of the convex hull of the task gradients,
 * solved EXACTLY (Wolfe's finite active-set method on the Gram matrix) rather than with the
 * Frank–Wolfe loop of the peers. Like LibMTL, the update is Σ w_t ĝ_t with the simplex weights w
 * (no rescaling); `normalization: "l2"` first divides each gradient by its norm (LibMTL's
 * mgda_gn='l2'). When 0 lies in the hull the update is 0 (Pareto-stationary point).
 */
export const mgdaParams = z.object({
  normalization: z
    .enum(["none", "l2"])
    .default("none")
    .describe('Gradient normalisation before the min-norm problem: "none" or "l2" (unit gradients).'),
});

export const mgda = defineStrategy({
  name: "mgda",
  title: "MGDA",
  summary: "Exact minimum-norm point in the convex hull of the task gradients.",
  citation: "Sener & Koltun, Multi-Task Learning as Multi-Objective Optimization, NeurIPS 2018",
  params: mgdaParams,
  usesLosses: false,
  init: () => null,
  step: ({ k, gram }, params, state) => {
    const scales = new Float64Array(k).fill(1);
    const norms = taskNorms(k, gram);
    let zeroTasks = 0;
    for (let t = 0; t < k; t++) {
      const norm = norms[t];
      if (!(norm > 0)) zeroTasks++;
      // A zero gradient stays zero under normalisation (LibMTL divides 0 by 0).
      else if (params.normalization === "l2") scales[t] = 1 / norm;
    }
    const g = params.normalization === "l2" ? scaledGram(k, gram, scales) : gram;
    const solution = minNormPoint(k, g);
    const weights = new Float64Array(k);
    for (let t = 0; t < k; t++) weights[t] = solution.weights[t] * scales[t];
    let maxDiag = 0;
    for (let t = 0; t < k; t++) maxDiag = Math.max(maxDiag, g[t * k + t]);
    const flags: string[] = [];
    if (zeroTasks > 0) flags.push("zero-gradient");
    if (solution.normSquared <= 1e-20 * maxDiag) flags.push("pareto-stationary");
    return { weights, state, flags };
  },
});
