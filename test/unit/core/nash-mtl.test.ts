import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gramMatrix } from "../../../src/core/linalg/gram";
import { nashMtl } from "../../../src/core/strategies/nash-mtl";
import { randomGrads } from "../helpers/random";

function solve(grads: number[][], params: Record<string, unknown> = {}, state?: unknown) {
  const k = grads.length;
  const p = nashMtl.params.parse(params);
  const gram = gramMatrix(grads);
  const result = nashMtl.step(
    { k, gram, losses: new Float64Array(k).fill(1), step: 1 },
    p,
    (state ?? nashMtl.init(k, p)) as never,
  );
  return { ...result, gram };
}

function gAlpha(k: number, gram: Float64Array, alpha: ArrayLike<number>): number[] {
  return Array.from({ length: k }, (_, i) => {
    let s = 0;
    for (let j = 0; j < k; j++) s += gram[i * k + j] * alpha[j];
    return s;
  });
}

describe("nash-mtl", () => {
  it("solves the bargaining equation α_t·(Gα)_t = 1 for random gradients (clipping off)", () => {
    for (const [k, d, seed] of [
      [2, 5, 1],
      [3, 10, 2],
      [6, 20, 3],
      [8, 40, 4],
      [16, 64, 5],
    ]) {
      const { weights, gram, flags } = solve(randomGrads(k, d, seed), { maxNorm: 0 });
      const product = gAlpha(k, gram, weights);
      for (let t = 0; t < k; t++) {
        assert.ok(weights[t] > 0);
        assert.ok(
          Math.abs(weights[t] * product[t] - 1) < 1e-8,
          `K=${k} task ${t}: ${weights[t] * product[t]}`,
        );
      }
      assert.equal(flags, undefined);
    }
  });

  it("with two tasks matches the closed form G11·a² = G22·b² (from G11 a² + G12 ab = 1 = G12 ab + G22 b²)", () => {
    const grads = [
      [-4, 1, 1],
      [6, 1, 1],
    ];
    const { weights, gram } = solve(grads, { maxNorm: 0 });
    assert.ok(Math.abs(weights[1] / weights[0] - Math.sqrt(gram[0] / gram[3])) < 1e-12);
    // TorchJD's documented example (same J, max_norm 1): update ≈ [0.0542, 0.7061, 0.7061].
    const clipped = solve(grads).weights;
    const update = [0, 1, 2].map((i) => clipped[0] * grads[0][i] + clipped[1] * grads[1][i]);
    assert.deepEqual(
      update.map((x) => Math.round(x * 1e4) / 1e4),
      [0.0542, 0.7061, 0.7061],
    );
  });

  it("orthogonal gradients get α_t = 1/‖g_t‖", () => {
    const { weights } = solve(
      [
        [3, 0, 0],
        [0, 0.5, 0],
        [0, 0, 2],
      ],
      { maxNorm: 0 },
    );
    assert.deepEqual(
      Array.from(weights).map((w) => Math.round(w * 1e10) / 1e10),
      [1 / 3, 2, 0.5].map((w) => Math.round(w * 1e10) / 1e10),
    );
  });

  it("clips the shared update to maxNorm but leaves the tower weights at α", () => {
    const grads = randomGrads(4, 12, 9);
    const free = solve(grads, { maxNorm: 0 });
    const clipped = solve(grads, { maxNorm: 0.5 });
    // Unclipped ‖u‖² = Σ α_t (Gα)_t = K.
    const norm = Math.sqrt(
      gAlpha(4, clipped.gram, clipped.weights).reduce((s, x, t) => s + x * clipped.weights[t], 0),
    );
    assert.ok(Math.abs(norm - 0.5) < 1e-9);
    for (let t = 0; t < 4; t++) {
      assert.ok(Math.abs((clipped.towerWeights as Float64Array)[t] - free.weights[t]) < 1e-9);
      assert.ok(Math.abs(clipped.weights[t] - (free.weights[t] * 0.5) / 2) < 1e-9);
    }
  });

  it("scaling the gradients by s scales the weights by 1/s", () => {
    const grads = randomGrads(5, 9, 11);
    const a = solve(grads, { maxNorm: 0 }).weights;
    const b = solve(
      grads.map((row) => row.map((x) => x * 1000)),
      { maxNorm: 0 },
    ).weights;
    for (let t = 0; t < 5; t++) assert.ok(Math.abs(b[t] * 1000 - a[t]) < 1e-9 * a[t]);
  });

  it("warm-starts from the previous α and reuses it between updates", () => {
    const grads = randomGrads(3, 7, 21);
    const p = { maxNorm: 0, updateWeightsEvery: 2 };
    const first = solve(grads, p);
    const other = randomGrads(3, 7, 22);
    const second = solve(other, p, first.state);
    assert.deepEqual(Array.from(second.weights), Array.from(first.weights));
    const third = solve(other, p, second.state);
    const product = gAlpha(3, third.gram, third.weights);
    for (let t = 0; t < 3; t++) assert.ok(Math.abs(third.weights[t] * product[t] - 1) < 1e-8);
    assert.deepEqual(JSON.parse(JSON.stringify(third.state)), third.state);
  });

  it("a zero gradient leaves that task out (weight 0, tower 1) and flags it", () => {
    const { weights, towerWeights, flags } = solve(
      [
        [0, 0],
        [1, 0],
        [0, 2],
      ],
      { maxNorm: 0 },
    );
    assert.equal(weights[0], 0);
    assert.equal((towerWeights as Float64Array)[0], 1);
    assert.ok(Math.abs(weights[1] - 1) < 1e-9 && Math.abs(weights[2] - 0.5) < 1e-9);
    assert.deepEqual(flags, ["zero-gradient"]);
  });

  it("opposite gradients (no bargaining solution) give finite weights and a flag", () => {
    const { weights, flags } = solve([
      [1, 2],
      [-1, -2],
    ]);
    for (const w of weights) assert.ok(Number.isFinite(w) && w > 0);
    assert.ok(flags?.includes("singular-gram"));
  });

  it("all-zero gradients, K = 1 and K = 32 give finite weights", () => {
    assert.deepEqual(
      Array.from(
        solve([
          [0, 0],
          [0, 0],
        ]).weights,
      ),
      [0, 0],
    );
    const one = solve([[3, 4]], { maxNorm: 0 }).weights;
    assert.ok(Math.abs(one[0] - 0.2) < 1e-12);
    const many = solve(randomGrads(32, 16, 5)).weights;
    assert.ok(many.every(Number.isFinite));
  });

  it("norms four orders of magnitude apart still solve exactly, from a warm start too", () => {
    const grads = [
      [-9.5633, 0, 0, 0, 0, 0, -9.8434, 0],
      [0, -2.865e-6, 0, 0, -0.0621, -0.062, 0, 0],
      [0, 0, 0, -0.46646, 0, 0, -4.97e-7, 0],
      [-0.00195, 0, 0.99999, 0, 0, 0, 0.15658, 0],
    ];
    const first = solve(grads, { maxNorm: 0 });
    const second = solve(grads, { maxNorm: 0 }, first.state);
    for (const result of [first, second]) {
      assert.equal(result.flags, undefined);
      const product = gAlpha(4, result.gram, result.weights);
      for (let t = 0; t < 4; t++) assert.ok(Math.abs(result.weights[t] * product[t] - 1) < 1e-9);
    }
  });

  it("rejects a non-finite gradient naming the task", () => {
    const gram = new Float64Array([1, 0, 0, Number.NaN]);
    const p = nashMtl.params.parse({});
    assert.throws(
      () => nashMtl.step({ k: 2, gram, losses: new Float64Array(2), step: 1 }, p, nashMtl.init(2, p)),
      /task 1/,
    );
  });
});
