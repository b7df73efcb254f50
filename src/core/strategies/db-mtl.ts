import { z } from "zod";
import { taskNorms } from "../linalg/gram";
import { defineStrategy } from "../strategy";

/**
 * DB-MTL, gradient part (Lin et al., "Dual-Balancing for Multi-Task Learning", 2023; LibMTL's
 * DB_MTL): the trainer differentiates log(L_t + 1e-8) (lossTransform "log"); each task's gradient
 * is rescaled to the largest (EMA) gradient norm and the rescaled gradients are SUMMED.
 * LibMTL keeps an EMA of the gradient VECTORS, buf ← g + β/step^σ·(buf − g), and sums
 * max‖buf‖/(‖buf_t‖ + 1e-8)·buf_t. Vectors cannot live in Gram space, so we keep the EMA of the
 * gradient NORMS ν_t instead and apply it to the current direction: α_t = max ν/(ν_t + 1e-8)·ν_t/‖g_t‖.
 * On the first step (buf = (1−β)g) this equals LibMTL exactly; later steps use the current
 * gradient direction instead of the momentum direction (a documented deviation).
 */
export const dbMtlParams = z.object({
  beta: z
    .number()
    .min(0)
    .max(1)
    .default(0.9)
    .meta({ unit: "EMA rate per step, 0 to 1" })
    .describe("EMA rate β of the gradient norms, in [0, 1]."),
  betaSigma: z
    .number()
    .min(0)
    .max(10)
    .default(0)
    .meta({ unit: "exponent of the step" })
    .describe("Decay σ: the EMA rate at step s is β/s^σ."),
});
export type DbMtlParams = z.infer<typeof dbMtlParams>;

export interface DbMtlState {
  /** Steps taken by this strategy instance. */
  readonly step: number;
  /** EMA ν_t of each task's gradient norm (0 before the first step, as LibMTL's buffer). */
  readonly norms: number[];
}

export const dbMtl = defineStrategy({
  name: "db-mtl",
  title: "DB-MTL",
  summary: "Log-loss gradients rescaled to the largest (EMA) gradient norm, then summed.",
  citation: "Lin et al., Dual-Balancing for Multi-Task Learning, arXiv:2308.12029 (2023)",
  params: dbMtlParams,
  usesLosses: false,
  lossTransform: "log",
  init: (k: number): DbMtlState => ({ step: 0, norms: new Array<number>(k).fill(0) }),
  step: ({ k, gram }, params, state: DbMtlState) => {
    if (state.norms.length !== k)
      throw new Error(`db-mtl: state holds ${state.norms.length} norms, expected ${k}`);
    const step = state.step + 1;
    const rate = params.beta / step ** params.betaSigma;
    const current = taskNorms(k, gram);
    const norms = new Array<number>(k);
    let largest = 0;
    for (let t = 0; t < k; t++) {
      norms[t] = current[t] + rate * (state.norms[t] - current[t]);
      largest = Math.max(largest, norms[t]);
    }
    const weights = new Float64Array(k);
    let zeroTasks = 0;
    for (let t = 0; t < k; t++) {
      if (current[t] > 0) weights[t] = ((largest / (norms[t] + 1e-8)) * norms[t]) / current[t];
      else zeroTasks++;
    }
    return { weights, state: { step, norms }, flags: zeroTasks > 0 ? ["zero-gradient"] : [] };
  },
});
