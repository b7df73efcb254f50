import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { advanceRandom, nextRandom, uniformOf } from "../../../src/core/random";
import { shuffleInPlace } from "../../../src/core/strategies/projection";
import { Rng } from "../../../src/trainer/rng";

describe("the seeded generator (core/random)", () => {
  it("a stored state resumes the sequence exactly where it stopped", () => {
    let state = 12345;
    for (let i = 0; i < 10; i++) state = nextRandom(state).state;
    const resumed: number[] = [];
    let again = JSON.parse(JSON.stringify({ state })).state as number;
    const direct: number[] = [];
    for (let i = 0; i < 20; i++) {
      const a = nextRandom(state);
      const b = nextRandom(again);
      direct.push(a.value);
      resumed.push(b.value);
      state = a.state;
      again = b.state;
    }
    assert.deepEqual(resumed, direct);
  });

  it("draws lie in [0, 1) and average about one half", () => {
    let state = 7;
    let sum = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const r = nextRandom(state);
      assert.ok(r.value >= 0 && r.value < 1, `draw ${i} is ${r.value}`);
      sum += r.value;
      state = r.state;
    }
    // The standard error of the mean of n uniforms is 1/sqrt(12 n) ≈ 0.002.
    assert.ok(Math.abs(sum / n - 0.5) < 0.01, `mean ${sum / n}`);
  });

  it("different seeds give different sequences", () => {
    assert.notEqual(nextRandom(1).value, nextRandom(2).value);
    assert.notEqual(uniformOf(advanceRandom(0)), uniformOf(advanceRandom(advanceRandom(0))));
  });

  it("the trainer's Rng and PCGrad's shuffle draw from the same generator", () => {
    for (const seed of [0, 1, 42, 0xffffffff]) {
      const rng = new Rng(seed);
      let state = seed >>> 0;
      for (let i = 0; i < 50; i++) {
        const r = nextRandom(state);
        state = r.state;
        assert.equal(rng.next(), r.value);
        assert.equal(rng.getState(), state);
      }
    }
    // A shuffle of five items takes four draws: j = floor(u·(i+1)) for i = 4..1.
    const items = [0, 1, 2, 3, 4];
    const rng = new Rng(9);
    const expected = [0, 1, 2, 3, 4];
    for (let i = expected.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [expected[i], expected[j]] = [expected[j], expected[i]];
    }
    assert.equal(shuffleInPlace(items, 9), rng.getState());
    assert.deepEqual(items, expected);
  });
});
