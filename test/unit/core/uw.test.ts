import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { uw } from "../../../src/core/strategies/uw";

const gram2 = new Float64Array([1, 0.2, 0.2, 2]);

function run(losses: number[], params: Record<string, unknown> = {}, steps = 1) {
  const p = uw.params.parse(params);
  let state = uw.init(losses.length, p);
  let result = uw.step(
    { k: losses.length, gram: gram2, losses: Float64Array.from(losses), step: 1 },
    p,
    state,
  );
  for (let s = 1; s < steps; s++) {
    state = result.state;
    result = uw.step(
      { k: losses.length, gram: gram2, losses: Float64Array.from(losses), step: s + 1 },
      p,
      state,
    );
  }
  return result;
}

describe("uw (uncertainty weighting)", () => {
  it("starts at LibMTL's s = -0.5, i.e. weight ½·e^0.5 on the update and the towers", () => {
    const result = run([1, 3]);
    const expected = 0.5 * Math.exp(0.5);
    assert.deepEqual(Array.from(result.weights), [expected, expected]);
    assert.deepEqual(Array.from(result.towerWeights ?? []), [expected, expected]);
  });

  it("a first Adam step moves each log-variance by lr against the sign of ½(1 − e^−s L)", () => {
    // Bias-corrected Adam's first step is lr·sign(gradient) (up to its ε).
    const result = run([0.1, 5], { lr: 0.01 });
    // L = 0.1: gradient ½(1 − e^0.5·0.1) > 0 → s decreases; L = 5: gradient < 0 → s increases.
    assert.ok(Math.abs(result.state.logVariance[0] - (-0.5 - 0.01)) < 1e-9);
    assert.ok(Math.abs(result.state.logVariance[1] - (-0.5 + 0.01)) < 1e-9);
  });

  it("converges to the stationary point s_t = log L_t, so the weight becomes 1/(2 L_t)", () => {
    const losses = [0.25, 4];
    const result = run(losses, { optimizer: "sgd", lr: 0.5 }, 400);
    for (let t = 0; t < 2; t++) {
      assert.ok(Math.abs(result.state.logVariance[t] - Math.log(losses[t])) < 1e-6);
      assert.ok(Math.abs(result.weights[t] - 1 / (2 * losses[t])) < 1e-5);
    }
  });

  it("a zero loss drives s down only to the bound: weights stay finite", () => {
    const result = run([0, 1], { optimizer: "sgd", lr: 5, logVarianceBound: 10 }, 50);
    assert.equal(result.state.logVariance[0], -10);
    assert.ok(Number.isFinite(result.weights[0]) && result.weights[0] > 1000);
  });

  it("never mutates its state, and a JSON round trip of the state gives the same next step", () => {
    const p = uw.params.parse({});
    const first = uw.step(
      { k: 2, gram: gram2, losses: Float64Array.from([1, 2]), step: 1 },
      p,
      uw.init(2, p),
    );
    const snapshot = JSON.stringify(first.state);
    const input = { k: 2, gram: gram2, losses: Float64Array.from([0.5, 3]), step: 2 };
    const a = uw.step(input, p, first.state);
    const b = uw.step(input, p, JSON.parse(snapshot));
    assert.equal(JSON.stringify(first.state), snapshot);
    assert.deepEqual(Array.from(a.weights), Array.from(b.weights));
    assert.deepEqual(a.state, b.state);
  });

  it("rejects a non-finite loss naming the task, and a wrong number of losses", () => {
    const p = uw.params.parse({});
    assert.throws(
      () =>
        uw.step({ k: 2, gram: gram2, losses: Float64Array.from([1, Number.NaN]), step: 1 }, p, uw.init(2, p)),
      /loss of task 1/,
    );
    assert.throws(
      () => uw.step({ k: 2, gram: gram2, losses: Float64Array.from([1]), step: 1 }, p, uw.init(2, p)),
      /one loss per task/,
    );
  });

  it("rejects out-of-range parameters", () => {
    assert.equal(uw.params.safeParse({ lr: -1 }).success, false);
    assert.equal(uw.params.safeParse({ optimizer: "rmsprop" }).success, false);
    assert.equal(uw.params.safeParse({ bogus: 1 }).success, false);
  });
});
