import { z } from "zod";
import { nextRandom } from "../random";

/**
 * What the sequential one-vs-one projections share (PCGrad, PCGrad+, GradVac): in Gram space the
 * projected gradient pc_i is a coefficient vector c (pc_i = Σ_t c_t g_t) kept beside h = Gc, so
 * that pc_i·g_t = h_t for every t without touching a D-sized vector. Each method visits the other
 * gradients in a seeded random order (or a replayed one) and moves pc_i along some of them.
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

/** The seed of the one-vs-one projections' reproducible task order (PCGrad, PCGrad+, GradVac). */
export const seedParam = z
  .number()
  .int()
  .min(0)
  .max(4294967295)
  .default(0)
  .meta({ unit: "integer seed" })
  .describe("Seed of the reproducible task order.");

export const ordersParam = z
  .array(z.array(z.number().int().min(0)))
  .optional()
  .meta({ unit: "task indices" })
  .describe(
    "Explicit visiting order per task (replays a recorded run); replaces the seeded shuffle. Default: none (the seeded shuffle).",
  );

/**
 * Fills `order` with task i's visiting order: the replayed list when `orders` is given, else every
 * task (every other task when `excludeSelf`) shuffled. Returns the generator's new state.
 */
export function visitingOrder(
  order: number[],
  i: number,
  k: number,
  orders: number[][] | undefined,
  rng: number,
  excludeSelf: boolean,
): number {
  order.length = 0;
  if (orders) {
    order.push(...orders[i]);
    return rng;
  }
  for (let j = 0; j < k; j++) if (!(excludeSelf && j === i)) order.push(j);
  return shuffleInPlace(order, rng);
}

/** The working vectors of one step (c, h, a visiting order) and its per-task statistics. */
export function projectionBuffers(k: number) {
  return {
    c: new Float64Array(k),
    h: new Float64Array(k),
    order: [] as number[],
    conflictSetSize: new Array<number>(k).fill(0),
    correctionNorm: new Array<number>(k).fill(0),
  };
}

/** pc_i starts at g_i: c = e_i, h = G e_i. */
export function startAt(
  i: number,
  k: number,
  gram: ArrayLike<number>,
  c: Float64Array,
  h: Float64Array,
): void {
  c.fill(0);
  c[i] = 1;
  for (let t = 0; t < k; t++) h[t] = gram[i * k + t];
}

/** pc_i += w·g_j, keeping h = Gc. */
export function moveAlong(
  j: number,
  w: number,
  k: number,
  gram: ArrayLike<number>,
  c: Float64Array,
  h: Float64Array,
): void {
  c[j] += w;
  for (let t = 0; t < k; t++) h[t] += w * gram[j * k + t];
}

/** ‖pc_i‖² = cᵀGc = c·h. */
export function squaredNorm(k: number, c: Float64Array, h: Float64Array): number {
  let sum = 0;
  for (let t = 0; t < k; t++) sum += c[t] * h[t];
  return sum;
}
