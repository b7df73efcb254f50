import { z } from "zod";
import { defineStrategy } from "../strategy";

/**
 * Equal weighting: the mean of the task gradients. The baseline every paper compares with
 * (called EW in GradCraft, Bai et al., KDD 2024; "average" in its official code).
 */
export const ew = defineStrategy({
  name: "ew",
  title: "Equal weighting",
  summary: "Mean of the task gradients.",
  citation: "Baseline (EW) as in Bai et al., GradCraft, KDD 2024",
  params: z.object({}),
  usesLosses: false,
  init: () => null,
  step: ({ k }, _params, state) => {
    return { weights: new Float64Array(k).fill(1 / k), state };
  },
});
