import { z } from "zod";
import { assertFiniteGram } from "../linalg/gram";
import { nextRandom } from "../random";
import { defineStrategy } from "../strategy";

/**
 * PCGrad (Yu et al., "Gradient Surgery for Multi-Task Learning", NeurIPS 2020), as the GradCraft
 * repository's solvers/pc_grad.py (the paper's baseline) computes it: for each task i, pc_i starts
 * at g_i and visits the ORIGINAL gradients g_j in a shuffled order, j = i included; whenever
 * pc_i·g_j < 0 it removes that component: pc_i −= (pc_i·g_j)/(‖g_j‖² + δ)·g_j. The update is the
 * mean of the pc_i (`reduction: "sum"` and `denominatorEps: 1e-8` give LibMTL's flavour).
 * In Gram space pc_i is a coefficient vector c (pc_i = Σ c_j g_j) and pc_i·g_j = (Gc)_j.
 */

/** Fisher–Yates shuffle of `items` in place with the seeded generator (core/random); returns the new state. */
export function shuffleInPlace(items: number[], state: number): number {
  let s = state;
  for (let i = items.length - 1; i > 0; i--) {
    const r = nextRandom(s);
    s = r.state;
    const j = Math.floor(r.value * (i + 1));
    const t = items[i];
    items[i] = items[j];
    items[j] = t;
  }
  return s;
}

/**
 * Checks replayed visiting orders: one list per task, each a permutation of the allowed indices
 * (every task, or every other task when `excludeSelf`).
 */
export function checkOrders(who: string, k: number, orders: number[][], excludeSelf: boolean): void {
  if (orders.length !== k)
    throw new Error(`${who}: "orders" has ${orders.length} lists, expected one per task (${k})`);
  for (let i = 0; i < k; i++) {
    const order = orders[i];
    const expected = excludeSelf ? k - 1 : k;
    const seen = new Set(order);
    const valid =
      order.length === expected &&
      seen.size === expected &&
      order.every((j) => Number.isInteger(j) && j >= 0 && j < k && !(excludeSelf && j === i));
    if (!valid)
      throw new Error(
        `${who}: orders[${i}] = [${order.join(", ")}] must be a permutation of the task indices` +
          (excludeSelf ? ` other than ${i}` : ` 0..${k - 1}`),
      );
  }
}

export const ordersParam = z
  .array(z.array(z.number().int().min(0)))
  .optional()
  .describe("Explicit visiting order per task (replays a recorded run); replaces the seeded shuffle.");

export const pcgradParams = z.object({
  seed: z.number().int().min(0).max(4294967295).default(0).describe("Seed of the reproducible task order."),
  reduction: z
    .enum(["mean", "sum"])
    .default("mean")
    .describe('"mean" of the projected gradients (GradCraft repo) or their "sum" (LibMTL).'),
  denominatorEps: z
    .number()
    .min(0)
    .max(1)
    .default(0)
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
    assertFiniteGram(k, gram, "pcgrad");
    if (params.orders) checkOrders("pcgrad", k, params.orders, false);
    let rng = state.rng >>> 0;
    const weights = new Float64Array(k);
    const c = new Float64Array(k);
    const h = new Float64Array(k);
    const order: number[] = [];
    const conflictSetSize = new Array<number>(k).fill(0);
    const correctionNorm = new Array<number>(k).fill(0);
    let zeroTasks = 0;
    for (let t = 0; t < k; t++) if (!(gram[t * k + t] > 0)) zeroTasks++;
    for (let i = 0; i < k; i++) {
      if (params.orders) {
        order.length = 0;
        order.push(...params.orders[i]);
      } else {
        order.length = 0;
        for (let j = 0; j < k; j++) order.push(j);
        rng = shuffleInPlace(order, rng);
      }
      c.fill(0);
      c[i] = 1;
      for (let t = 0; t < k; t++) h[t] = gram[i * k + t];
      for (const j of order) {
        const dot = h[j];
        if (!(dot < 0)) continue;
        const w = -dot / (gram[j * k + j] + params.denominatorEps);
        c[j] += w;
        for (let t = 0; t < k; t++) h[t] += w * gram[j * k + t];
        conflictSetSize[i]++;
      }
      // ‖pc_i − g_i‖² = δᵀGδ with δ = c − e_i.
      c[i] -= 1;
      correctionNorm[i] = Math.sqrt(Math.max(0, quadratic(k, gram, c)));
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

/** xᵀ G x. */
export function quadratic(k: number, gram: ArrayLike<number>, x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < k; i++) {
    if (x[i] === 0) continue;
    let row = 0;
    for (let j = 0; j < k; j++) row += gram[i * k + j] * x[j];
    sum += x[i] * row;
  }
  return sum;
}
