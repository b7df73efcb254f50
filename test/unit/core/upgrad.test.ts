import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { gramMatrix } from "../../../src/core/linalg/gram";
import { solveNonNegativeQp } from "../../../src/core/linalg/nnls";
import { upgrad } from "../../../src/core/strategies/upgrad";
import { randomGrads } from "../helpers/random";

function run(grads: number[][], params: Record<string, unknown> = {}) {
  const k = grads.length;
  const gram = gramMatrix(grads);
  const result = upgrad.step(
    { k, gram, losses: new Float64Array(k), step: 1 },
    upgrad.params.parse(params),
    null,
  );
  return { ...result, gram };
}

/** The exact minimiser of ½λᵀHλ + qᵀλ over λ ≥ 0 by trying every support (small k only). */
function bruteForceQp(k: number, h: Float64Array, q: Float64Array): Float64Array {
  let best = new Float64Array(k);
  let bestValue = 0;
  for (let mask = 1; mask < 1 << k; mask++) {
    const idx = [...Array(k).keys()].filter((i) => mask & (1 << i));
    const n = idx.length;
    // Gaussian elimination on H_SS x = −q_S.
    const a = idx.map((i) => [...idx.map((j) => h[i * k + j]), -q[i]]);
    for (let c = 0; c < n; c++) {
      const pivot = a[c][c];
      for (let r = 0; r < n; r++) {
        if (r === c) continue;
        const f = a[r][c] / pivot;
        for (let cc = c; cc <= n; cc++) a[r][cc] -= f * a[c][cc];
      }
    }
    const x = new Float64Array(k);
    let feasible = true;
    idx.forEach((i, r) => {
      x[i] = a[r][n] / a[r][r];
      if (x[i] < 0) feasible = false;
    });
    if (!feasible) continue;
    let value = 0;
    for (let i = 0; i < k; i++) {
      value += q[i] * x[i];
      for (let j = 0; j < k; j++) value += 0.5 * x[i] * h[i * k + j] * x[j];
    }
    if (value < bestValue) {
      bestValue = value;
      best = x;
    }
  }
  return best;
}

describe("upgrad", () => {
  it("reproduces TorchJD's documented example J = [[-4,1,1],[6,1,1]] → [0.2929, 1.9004, 1.9004]", () => {
    const grads = [
      [-4, 1, 1],
      [6, 1, 1],
    ];
    const { weights } = run(grads);
    const update = [0, 1, 2].map((i) => weights[0] * grads[0][i] + weights[1] * grads[1][i]);
    assert.deepEqual(
      update.map((x) => Math.round(x * 1e4) / 1e4),
      [0.2929, 1.9004, 1.9004],
    );
  });

  it("with two conflicting tasks and no ridge it is the mean of the two PCGrad projections", () => {
    const grads = [
      [2, 1],
      [-1, 0.5],
    ];
    const { weights, gram } = run(grads, { regEps: 0 });
    const [g11, g12, , g22] = gram;
    assert.ok(Math.abs(weights[0] - (1 - g12 / g11) / 2) < 1e-12);
    assert.ok(Math.abs(weights[1] - (1 - g12 / g22) / 2) < 1e-12);
  });

  it("leaves non-conflicting gradients alone: the mean", () => {
    const { weights, projection } = run([
      [1, 0, 0],
      [1, 1, 0],
      [0, 0, 3],
    ]);
    assert.deepEqual(Array.from(weights), [1 / 3, 1 / 3, 1 / 3]);
    assert.deepEqual(projection?.conflictSetSize, [0, 0, 0]);
  });

  it("the update never conflicts with any task (regEps 0, full-rank gradients)", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const k = 2 + (seed % 7);
      const grads = randomGrads(k, k + 3, seed);
      const { weights, gram } = run(grads, { regEps: 0 });
      for (let j = 0; j < k; j++) {
        let inner = 0;
        for (let i = 0; i < k; i++) inner += gram[j * k + i] * weights[i];
        assert.ok(inner >= -1e-12 * gram[j * k + j], `seed ${seed}, task ${j}: ${inner}`);
      }
    }
  });

  it("the active-set solver finds the exact optimum of every projection QP (brute force, K ≤ 5)", () => {
    for (let seed = 100; seed < 140; seed++) {
      const k = 2 + (seed % 4);
      const gram = gramMatrix(randomGrads(k, 4, seed));
      for (let t = 0; t < k; t++) gram[t * k + t] += 1e-3;
      for (let i = 0; i < k; i++) {
        const q = Float64Array.from({ length: k }, (_, j) => gram[j * k + i]);
        const want = bruteForceQp(k, gram, q);
        const got = solveNonNegativeQp(k, gram, q).x;
        for (let j = 0; j < k; j++) assert.ok(Math.abs(got[j] - want[j]) < 1e-9, `seed ${seed} row ${i}`);
        // Any starting support, good or bad, ends at the same optimum.
        const guess = [...Array(k).keys()].filter((j) => (seed + i + j) % 2 === 0);
        const warm = solveNonNegativeQp(k, gram, q, 1e-12, 100, guess).x;
        for (let j = 0; j < k; j++)
          assert.ok(Math.abs(warm[j] - want[j]) < 1e-9, `seed ${seed} row ${i} (guess)`);
      }
    }
  });

  it("degenerate input: zero gradient, duplicates, opposite pairs, K = 1, K = 32 give finite weights", () => {
    const cases = [
      [
        [0, 0],
        [1, 0],
      ],
      [
        [1, 2],
        [1, 2],
        [-1, -2],
      ],
      [[5, 5]],
      randomGrads(32, 8, 3),
      [
        [1e-4, 0],
        [-1e-4, 0],
      ],
    ];
    for (const grads of cases) {
      const { weights } = run(grads);
      assert.ok(weights.every(Number.isFinite), JSON.stringify(grads).slice(0, 40));
    }
    // A Gram matrix whose trace is under normEps is treated as zero: the mean.
    assert.deepEqual(
      Array.from(
        run([
          [1e-3, 0],
          [-1e-3, 0],
        ]).weights,
      ),
      [0.5, 0.5],
    );
  });

  it("rejects a non-finite gradient naming the task", () => {
    const gram = new Float64Array([Number.POSITIVE_INFINITY, 0, 0, 1]);
    assert.throws(
      () => upgrad.step({ k: 2, gram, losses: new Float64Array(2), step: 1 }, upgrad.params.parse({}), null),
      /task 0/,
    );
  });
});
