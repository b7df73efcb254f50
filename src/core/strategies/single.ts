import { z } from "zod";
import { defineStrategy } from "../strategy";

/**
 * Single-task: the update is one chosen task's gradient (the "Single" row of the GradCraft
 * paper's tables, where each task is trained alone; here the others still train their towers).
 */
export const singleParams = z.object({
  task: z
    .number()
    .int()
    .min(0)
    .max(31)
    .default(0)
    .meta({ unit: "task index" })
    .describe("Index of the task whose gradient is followed."),
});

export const single = defineStrategy({
  name: "single",
  title: "Single task",
  summary: "Follow one task's gradient on the shared parameters.",
  citation: "Baseline (Single) as in Bai et al., GradCraft, KDD 2024",
  params: singleParams,
  usesLosses: false,
  init: () => null,
  step: ({ k, gram }, params, state) => {
    if (params.task >= k)
      throw new Error(`single: task ${params.task} does not exist (there are ${k} tasks)`);
    const weights = new Float64Array(k);
    weights[params.task] = 1;
    return { weights, state, flags: gram[params.task * k + params.task] > 0 ? [] : ["zero-gradient"] };
  },
});
