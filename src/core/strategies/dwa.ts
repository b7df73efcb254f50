import { z } from "zod";
import { defineStrategy } from "../strategy";
import { assertFiniteLosses } from "./uw";

export interface DwaState {
  /** Per-task sum of the losses seen in the current window. */
  readonly windowSum: number[];
  /** Steps in the current window. */
  readonly windowSteps: number;
  /** Average losses of the last completed window, and of the one before it. */
  readonly lastAverage: number[] | null;
  readonly previousAverage: number[] | null;
}

/**
 * Dynamic Weight Average (Liu, Johns & Davison, "End-to-End Multi-Task Learning with Attention",
 * CVPR 2019), as LibMTL implements it: with w_t = L̄_t(e−1) / L̄_t(e−2) the ratio of a task's
 * average loss over the last two epochs, the weights are K·softmax(w / T); before two epochs are
 * complete every weight is 1. The weights multiply the whole task loss (towers too) and sum to K,
 * as in the paper and LibMTL. Our trainer calls the strategy every batch and epochs are not known
 * here, so an "epoch" is a window of `window` consecutive steps; set it to the batches per epoch to
 * match LibMTL exactly.
 */
export const dwa = defineStrategy({
  name: "dwa",
  title: "Dynamic Weight Average",
  summary: "Loss weights K·softmax(loss ratio of the last two windows / T).",
  citation: "Liu, Johns & Davison, End-to-End Multi-Task Learning with Attention, CVPR 2019",
  params: z
    .object({
      temperature: z
        .number()
        .positive()
        .max(1e6)
        .default(2)
        .meta({ unit: "softmax temperature" })
        .describe("Softmax temperature T (paper: 2)."),
      window: z
        .number()
        .int()
        .min(1)
        .default(100)
        .meta({ unit: "steps" })
        .describe("Steps averaged into one loss 'epoch' (LibMTL: one epoch; use the batches per epoch)."),
    })
    .strict(),
  usesLosses: true,
  init: (k): DwaState => ({
    windowSum: new Array<number>(k).fill(0),
    windowSteps: 0,
    lastAverage: null,
    previousAverage: null,
  }),
  step: ({ k, losses }, params, state: DwaState) => {
    assertFiniteLosses(k, losses, "dwa");
    if (state.windowSum.length !== k)
      throw new Error(`dwa: state holds ${state.windowSum.length} tasks, not ${k}`);
    const weights = new Float64Array(k).fill(1);
    if (state.lastAverage !== null && state.previousAverage !== null) {
      const scores = new Float64Array(k);
      let largest = Number.NEGATIVE_INFINITY;
      for (let t = 0; t < k; t++) {
        scores[t] = lossRatio(state.lastAverage[t], state.previousAverage[t]) / params.temperature;
        largest = Math.max(largest, scores[t]);
      }
      // Softmax shifted by its largest score: exp never overflows.
      let total = 0;
      for (let t = 0; t < k; t++) {
        scores[t] = Math.exp(scores[t] - largest);
        total += scores[t];
      }
      for (let t = 0; t < k; t++) weights[t] = (k * scores[t]) / total;
    }

    const windowSum = state.windowSum.map((sum, t) => sum + losses[t]);
    const windowSteps = state.windowSteps + 1;
    const next: DwaState =
      windowSteps >= params.window
        ? {
            windowSum: new Array<number>(k).fill(0),
            windowSteps: 0,
            lastAverage: windowSum.map((sum) => sum / windowSteps),
            previousAverage: state.lastAverage,
          }
        : { ...state, windowSum, windowSteps };
    return { weights, towerWeights: Float64Array.from(weights), state: next };
  },
});

/**
 * L̄(e−1)/L̄(e−2), never a division by zero: two zero averages count as steady (ratio 1); a loss
 * that rose from exactly 0 gets the cap, as does any ratio beyond ±1e6.
 */
function lossRatio(last: number, previous: number): number {
  if (previous === 0) return last === 0 ? 1 : 1e6;
  return Math.min(1e6, Math.max(-1e6, last / previous));
}
