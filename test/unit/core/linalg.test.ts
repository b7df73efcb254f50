import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertFiniteGram,
  compensatedDot,
  gramMatrix,
  gramTimes,
  minimizeLinearPlusNormOnSimplex,
  minNormPoint,
  pseudoInverseSolve,
  quadraticForm,
  scaledGram,
  solveGeneral,
  solvePsd,
  symmetricEigen,
  taskNorms,
} from "../../../src/core/linalg/index";
import { defineStrategy } from "../../../src/core/strategy";

/** Seeded uniform generator (LCG) so every fixture is reproducible. */
function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function gaussianRows(k: number, d: number, seed: number): number[][] {
  const rand = generator(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
  return Array.from({ length: k }, () => Array.from({ length: d }, normal));
}

function matVec(n: number, a: ArrayLike<number>, x: ArrayLike<number>): number[] {
  return Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j] * x[j];
    return s;
  });
}

function quad(k: number, g: ArrayLike<number>, w: ArrayLike<number>): number {
  return matVec(k, g, w).reduce((s, v, i) => s + v * w[i], 0);
}

describe("gramMatrix and checks", () => {
  it("compensated dot products survive cancellation a naive sum loses", () => {
    assert.equal(compensatedDot([1e16, 1, -1e16], [1, 1, 1]), 1);
    const g = gramMatrix([
      [1, 2],
      [3, 4],
    ]);
    assert.deepEqual(Array.from(g), [5, 11, 11, 25]);
  });

  it("a non-finite Gram entry is an error naming the task", () => {
    const g = gramMatrix([
      [1, 0],
      [Number.NaN, 1],
    ]);
    assert.throws(() => assertFiniteGram(2, g, "test"), /task 1/);
    assert.throws(() => assertFiniteGram(2, new Float64Array(3), "test"), /expected 2×2/);
  });

  it("every strategy's step checks the Gram matrix before the strategy's own code runs", () => {
    let ran = 0;
    const probe = defineStrategy({
      name: "probe",
      title: "Probe",
      summary: "",
      citation: "",
      params: { parse: () => ({}) } as never,
      usesLosses: false,
      init: () => null,
      step: ({ k }, _params, state) => {
        ran++;
        return { weights: new Float64Array(k), state };
      },
    });
    const bad = gramMatrix([
      [1, 0],
      [0, Number.POSITIVE_INFINITY],
    ]);
    const input = (gram: Float64Array) => ({ k: 2, gram, losses: new Float64Array(2), step: 1 });
    assert.throws(() => probe.step(input(bad), {}, null), /probe: the gradient of task 1/);
    assert.throws(() => probe.step({ ...input(new Float64Array(3)) }, {}, null), /expected 2×2/);
    assert.equal(ran, 0);
    probe.step(input(gramMatrix([[1], [2]])), {}, null);
    assert.equal(ran, 1);
  });
});

describe("reading a Gram matrix", () => {
  const k = 4;
  const rows = gaussianRows(k, 7, 11);
  const gram = gramMatrix(rows);
  const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
  const combination = (x: number[]) =>
    rows[0].map((_, n) => rows.reduce((s, row, t) => s + x[t] * row[n], 0));
  const close = (a: number, b: number) =>
    assert.ok(Math.abs(a - b) <= 1e-12 * (1 + Math.abs(b)), `${a} vs ${b}`);

  it("taskNorms are the gradients' lengths, and a square that rounding left below zero is a zero norm", () => {
    for (const [t, n] of taskNorms(k, gram).entries()) close(n, Math.hypot(...rows[t]));
    assert.deepEqual(Array.from(taskNorms(2, [-1e-18, 0, 0, 4])), [0, 2]);
  });

  it("gramTimes and quadraticForm are the inner products with Σ x_t g_t and its squared length", () => {
    const x = [0.5, -1, 0, 2];
    const u = combination(x);
    for (const [t, value] of gramTimes(k, gram, x).entries()) close(value, dot(rows[t], u));
    close(quadraticForm(k, gram, x), dot(u, u));
  });

  it("scaledGram is the Gram matrix of the rescaled gradients", () => {
    const scales = [2, 0.5, 1, 3];
    const expected = gramMatrix(rows.map((row, t) => row.map((value) => scales[t] * value)));
    for (const [i, value] of scaledGram(k, gram, scales).entries()) close(value, expected[i]);
  });
});

describe("solvePsd (pivoted Cholesky)", () => {
  it("solves a positive definite system", () => {
    const rows = gaussianRows(5, 9, 1);
    const a = gramMatrix(rows);
    const b = [1, -2, 3, 0.5, 4];
    const { x, rank } = solvePsd(5, a, b);
    assert.equal(rank, 5);
    matVec(5, a, x).forEach((v, i) => {
      assert.ok(Math.abs(v - b[i]) < 1e-10, `row ${i}: ${v} vs ${b[i]}`);
    });
  });

  it("detects the rank of duplicate rows and still solves a consistent system", () => {
    const rows = [
      [1, 2, 0],
      [1, 2, 0],
      [0, 1, 1],
    ];
    const a = gramMatrix(rows);
    // b in the range of A: b = A·(1, 0, 1).
    const b = matVec(3, a, [1, 0, 1]);
    const { x, rank } = solvePsd(3, a, b);
    assert.equal(rank, 2);
    matVec(3, a, x).forEach((v, i) => {
      assert.ok(Math.abs(v - b[i]) < 1e-12);
    });
  });

  it("returns zeros, not NaN, for the zero matrix", () => {
    const { x, rank } = solvePsd(2, [0, 0, 0, 0], [1, 1]);
    assert.equal(rank, 0);
    assert.deepEqual(Array.from(x), [0, 0]);
  });
});

describe("solveGeneral (LU with partial pivoting)", () => {
  it("solves a non-symmetric system that needs pivoting", () => {
    const a = [0, 2, 1, 1, 1, 0, 3, 0, 1];
    const b = [3, 2, 4];
    const { x, rank } = solveGeneral(3, a, b);
    assert.equal(rank, 3);
    matVec(3, a, x).forEach((v, i) => {
      assert.ok(Math.abs(v - b[i]) < 1e-14);
    });
  });

  it("reports a singular matrix through its rank", () => {
    const { x, rank } = solveGeneral(2, [1, 2, 2, 4], [1, 2]);
    assert.equal(rank, 1);
    assert.ok(x.every(Number.isFinite));
  });
});

describe("symmetricEigen (Jacobi)", () => {
  it("finds the eigenpairs of a 2×2 matrix", () => {
    const { values, vectors } = symmetricEigen(2, [2, 1, 1, 2]);
    assert.ok(Math.abs(values[0] - 3) < 1e-15 && Math.abs(values[1] - 1) < 1e-15);
    assert.ok(Math.abs(Math.abs(vectors[0]) - Math.SQRT1_2) < 1e-15);
  });

  it("A V = V Λ with orthonormal V, eigenvalues descending (8×8)", () => {
    const n = 8;
    const a = gramMatrix(gaussianRows(n, 5, 7)); // rank 5: three zero eigenvalues
    const { values, vectors } = symmetricEigen(n, a);
    for (let j = 1; j < n; j++) assert.ok(values[j - 1] >= values[j]);
    for (let j = 0; j < n; j++) {
      const v = Array.from({ length: n }, (_, i) => vectors[i * n + j]);
      const av = matVec(n, a, v);
      av.forEach((x, i) => {
        assert.ok(Math.abs(x - values[j] * v[i]) < 1e-12 * values[0]);
      });
      for (let l = 0; l < n; l++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += v[i] * vectors[i * n + l];
        assert.ok(Math.abs(dot - (l === j ? 1 : 0)) < 1e-13);
      }
    }
    for (let j = 5; j < n; j++) assert.ok(Math.abs(values[j]) < 1e-13 * values[0]);
  });

  it("keeps a tiny eigenvalue to relative accuracy", () => {
    // R diag(1, 1e-12) Rᵀ with a rotation R by 30°.
    const c = Math.cos(Math.PI / 6);
    const s = Math.sin(Math.PI / 6);
    const small = 1e-12;
    const a = [c * c + small * s * s, c * s - small * c * s, c * s - small * c * s, s * s + small * c * c];
    const { values } = symmetricEigen(2, a);
    assert.ok(Math.abs(values[1] - small) < 1e-3 * small, `${values[1]}`);
  });

  it("pseudoInverseSolve gives the minimum-norm solution of a singular system", () => {
    const { x, rank } = pseudoInverseSolve(2, [1, 1, 1, 1], [2, 2]);
    assert.equal(rank, 1);
    assert.ok(Math.abs(x[0] - 1) < 1e-15 && Math.abs(x[1] - 1) < 1e-15);
  });
});

/** Brute force: the best affine minimiser over all supports that lies inside the simplex. */
function bruteForceMinNorm(k: number, g: Float64Array): number {
  let best = Number.POSITIVE_INFINITY;
  for (let mask = 1; mask < 1 << k; mask++) {
    const s = [...Array(k).keys()].filter((i) => mask & (1 << i));
    const m = s.length;
    const n = m + 1;
    const a = new Float64Array(n * n);
    const b = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) a[i * n + j] = g[s[i] * k + s[j]];
      a[i * n + m] = 1;
      a[m * n + i] = 1;
    }
    b[m] = 1;
    const { x, rank } = solveGeneral(n, a, b);
    if (rank < n || x.slice(0, m).some((v) => v < -1e-12)) continue;
    const w = new Float64Array(k);
    s.forEach((t, i) => {
      w[t] = x[i];
    });
    best = Math.min(best, quad(k, g, w));
  }
  return best;
}

describe("minNormPoint (Wolfe)", () => {
  it("two orthogonal unit vectors meet halfway", () => {
    const r = minNormPoint(2, [1, 0, 0, 1]);
    assert.ok(Math.abs(r.weights[0] - 0.5) < 1e-15 && Math.abs(r.normSquared - 0.5) < 1e-15);
  });

  it("a vector that is the shortest point of the hull takes all the weight", () => {
    const r = minNormPoint(
      2,
      gramMatrix([
        [1, 0],
        [1, 1],
      ]),
    );
    assert.deepEqual(Array.from(r.weights), [1, 0]);
  });

  it("the origin inside the hull gives norm 0", () => {
    const r = minNormPoint(
      3,
      gramMatrix([
        [1, 0],
        [0, 1],
        [-1, -1],
      ]),
    );
    assert.ok(r.normSquared < 1e-15);
    assert.ok(Math.abs(r.weights.reduce((s, v) => s + v, 0) - 1) < 1e-15);
  });

  it("matches brute-force support enumeration on random hulls", () => {
    for (const [k, d, seed] of [
      [5, 3, 11],
      [6, 8, 12],
      [7, 4, 13],
      [4, 10, 14],
    ]) {
      const g = gramMatrix(
        gaussianRows(k, d, seed).map((row, t) => row.map((v) => v + (t % 2 ? 0.3 : -0.1))),
      );
      const r = minNormPoint(k, g);
      const brute = bruteForceMinNorm(k, g);
      assert.ok(
        Math.abs(r.normSquared - brute) <= 1e-12 * (1 + brute),
        `k=${k}: ${r.normSquared} vs ${brute}`,
      );
      assert.ok(r.weights.every((v) => v >= 0));
      assert.ok(Math.abs(r.weights.reduce((s, v) => s + v, 0) - 1) < 1e-14);
    }
  });
});

describe("minimizeLinearPlusNormOnSimplex (CAGrad's inner problem)", () => {
  it("with c = 0 it picks the vertex of smallest a", () => {
    const r = minimizeLinearPlusNormOnSimplex(3, [1, 0, 0, 0, 1, 0, 0, 0, 1], [0.3, -0.2, 0.5], 0, 1e-8);
    assert.ok(r.weights[1] > 1 - 1e-12);
  });

  it("satisfies the KKT conditions on random problems", () => {
    for (const [k, d, seed] of [
      [3, 5, 21],
      [6, 16, 22],
      [8, 3, 23],
      [5, 5, 39],
    ]) {
      // Task 1 is zeroed in the last case: wᵀGw ≈ 0 near its vertex, where f is far from quadratic.
      const rows = gaussianRows(k, d, seed).map((row, t) =>
        seed === 39 && t === 1 ? row.map(() => 0) : row,
      );
      const g = gramMatrix(rows);
      const a = Array.from({ length: k }, (_, i) => matVec(k, g, new Array(k).fill(1 / k))[i]);
      const c = 0.7;
      const r = minimizeLinearPlusNormOnSimplex(k, g, a, c, 1e-8);
      assert.ok(r.converged);
      const gw = matVec(k, g, r.weights);
      const s = Math.sqrt(quad(k, g, r.weights) + 1e-8);
      const grad = a.map((v, i) => v + (c * gw[i]) / s);
      const mu = Math.min(...grad);
      let scale = 0;
      for (let i = 0; i < k; i++) scale = Math.max(scale, g[i * k + i]);
      // Rounding level of the gradient: c·Gw/s amplifies it when s is small.
      scale += (c * scale) / s;
      grad.forEach((v, i) => {
        // Free coordinates share the multiplier; coordinates at 0 have a larger gradient.
        if (r.weights[i] > 1e-9) assert.ok(Math.abs(v - mu) < 1e-9 * scale, `k=${k} i=${i}: ${v - mu}`);
        else assert.ok(v >= mu - 1e-9 * scale);
      });
    }
  });

  it("the one-dimensional case matches a golden-section search", () => {
    const g = gramMatrix([
      [1, 0],
      [-0.5, 1],
    ]);
    const a = [(g[0] + g[1]) / 2, (g[2] + g[3]) / 2];
    const f = (t: number) => a[0] * t + a[1] * (1 - t) + 0.5 * Math.sqrt(quad(2, g, [t, 1 - t]) + 1e-8);
    let lo = 0;
    let hi = 1;
    for (let i = 0; i < 200; i++) {
      const m1 = lo + (hi - lo) / 3;
      const m2 = hi - (hi - lo) / 3;
      if (f(m1) < f(m2)) hi = m2;
      else lo = m1;
    }
    const r = minimizeLinearPlusNormOnSimplex(2, g, a, 0.5, 1e-8);
    assert.ok(Math.abs(r.weights[0] - lo) < 1e-7, `${r.weights[0]} vs ${lo}`);
  });
});
