import { z } from "zod";
import { gramTimes, normFromSquare, quadraticForm } from "../linalg/gram";
import { minimizeLinearPlusNormOnSimplex } from "../linalg/simplex";
import { defineStrategy } from "../strategy";

/**
 * CAGrad (Liu et al., "Conflict-Averse Gradient Descent for Multi-task Learning", NeurIPS 2021),
 * with LibMTL's conventions: c = calpha·√(mean(G) + 1e-8) + 1e-8;
 * w = argmin over the simplex of wᵀG·(1/K) + c·√(wᵀGw + 1e-8) (solved to optimality by an
 * active-set Newton method, where LibMTL stops SLSQP at its default tolerance);
 * update = mean(g) + c/(‖g_w‖ + 1e-8)·g_w, divided by 1 + calpha² (rescale 1), 1 + calpha
 * (rescale 2) or not at all (rescale 0). Weights α_t = (1/K + λ w_t)/rescale.
 */
export const cagradParams = z.object({
  c: z
    .number()
    .min(0)
    .max(10)
    .default(0.5)
    .meta({ unit: "radius, relative to the mean gradient's norm" })
    .describe("Conflict-aversion radius calpha ≥ 0 (0 gives the mean)."),
  rescale: z
    .union([z.literal(0), z.literal(1), z.literal(2)])
    .default(1)
    .describe("Divide the update by 1 (0), 1 + c² (1) or 1 + c (2), as LibMTL's rescale."),
});

export const cagrad = defineStrategy({
  name: "cagrad",
  title: "CAGrad",
  summary: "Best worst-case improvement within a ball around the mean gradient.",
  citation: "Liu et al., Conflict-Averse Gradient Descent for Multi-task Learning, NeurIPS 2021",
  params: cagradParams,
  usesLosses: false,
  init: () => null,
  step: ({ k, gram }, params, state) => {
    let total = 0;
    for (let i = 0; i < k * k; i++) total += gram[i];
    const radius = params.c * Math.sqrt(Math.max(0, total / (k * k) + 1e-8)) + 1e-8;
    // G·(1/K): each task's inner product with the mean gradient.
    const linear = gramTimes(k, gram, new Float64Array(k).fill(1 / k));
    const solved = minimizeLinearPlusNormOnSimplex(k, gram, linear, radius, 1e-8);
    const w = solved.weights;
    const lambda = radius / (normFromSquare(quadraticForm(k, gram, w)) + 1e-8);
    const divisor = params.rescale === 1 ? 1 + params.c * params.c : params.rescale === 2 ? 1 + params.c : 1;
    const weights = new Float64Array(k);
    for (let t = 0; t < k; t++) weights[t] = (1 / k + lambda * w[t]) / divisor;
    const flags: string[] = [];
    for (let t = 0; t < k; t++) if (!(gram[t * k + t] > 0)) flags.push("zero-gradient");
    if (!solved.converged) flags.push("solver-not-converged");
    return { weights, state, flags: [...new Set(flags)] };
  },
});
