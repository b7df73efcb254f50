import { advanceRandom, finalise, skipRandom, uniformOf } from "../core/random";

/**
 * The seeded generator of src/core/random.ts (the one PCGrad's task order uses) as an object,
 * with normals and integers: its whole state is one integer, so a checkpoint can store it and a
 * resumed run draws the same numbers.
 */
export class Rng {
  constructor(private state: number) {
    this.state = state >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = advanceRandom(this.state);
    return uniformOf(this.state);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  getState(): number {
    return this.state;
  }
}

/** Mixes integers into one 31-bit seed (for per-step, per-layer dropout seeds). */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x01000193) >>> 0;
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  }
  return h & 0x7fffffff;
}

/** A permutation of 0..n-1 drawn from `rng` (Fisher–Yates). */
export function permutation(n: number, rng: Rng): Int32Array {
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
  }
  return order;
}

/**
 * Rows [firstRow, firstRow + rows) of a dropout mask [batch, columns]: element i (row-major over
 * the whole batch) is the i-th draw of the stream seeded `seed`, kept (scaled by 1/(1 − rate))
 * when at least `rate`. The stream is a counter (src/core/random.ts), so a slice of the batch
 * draws exactly the masks the whole batch would: a step split over threads drops the same units.
 */
export function dropoutMask(
  seed: number,
  rate: number,
  columns: number,
  firstRow: number,
  rows: number,
): Float32Array {
  const mask = new Float32Array(rows * columns);
  const scale = 1 / (1 - rate);
  // uniformOf(state) >= rate, in integers: the loop runs over every unit of every layer each step.
  const threshold = Math.ceil(rate * 4294967296);
  let state = skipRandom(seed >>> 0, firstRow * columns);
  for (let i = 0; i < mask.length; i++) {
    state = advanceRandom(state);
    if (finalise(state) >= threshold) mask[i] = scale;
  }
  return mask;
}
