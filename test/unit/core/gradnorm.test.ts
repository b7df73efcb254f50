import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gradnorm } from "../../../src/core/strategies/gradnorm";

function diagonalGram(norms: number[]): Float64Array {
  const k = norms.length;
  const gram = new Float64Array(k * k);
  for (let t = 0; t < k; t++) gram[t * k + t] = norms[t] * norms[t];
  return gram;
}

function run(norms: number[], lossesPerStep: number[][], params: Record<string, unknown> = {}) {
  const p = gradnorm.params.parse(params);
  const k = norms.length;
  let state = gradnorm.init(k, p);
  let weights: Float64Array = new Float64Array(k);
  for (let s = 0; s < lossesPerStep.length; s++) {
    const result = gradnorm.step(
      { k, gram: diagonalGram(norms), losses: Float64Array.from(lossesPerStep[s]), step: s + 1 },
      p,
      state,
    );
    weights = result.weights;
    assert.deepEqual(Array.from(result.towerWeights ?? []), Array.from(weights));
    state = result.state;
  }
  return { weights, state };
}

describe("gradnorm", () => {
  it("starts from weights 1 and keeps the learned weights summing to K", () => {
    const { weights, state } = run(
      [1, 3, 0.5],
      [
        [1, 1, 1],
        [0.9, 0.5, 1],
        [0.8, 0.4, 1.2],
      ],
    );
    assert.equal(weights.length, 3);
    assert.ok(Math.abs(state.weights.reduce((a, b) => a + b, 0) - 3) < 1e-12);
  });

  it("lowers the weight of the task whose weighted gradient norm is above the common target", () => {
    const { state } = run([1, 10], [[1, 1]], { optimizer: "sgd", lr: 0.01 });
    // Target = mean(1, 10) = 5.5 for both (equal loss ratios): task 0 is below, task 1 above.
    // SGD: w0 = 1 + 0.01·1, w1 = 1 − 0.01·10, then renormalised to sum 2.
    const w0 = 1.01;
    const w1 = 0.9;
    assert.ok(Math.abs(state.weights[0] - (2 * w0) / (w0 + w1)) < 1e-12);
    assert.ok(Math.abs(state.weights[1] - (2 * w1) / (w0 + w1)) < 1e-12);
  });

  it("balances weighted gradient norms when the tasks train at equal rates", () => {
    const steps = Array.from({ length: 800 }, () => [1, 1]);
    const { state } = run([1, 4], steps, { lr: 0.01 });
    // w0·1 = w1·4 and w0 + w1 = 2 → w = (1.6, 0.4), up to Adam's ± lr oscillation.
    assert.ok(Math.abs(state.weights[0] - 1.6) < 0.05, String(state.weights));
    assert.ok(Math.abs(state.weights[1] - 0.4) < 0.05, String(state.weights));
  });

  it("gives more weight to the task whose loss fell least (equal gradient norms)", () => {
    const steps = [[1, 1]];
    for (let s = 0; s < 100; s++) steps.push([0.2, 0.9]);
    const { state } = run([1, 1], steps, { lr: 0.01 });
    assert.ok(state.weights[1] > state.weights[0] + 0.5, String(state.weights));
  });

  it("uses a fixed initial loss when given (the GradCraft repository's ln 2)", () => {
    const { state } = run([1, 1], [[0.5, 0.5]], { initialLoss: Math.LN2 });
    assert.deepEqual(state.initialLosses, [Math.LN2, Math.LN2]);
  });

  it("zero gradients and zero losses give finite weights", () => {
    const { weights, state } = run(
      [0, 0, 2],
      [
        [0, 0, 0],
        [0, 1, 0],
        [0, 0, 0],
      ],
    );
    for (const w of [...weights, ...state.weights]) assert.ok(Number.isFinite(w) && w > 0);
  });

  it("rejects a non-finite loss or gradient naming the task", () => {
    const p = gradnorm.params.parse({});
    assert.throws(
      () =>
        gradnorm.step(
          { k: 2, gram: diagonalGram([1, 1]), losses: Float64Array.from([1, Number.NaN]), step: 1 },
          p,
          gradnorm.init(2, p),
        ),
      /task 1/,
    );
    const bad = diagonalGram([1, 1]);
    bad[3] = Number.POSITIVE_INFINITY;
    assert.throws(
      () =>
        gradnorm.step(
          { k: 2, gram: bad, losses: Float64Array.from([1, 1]), step: 1 },
          p,
          gradnorm.init(2, p),
        ),
      /task 1/,
    );
  });
});
