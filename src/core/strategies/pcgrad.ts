import { z } from "zod";
import { normFromSquare, quadraticForm } from "../linalg/gram";
import { defineStrategy } from "../strategy";
import {
  checkOrders,
  moveAlong,
  ordersParam,
  projectionBuffers,
  seedParam,
  startAt,
  visitingOrder,
} from "./projection";

/**
 * PCGrad (Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020), as the GradCraft
 * repository's solvers/pc_grad.py (the paper's baseline) computes it: for each task i, pc_i starts
 * at g_i and visits the ORIGINAL gradients g_j in a shuffled order, j = i included; whenever
 * pc_i·g_j < 0 it removes that component: pc_i −= (pc_i·g_j)/(‖g_j‖² + δ)·g_j. The update is the
 * mean of the pc_i (`reduction: "sum"` and `denominatorEps: 1e-8` give LibMTL's flavour).
 * In Gram space pc_i is a coefficient vector c (pc_i = Σ c_j g_j) and pc_i·g_j = (Gc)_j.
 */

export const pcgradParams = z.object({
  seed: seedParam,
  reduction: z
    .enum(["mean", "sum"])
    .default("mean")
    .describe('"mean" of the projected gradients (GradCraft repo) or their "sum" (LibMTL).'),
  denominatorEps: z
    .number()
    .min(0)
    .max(1)
    .default(0)
    .meta({ unit: "squared gradient norm" })
    .describe("δ added to ‖g_j‖² in the projection (0 as the GradCraft repo; LibMTL uses 1e-8)."),
  orders: ordersParam,
});
export type PcgradParams = z.infer<typeof pcgradParams>;

export interface PcgradState {
  /** Generator state (uint32), advanced once per shuffle. */
  readonly rng: number;
}

export const pcgrad = defineStrategy({
  name: "pcgrad",
  title: "PCGrad",
  summary: "Project each task's gradient off the gradients it conflicts with, in a seeded random order.",
  citation: "Yu et al., Gradient Surgery for Multi-Task Learning, NeurIPS 2020",
  params: pcgradParams,
  usesLosses: false,
  init: (_k: number, params: PcgradParams): PcgradState => ({ rng: params.seed >>> 0 }),
  step: ({ k, gram }, params, state: PcgradState) => {
    if (params.orders) checkOrders("pcgrad", k, params.orders, false);
    let rng = state.rng >>> 0;
    const weights = new Float64Array(k);
    const { c, h, order, conflictSetSize, correctionNorm } = projectionBuffers(k);
    let zeroTasks = 0;
    for (let t = 0; t < k; t++) if (!(gram[t * k + t] > 0)) zeroTasks++;
    for (let i = 0; i < k; i++) {
      rng = visitingOrder(order, i, k, params.orders, rng, false);
      startAt(i, k, gram, c, h);
      for (const j of order) {
        const dot = h[j];
        if (!(dot < 0)) continue;
        moveAlong(j, -dot / (gram[j * k + j] + params.denominatorEps), k, gram, c, h);
        conflictSetSize[i]++;
      }
      // ‖pc_i − g_i‖² = δᵀGδ with δ = c − e_i.
      c[i] -= 1;
      correctionNorm[i] = normFromSquare(quadraticForm(k, gram, c));
      c[i] += 1;
      for (let j = 0; j < k; j++) weights[j] += c[j];
    }
    if (params.reduction === "mean") for (let j = 0; j < k; j++) weights[j] /= k;
    const flags: string[] = [];
    if (zeroTasks > 0) flags.push("zero-gradient");
    return {
      weights,
      state: { rng },
      projection: { conflictSetSize, correctionNorm, magnitudeScale: new Array<number>(k).fill(1) },
      flags,
    };
  },
});
