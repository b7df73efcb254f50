import { z } from "zod";
import { normFromSquare, taskNorms } from "../linalg/gram";
import { defineStrategy } from "../strategy";
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
 * Gradient Vaccine (Wang et al., "Gradient Vaccine: Investigating and Improving Multi-task
 * Optimization in Massively Multilingual Models", ICLR 2021), as LibMTL computes it for the whole
 * shared model (group_type 0): for task i and every other task j in a seeded random order,
 * ρ = pc_i·g_j/(‖pc_i‖‖g_j‖ + 1e-8); when ρ < ρ̂_ij, pc_i += g_j·‖pc_i‖(ρ̂√(1−ρ²) − ρ√(1−ρ̂²))
 * /(‖g_j‖√(1−ρ̂²) + 1e-8); then ρ̂_ij ← (1−β)ρ̂_ij + βρ. The update is the SUM of the pc_i
 * (LibMTL's convention). The targets ρ̂ (K×K, start at 0) are the state.
 */
export const gradvacParams = z.object({
  beta: z
    .number()
    .min(0)
    .max(1)
    .default(0.5)
    .meta({ unit: "EMA rate per step, 0 to 1" })
    .describe("EMA rate β of the cosine targets ρ̂, in [0, 1]."),
  seed: seedParam,
  orders: ordersParam,
});
export type GradvacParams = z.infer<typeof gradvacParams>;

export interface GradvacState {
  /** Row-major K×K cosine targets ρ̂_ij (diagonal unused). */
  readonly targets: number[];
  readonly rng: number;
}

export const gradvac = defineStrategy({
  name: "gradvac",
  title: "GradVac",
  summary: "Raise each pair's gradient cosine towards its running target.",
  citation:
    "Wang et al., Gradient Vaccine: Investigating and Improving Multi-task Optimization in Massively Multilingual Models, ICLR 2021",
  params: gradvacParams,
  usesLosses: false,
  init: (k: number, params: GradvacParams): GradvacState => ({
    targets: new Array<number>(k * k).fill(0),
    rng: params.seed >>> 0,
  }),
  step: ({ k, gram }, params, state: GradvacState) => {
    if (state.targets.length !== k * k)
      throw new Error(`gradvac: state holds ${state.targets.length} targets, expected ${k}×${k}`);
    if (params.orders) checkOrders("gradvac", k, params.orders, true);
    const targets = state.targets.slice();
    let rng = state.rng >>> 0;
    const norms = taskNorms(k, gram);
    const zeroTasks = norms.filter((n) => !(n > 0)).length;
    const weights = new Float64Array(k);
    const { c, h, order, conflictSetSize, correctionNorm } = projectionBuffers(k);
    for (let i = 0; i < k; i++) {
      rng = visitingOrder(order, i, k, params.orders, rng, true);
      startAt(i, k, gram, c, h);
      for (const j of order) {
        const pcNorm = normFromSquare(squaredNorm(k, c, h));
        const rho = h[j] / (pcNorm * norms[j] + 1e-8);
        const target = targets[i * k + j];
        if (rho < target) {
          const w =
            (pcNorm *
              (target * Math.sqrt(Math.max(0, 1 - rho * rho)) -
                rho * Math.sqrt(Math.max(0, 1 - target * target)))) /
            (norms[j] * Math.sqrt(Math.max(0, 1 - target * target)) + 1e-8);
          moveAlong(j, w, k, gram, c, h);
          conflictSetSize[i]++;
        }
        targets[i * k + j] = (1 - params.beta) * target + params.beta * rho;
      }
      let squared = 0;
      for (let x = 0; x < k; x++) {
        if (x === i || c[x] === 0) continue;
        for (let y = 0; y < k; y++) if (y !== i) squared += c[x] * gram[x * k + y] * c[y];
      }
      correctionNorm[i] = normFromSquare(squared);
      for (let j = 0; j < k; j++) weights[j] += c[j];
    }
    return {
      weights,
      state: { targets, rng },
      projection: { conflictSetSize, correctionNorm, magnitudeScale: new Array<number>(k).fill(1) },
      flags: zeroTasks > 0 ? ["zero-gradient"] : [],
    };
  },
});
