/**
 * Seeded numbers for test and benchmark fixtures: fixtures are generated, never copied from our
 * own output. mulberry32 is small and its sequence is fixed for a seed everywhere, so
 * a failing case can be replayed by its seed.
 */

/** Seeded uniform numbers in [0, 1) (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal from two uniforms (Box–Muller; 1 − u keeps the logarithm finite). */
export function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** K task gradients of dimension D, entries uniform in [−1, 1), drawn row by row. */
export function randomGrads(k: number, d: number, seed: number): number[][] {
  const next = mulberry32(seed);
  return Array.from({ length: k }, () => Array.from({ length: d }, () => 2 * next() - 1));
}
