import { z } from "zod";
import { normFromSquare, quadraticForm, scaledGram } from "../linalg/gram";
import { defineStrategy } from "../strategy";
import { magnitudeScales } from "./gradcraft";
import type { PcgradState } from "./pcgrad";
import {
  checkOrders,
  moveAlong,
  ordersParam,
  projectionBuffers,
  seedParam,
  squaredNorm,
  startAt,
  visitingOrder,
} from "./projection";

/**
 * PCGrad+ (the GradCraft paper's baseline, official solvers/pc_grad_magnitude_positive.py): the
 * magnitude step of GradCraft (ĝ_t = s_t g_t), then PCGrad's sequential one-vs-one projection on
 * the rescaled gradients in a seeded random order, with a positive target: whenever
 * pc_i·ĝ_j < 0, pc_i moves along ĝ_j until pc_i·ĝ_j = ε‖pc_i‖‖ĝ_j‖. Mean reduction.
 * Deviation: the official code subtracts the scalar ε‖g_j‖‖g_i‖ from every coordinate of g_i
 * (a constant vector, not a direction in the span of the gradients); we apply the ε target along
 * ĝ_j, which is what the paper describes and what Gram space can express.
 */
export const pcgradPlusParams = z.object({
  tau: z
    .number()
    .min(0)
    .max(1)
    .default(1)
    .meta({ unit: "fraction of the largest norm, 0 to 1" })
    .describe("Magnitude alignment τ in [0, 1], as GradCraft's."),
  eps: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .meta({ unit: "cosine target, 0 to 1" })
    .describe("Positive target ε ≥ 0 of each one-vs-one projection."),
  seed: seedParam,
  orders: ordersParam,
});
export type PcgradPlusParams = z.infer<typeof pcgradPlusParams>;

export const pcgradPlus = defineStrategy({
  name: "pcgrad-plus",
  title: "PCGrad+",
  summary: "GradCraft's magnitude step, then PCGrad's one-vs-one projection with a positive target ε.",
  citation: "Baseline PCGrad+ in Bai et al., GradCraft, KDD 2024 (after Yu et al., NeurIPS 2020)",
  params: pcgradPlusParams,
  usesLosses: false,
  init: (_k: number, params: PcgradPlusParams): PcgradState => ({ rng: params.seed >>> 0 }),
  step: ({ k, gram }, params, state: PcgradState) => {
    if (params.orders) checkOrders("pcgrad-plus", k, params.orders, false);
    let rng = state.rng >>> 0;
    const scales = new Float64Array(k);
    const zeroTasks = magnitudeScales(k, gram, params.tau, scales);
    const g = scaledGram(k, gram, scales);
    const coefficients = new Float64Array(k);
    const { c, h, order, conflictSetSize, correctionNorm } = projectionBuffers(k);
    for (let i = 0; i < k; i++) {
      rng = visitingOrder(order, i, k, params.orders, rng, false);
      startAt(i, k, g, c, h);
      for (const j of order) {
        const dot = h[j];
        const squared = g[j * k + j];
        if (!(dot < 0) || !(squared > 0)) continue;
        const target = params.eps * normFromSquare(squaredNorm(k, c, h)) * Math.sqrt(squared);
        moveAlong(j, (target - dot) / squared, k, g, c, h);
        conflictSetSize[i]++;
      }
      c[i] -= 1;
      correctionNorm[i] = normFromSquare(quadraticForm(k, g, c));
      c[i] += 1;
      for (let j = 0; j < k; j++) coefficients[j] += c[j];
    }
    const weights = new Float64Array(k);
    for (let j = 0; j < k; j++) weights[j] = (scales[j] * coefficients[j]) / k;
    return {
      weights,
      state: { rng },
      projection: { conflictSetSize, correctionNorm, magnitudeScale: Array.from(scales) },
      flags: zeroTasks > 0 ? ["zero-gradient"] : [],
    };
  },
});
