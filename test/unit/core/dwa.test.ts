import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { dwa } from "../../../src/core/strategies/dwa";

const gram3 = new Float64Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);

function feed(lossesPerStep: number[][], params: Record<string, unknown>) {
  const p = dwa.params.parse(params);
  const k = lossesPerStep[0].length;
  let state = dwa.init(k, p);
  const weights: number[][] = [];
  for (let s = 0; s < lossesPerStep.length; s++) {
    const gram = k === 3 ? gram3 : new Float64Array(k * k).map((_, i) => (i % (k + 1) === 0 ? 1 : 0));
    const result = dwa.step({ k, gram, losses: Float64Array.from(lossesPerStep[s]), step: s + 1 }, p, state);
    weights.push(Array.from(result.weights));
    assert.deepEqual(Array.from(result.towerWeights ?? []), weights[s]);
    state = result.state;
  }
  return { weights, state };
}

describe("dwa (dynamic weight average)", () => {
  it("weights every task 1 until two windows are complete", () => {
    const { weights } = feed(
      [
        [1, 2, 3],
        [1, 2, 3],
        [0.5, 2, 3],
        [0.5, 2, 3],
      ],
      { window: 2 },
    );
    for (const w of weights) assert.deepEqual(w, [1, 1, 1]);
  });

  it("then uses K·softmax of the ratio of the last two window averages over T", () => {
    const { weights } = feed(
      [
        [1, 2, 4],
        [3, 2, 4], // window 1 averages: 2, 2, 4
        [1, 2, 1],
        [1, 2, 1], // window 2 averages: 1, 2, 1 → ratios 0.5, 1, 0.25
        [9, 9, 9],
      ],
      { window: 2, temperature: 2 },
    );
    const ratios = [0.5, 1, 0.25];
    const exps = ratios.map((r) => Math.exp(r / 2));
    const total = exps.reduce((a, b) => a + b, 0);
    const expected = exps.map((e) => (3 * e) / total);
    const got = weights[4];
    for (let t = 0; t < 3; t++) assert.ok(Math.abs(got[t] - expected[t]) < 1e-12, `task ${t}`);
    assert.ok(Math.abs(got.reduce((a, b) => a + b, 0) - 3) < 1e-12);
    // The task whose loss fell least gets the most weight.
    assert.ok(got[1] > got[0] && got[0] > got[2]);
  });

  it("a very high temperature gives equal weights", () => {
    const { weights } = feed(
      [
        [1, 1],
        [0.1, 10],
        [5, 5],
      ],
      { window: 1, temperature: 1e6 },
    );
    for (const w of weights[2]) assert.ok(Math.abs(w - 1) < 1e-4);
  });

  it("zero losses give finite weights, never NaN", () => {
    const { weights } = feed(
      [
        [0, 0, 1],
        [0, 1, 1],
        [0, 0, 0],
        [0, 0, 0],
      ],
      { window: 1 },
    );
    for (const w of weights) for (const x of w) assert.ok(Number.isFinite(x));
    assert.ok(Math.abs(weights[3].reduce((a, b) => a + b, 0) - 3) < 1e-12);
  });

  it("its state is plain JSON and the input state is left alone", () => {
    const p = dwa.params.parse({ window: 1 });
    const state = dwa.init(2, p);
    const before = JSON.stringify(state);
    const next = dwa.step(
      { k: 2, gram: new Float64Array([1, 0, 0, 1]), losses: Float64Array.from([1, 2]), step: 1 },
      p,
      state,
    );
    assert.equal(JSON.stringify(state), before);
    assert.deepEqual(JSON.parse(JSON.stringify(next.state)), next.state);
    assert.deepEqual(next.state.lastAverage, [1, 2]);
  });

  it("rejects a non-finite loss naming the task", () => {
    const p = dwa.params.parse({});
    assert.throws(
      () =>
        dwa.step(
          { k: 2, gram: new Float64Array([1, 0, 0, 1]), losses: Float64Array.from([Infinity, 1]), step: 1 },
          p,
          dwa.init(2, p),
        ),
      /loss of task 0/,
    );
  });
});
