/**
 * The project's small seeded generator: a Weyl sequence (state += 0x9e3779b9) read through
 * murmur3's 32-bit finaliser. Its whole state is one uint32, so a strategy's state or a training
 * checkpoint stores it as a plain number and a resumed run draws the same numbers. Shared by
 * PCGrad's task order (src/core/strategies) and the trainer's Rng (src/trainer/rng.ts).
 */

const WEYL_INCREMENT = 0x9e3779b9;

/** The state after `state`. */
export function advanceRandom(state: number): number {
  return (state + WEYL_INCREMENT) >>> 0;
}

/**
 * The state `count` draws after `state`, in one step: the sequence is a counter, so any stretch
 * of it can be drawn without the draws before it.
 */
export function skipRandom(state: number, count: number): number {
  return (state + Math.imul(count, WEYL_INCREMENT)) >>> 0;
}

/** The uniform number in [0, 1) that a (just advanced) state stands for. */
export function uniformOf(state: number): number {
  return finalise(state) / 4294967296;
}

/** A state mixed by murmur3's 32-bit finaliser: the uint32 behind `uniformOf`. */
export function finalise(state: number): number {
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** One draw: the uniform in [0, 1) and the state to draw the next one from. */
export function nextRandom(state: number): { value: number; state: number } {
  const next = advanceRandom(state);
  return { value: uniformOf(next), state: next };
}
