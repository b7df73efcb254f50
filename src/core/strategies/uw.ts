import { z } from "zod";
import { defineStrategy } from "../strategy";

/** Adam's moment estimates for a small parameter vector, serialisable. */
export interface AdamMoments {
  readonly m: number[];
  readonly v: number[];
  /** Number of updates applied so far (bias correction). */
  readonly t: number;
}

export function freshMoments(k: number): AdamMoments {
  return { m: new Array<number>(k).fill(0), v: new Array<number>(k).fill(0), t: 0 };
}

/**
 * One Adam (Kingma & Ba 2015, β1 0.9, β2 0.999, ε 1e-8 as in torch) or plain SGD step on `x`
 * along `gradient`; returns new arrays, leaving the inputs alone.
 */
export function optimizerStep(
  optimizer: "adam" | "sgd",
  lr: number,
  x: readonly number[],
  gradient: ArrayLike<number>,
  moments: AdamMoments,
): { x: number[]; moments: AdamMoments } {
  const k = x.length;
  if (optimizer === "sgd") {
    return { x: x.map((value, i) => value - lr * gradient[i]), moments };
  }
  const t = moments.t + 1;
  const m = new Array<number>(k);
  const v = new Array<number>(k);
  const next = new Array<number>(k);
  const correction1 = 1 - 0.9 ** t;
  const correction2 = 1 - 0.999 ** t;
  for (let i = 0; i < k; i++) {
    m[i] = 0.9 * moments.m[i] + 0.1 * gradient[i];
    v[i] = 0.999 * moments.v[i] + 0.001 * gradient[i] * gradient[i];
    next[i] = x[i] - (lr * (m[i] / correction1)) / (Math.sqrt(v[i] / correction2) + 1e-8);
  }
  return { x: next, moments: { m, v, t } };
}

/** Throws a clear Error when the losses are missing, of the wrong length, or not finite. */
export function assertFiniteLosses(k: number, losses: ArrayLike<number>, who: string): void {
  if (losses.length !== k)
    throw new Error(`${who}: needs one loss per task (${k}), got ${losses.length} (pass "losses")`);
  for (let t = 0; t < k; t++)
    if (!Number.isFinite(losses[t]))
      throw new Error(`${who}: the loss of task ${t} is not finite (${losses[t]})`);
}

export interface UwState {
  /** s_t = log σ_t², the learned log-variances. */
  readonly logVariance: number[];
  readonly moments: AdamMoments;
}

/**
 * Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018), in LibMTL's form: learned
 * log-variances s_t and the objective Σ_t ½·exp(−s_t)·L_t + ½·s_t (Kendall's eq. 7, regression
 * form, with s = log σ²). The task weight is ½·exp(−s_t), applied to the whole task loss (shared
 * and tower gradients), summed over tasks as LibMTL does. s starts at −0.5 (LibMTL). Each step
 * returns the weights of the current s and then takes one optimizer step on s with
 * ∂/∂s_t = ½(1 − exp(−s_t)·L_t), as a joint optimizer step on network and s would; s is kept in
 * ±`logVarianceBound` so the weights stay finite when a loss is 0.
 */
export const uw = defineStrategy({
  name: "uw",
  title: "Uncertainty weighting",
  summary: "Loss weights ½·exp(−s_t) with learned log-variances s_t (Kendall et al.).",
  citation: "Kendall, Gal & Cipolla, Multi-Task Learning Using Uncertainty to Weigh Losses, CVPR 2018",
  params: z
    .object({
      lr: z
        .number()
        .positive()
        .max(10)
        .default(1e-3)
        .meta({ unit: "step size of the log-variances" })
        .describe("Learning rate of the log-variances (LibMTL trains them with the network's optimizer)."),
      optimizer: z.enum(["adam", "sgd"]).default("adam").describe("Optimizer of the log-variances."),
      initialLogVariance: z
        .number()
        .min(-20)
        .max(20)
        .default(-0.5)
        .meta({ unit: "log σ² (natural log)" })
        .describe("Starting s_t = log σ_t² for every task (LibMTL: −0.5)."),
      logVarianceBound: z
        .number()
        .positive()
        .max(50)
        .default(20)
        .meta({ unit: "log σ² (natural log)" })
        .describe("s_t is kept within ± this bound (weights between ½e^−bound and ½e^bound)."),
    })
    .strict(),
  usesLosses: true,
  init: (k, params): UwState => ({
    logVariance: new Array<number>(k).fill(params.initialLogVariance),
    moments: freshMoments(k),
  }),
  step: ({ k, losses }, params, state: UwState) => {
    assertFiniteLosses(k, losses, "uw");
    if (state.logVariance.length !== k)
      throw new Error(`uw: state holds ${state.logVariance.length} log-variances for ${k} tasks`);
    const weights = new Float64Array(k);
    const gradient = new Float64Array(k);
    for (let t = 0; t < k; t++) {
      const precision = Math.exp(-state.logVariance[t]);
      weights[t] = 0.5 * precision;
      gradient[t] = 0.5 * (1 - precision * losses[t]);
    }
    const next = optimizerStep(params.optimizer, params.lr, state.logVariance, gradient, state.moments);
    const bound = params.logVarianceBound;
    const logVariance = next.x.map((s) => Math.min(bound, Math.max(-bound, s)));
    return {
      weights,
      towerWeights: Float64Array.from(weights),
      state: { logVariance, moments: next.moments },
    };
  },
});
