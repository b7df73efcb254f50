import { z } from "zod";
import { taskNorms } from "../linalg/gram";
import { defineStrategy } from "../strategy";
import { type AdamMoments, assertFiniteLosses, freshMoments, optimizerStep } from "./uw";

export interface GradNormState {
  /** The learned task weights w_t (sum K). */
  readonly weights: number[];
  /** L_t(0): the losses of the first step (or the `initialLoss` parameter). */
  readonly initialLosses: number[] | null;
  readonly moments: AdamMoments;
}

/** Floor for a learned weight before renormalising: a weight never reaches 0 or below. */
const MIN_WEIGHT = 1e-6;

/**
 * GradNorm (Chen et al., ICML 2018). Learned task weights w_t (start 1) multiply the task losses;
 * each step they move by one optimizer step down the gradient of
 * L_grad = Σ_t | w_t‖g_t‖ − mean_j(w_j‖g_j‖)·r_t^α |, with the target treated as a constant,
 * r_t = L̃_t / mean(L̃), L̃_t = L_t / L_t(0), and are then renormalised to sum K (the paper). Norms
 * come from the Gram diagonal, i.e. the gradient on all shared parameters (the paper uses the last
 * shared layer; LibMTL uses all shared parameters too). The step returns the weights it started
 * from, as a joint optimizer step would. The GradCraft repository's variant (weights summing to 1,
 * L_t(0) = ln 2) corresponds to `initialLoss: 0.693147` and a 1/K rescale of the learning rate.
 */
export const gradnorm = defineStrategy({
  name: "gradnorm",
  title: "GradNorm",
  summary: "Loss weights learned so weighted gradient norms follow relative training rates.",
  citation: "Chen et al., GradNorm: Gradient Normalization for Adaptive Loss Balancing, ICML 2018",
  params: z
    .object({
      alpha: z
        .number()
        .min(0)
        .max(10)
        .default(1.5)
        .meta({ unit: "exponent of the relative training rate" })
        .describe("Strength of the restoring force towards a common training rate (paper: 1.5)."),
      lr: z
        .number()
        .positive()
        .max(10)
        .default(1e-2)
        .meta({ unit: "step size of the task weights" })
        .describe("Learning rate of the task weights."),
      optimizer: z.enum(["adam", "sgd"]).default("adam").describe("Optimizer of the task weights."),
      initialLoss: z
        .number()
        .positive()
        .optional()
        .meta({ unit: "loss (nats)" })
        .describe("L_t(0) for every task; Default: none (each task's loss at the first step)."),
    })
    .strict(),
  usesLosses: true,
  init: (k): GradNormState => ({
    weights: new Array<number>(k).fill(1),
    initialLosses: null,
    moments: freshMoments(k),
  }),
  step: ({ k, gram, losses }, params, state: GradNormState) => {
    assertFiniteLosses(k, losses, "gradnorm");
    if (state.weights.length !== k)
      throw new Error(`gradnorm: state holds ${state.weights.length} tasks, not ${k}`);
    const initialLosses =
      state.initialLosses ??
      (params.initialLoss !== undefined ? new Array<number>(k).fill(params.initialLoss) : Array.from(losses));

    // Relative inverse training rates r_t (1 where a ratio is undefined).
    const ratios = new Float64Array(k);
    let ratioMean = 0;
    for (let t = 0; t < k; t++) {
      ratios[t] = initialLosses[t] > 0 ? losses[t] / initialLosses[t] : 1;
      ratioMean += ratios[t] / k;
    }
    const weightedNorms = new Float64Array(k);
    const norms = taskNorms(k, gram);
    let averageNorm = 0;
    for (let t = 0; t < k; t++) {
      weightedNorms[t] = state.weights[t] * norms[t];
      averageNorm += weightedNorms[t] / k;
    }
    const gradient = new Float64Array(k);
    for (let t = 0; t < k; t++) {
      const relative = ratioMean > 0 ? Math.max(0, ratios[t] / ratioMean) : 1;
      const target = averageNorm * relative ** params.alpha;
      gradient[t] = Math.sign(weightedNorms[t] - target) * norms[t];
    }
    const next = optimizerStep(params.optimizer, params.lr, state.weights, gradient, state.moments);
    const floored = next.x.map((w) => Math.max(w, MIN_WEIGHT));
    const total = floored.reduce((sum, w) => sum + w, 0);
    const renormalised = floored.map((w) => (k * w) / total);

    const weights = Float64Array.from(state.weights);
    return {
      weights,
      towerWeights: Float64Array.from(weights),
      state: { weights: renormalised, initialLosses, moments: next.moments },
    };
  },
});
