import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { gramMatrix } from "../../../src/core/linalg/gram";
import { findStrategy, strategies } from "../../../src/core/strategies/index";
import type { StrategyDefinition } from "../../../src/core/strategy";
import { mulberry32 } from "../helpers/random";

/**
 * Property tests of the guarantees the strategies promise (docs/strategies.md). Every run is
 * seeded, so a failure replays; fast-check prints the counterexample and the seed.
 */
const SEED = 20240825;

// biome-ignore lint/suspicious/noExplicitAny: the registry holds strategies of every parameter and state type.
type AnyStrategy = StrategyDefinition<any, any>;

function strategy(name: string): AnyStrategy {
  const found = findStrategy(name);
  assert.ok(found, `strategy ${name} is registered`);
  return found;
}

/**
 * K rows of length D with entries in [-1, 1], scaled per row by 10^e, e in [-3, 3], rounded to
 * float32 as a trainer's gradients are (float64 values near 1e-160 would underflow in the Gram
 * matrix itself, a domain no trainer produces).
 */
function gradientRows(minK: number, maxK: number, minD: number, maxD: number): fc.Arbitrary<number[][]> {
  return fc
    .record({ k: fc.integer({ min: minK, max: maxK }), d: fc.integer({ min: minD, max: maxD }) })
    .chain(({ k, d }) =>
      fc.array(
        fc.tuple(
          fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: d, maxLength: d }),
          fc.integer({ min: -3, max: 3 }),
        ),
        { minLength: k, maxLength: k },
      ),
    )
    .map((rows) => rows.map(([row, exponent]) => row.map((x) => Math.fround(x * 10 ** exponent))));
}

/**
 * Generic rows from a seed: uniform entries, row norms spread over 10^±2, K ≤ D. fast-check's
 * own doubles favour 0 and extreme values, which make weights non-unique (MGDA when 0 is in the
 * hull, a Nash bargaining problem without solution): the permutation property needs unique ones.
 */
function genericRows(minK: number, maxK: number): fc.Arbitrary<number[][]> {
  return fc
    .record({
      k: fc.integer({ min: minK, max: maxK }),
      extra: fc.integer({ min: 2, max: 6 }),
      seed: fc.nat(),
    })
    .map(({ k, extra, seed }) => {
      const next = mulberry32(seed);
      return Array.from({ length: k }, () => {
        const scale = 10 ** (4 * next() - 2);
        return Array.from({ length: k + extra }, () => Math.fround(scale * (2 * next() - 1)));
      });
    });
}

/** Rows with a degeneracy: zeros, duplicates, opposite pairs, collinear sets, extreme scales. */
function degenerateRows(maxK: number): fc.Arbitrary<number[][]> {
  return fc
    .tuple(
      gradientRows(1, maxK, 1, 6),
      fc.constantFrom("zero-row", "all-zero", "duplicate", "opposite", "collinear", "tiny", "huge"),
      fc.nat(),
      fc.nat(),
    )
    .map(([rows, kind, a, b]) => {
      const k = rows.length;
      const i = a % k;
      const j = b % k;
      switch (kind) {
        case "zero-row":
          rows[i] = rows[i].map(() => 0);
          break;
        case "all-zero":
          return rows.map((row) => row.map(() => 0));
        case "duplicate":
          rows[j] = [...rows[i]];
          break;
        case "opposite":
          rows[j] = rows[i].map((x) => -x);
          break;
        case "collinear":
          return rows.map((_, t) => rows[0].map((x) => x * (t % 2 === 0 ? 1 + t : -1 - t)));
        case "tiny":
          rows[i] = rows[i].map((x) => x * 1e-9);
          break;
        case "huge":
          rows[i] = rows[i].map((x) => x * 1e9);
          break;
      }
      return rows;
    });
}

function dot(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function weighted(rows: number[][], weights: ArrayLike<number>): number[] {
  const u = new Array<number>(rows[0].length).fill(0);
  rows.forEach((row, t) => {
    for (let i = 0; i < row.length; i++) u[i] += weights[t] * row[i];
  });
  return u;
}

function quadratic(k: number, gram: Float64Array, x: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) s += x[i] * gram[i * k + j] * x[j];
  return s;
}

/** Solves A x = b (n×n, Gaussian elimination with partial pivoting); null when near singular. */
function gaussSolve(a: number[][], b: number[]): number[] | null {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  const scale = Math.max(...a.map((row) => Math.max(...row.map(Math.abs))));
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[pivot][c])) pivot = r;
    if (Math.abs(m[pivot][c]) < 1e-6 * scale) return null;
    [m[c], m[pivot]] = [m[pivot], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let x = c; x <= n; x++) m[r][x] -= f * m[c][x];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

/** Runs a few steps (so stateful methods use their state too); returns every step's output. */
function runSteps(definition: AnyStrategy, rows: number[][], steps: number) {
  const k = rows.length;
  const gram = gramMatrix(rows);
  const params = definition.params.parse({});
  let state = definition.init(k, params);
  const outputs = [];
  for (let step = 1; step <= steps; step++) {
    // Losses follow the task (its gradient's size), not its index, so permutations carry them.
    const losses = Float64Array.from({ length: k }, (_, t) => {
      const n = Math.sqrt(Math.max(0, gram[t * k + t]));
      return 0.2 + n / (1 + n) / step;
    });
    const result = definition.step({ k, gram, losses, step }, params, state);
    outputs.push(result);
    state = result.state;
    JSON.stringify(state); // must be serialisable (throws on cycles / BigInt)
  }
  return outputs;
}

function assertFiniteOutputs(name: string, outputs: ReturnType<typeof runSteps>) {
  for (const result of outputs) {
    for (const w of result.weights) assert.ok(Number.isFinite(w), `${name}: weight ${w}`);
    if (result.towerWeights)
      for (const w of result.towerWeights) assert.ok(Number.isFinite(w), `${name}: tower ${w}`);
  }
}

describe("properties of every registered strategy", () => {
  it("the registry holds the sixteen strategies of docs/strategies.md", () => {
    const expected = [
      "ew",
      "single",
      "uw",
      "dwa",
      "gradnorm",
      "mgda",
      "pcgrad",
      "pcgrad-plus",
      "gradcraft",
      "gradvac",
      "cagrad",
      "imtl-g",
      "db-mtl",
      "aligned-mtl",
      "nash-mtl",
      "upgrad",
    ];
    assert.deepEqual([...strategies.map((s) => s.name)].sort(), [...expected].sort());
  });

  for (const definition of strategies) {
    it(`${definition.name}: finite weights for random gradients (K ≤ 8)`, () => {
      fc.assert(
        fc.property(gradientRows(1, 8, 1, 10), (rows) => {
          assertFiniteOutputs(definition.name, runSteps(definition, rows, 3));
        }),
        { seed: SEED, numRuns: 60 },
      );
    });

    it(`${definition.name}: finite weights for degenerate gradients (zero, duplicate, opposite, collinear, extreme)`, () => {
      fc.assert(
        fc.property(degenerateRows(8), (rows) => {
          assertFiniteOutputs(definition.name, runSteps(definition, rows, 2));
        }),
        { seed: SEED, numRuns: 80 },
      );
    });

    it(`${definition.name}: finite weights with K = 32 (fewer dimensions than tasks too)`, () => {
      fc.assert(
        fc.property(gradientRows(32, 32, 8, 40), (rows) => {
          assertFiniteOutputs(definition.name, runSteps(definition, rows, 1));
        }),
        { seed: SEED, numRuns: 4 },
      );
    });

    it(`${definition.name}: a non-finite Gram entry is an Error naming the task`, () => {
      const k = 3;
      const gram = gramMatrix([
        [1, 0],
        [0, 1],
        [1, 1],
      ]);
      gram[2 * k + 2] = Number.NaN;
      gram[2 * k + 0] = Number.NaN;
      gram[0 * k + 2] = Number.NaN;
      const params = definition.params.parse({});
      assert.throws(
        () =>
          definition.step(
            { k, gram, losses: new Float64Array(k).fill(1), step: 1 },
            params,
            definition.init(k, params),
          ),
        /task 2/,
      );
    });
  }

  // Methods whose answer does not depend on how the tasks are numbered. Excluded: single (picks a
  // task by index), pcgrad / pcgrad-plus / gradvac (seeded random or index visiting orders).
  const orderFree = strategies
    .map((s) => s.name)
    .filter((name) => !["single", "pcgrad", "pcgrad-plus", "gradvac"].includes(name));

  for (const name of orderFree) {
    it(`${name}: permuting the tasks permutes the weights`, () => {
      const definition = strategy(name);
      // Generic full-rank gradients (K ≤ D), where every method's weights are unique.
      const input = genericRows(2, 6).chain((rows) =>
        fc.tuple(fc.constant(rows), fc.shuffledSubarray([...rows.keys()], { minLength: rows.length })),
      );
      fc.assert(
        fc.property(input, ([rows, permutation]) => {
          const base = runSteps(definition, rows, 3);
          const permuted = runSteps(
            definition,
            permutation.map((p) => rows[p]),
            3,
          );
          for (let s = 0; s < 3; s++) {
            const a = base[s].weights;
            const b = permuted[s].weights;
            const scale = Math.max(...Array.from(a, Math.abs));
            permutation.forEach((p, t) => {
              assert.ok(
                Math.abs(b[t] - a[p]) <= 1e-7 * scale + 1e-12,
                `${name} step ${s + 1}: task ${t} (was ${p}): ${b[t]} vs ${a[p]}`,
              );
            });
          }
        }),
        { seed: SEED, numRuns: 40 },
      );
    });
  }
});

describe("guarantees of the gradient-manipulation methods", () => {
  it("gradcraft: each projected gradient meets its ε target with every task it conflicted with", () => {
    const gradcraft = strategy("gradcraft");
    const input = fc.tuple(
      gradientRows(2, 6, 8, 14),
      fc.constantFrom(0, 0.1, 0.5, 1),
      fc.constantFrom(0, 1e-10, 1e-8, 0.05),
    );
    fc.assert(
      fc.property(input, ([rows, tau, eps]) => {
        const k = rows.length;
        const norms = rows.map((r) => Math.sqrt(dot(r, r)));
        const maxNorm = Math.max(...norms);
        fc.pre(norms.every((n) => n > 1e-6 * maxNorm));
        // ĝ_t = (τ·max n / n_t + 1 − τ) g_t (magnitude step).
        const scaled = rows.map((r, t) => r.map((x) => x * ((tau * maxNorm) / norms[t] + 1 - tau)));
        const hatNorms = scaled.map((r) => Math.sqrt(dot(r, r)));
        // The projected p_i is ĝ_i plus a combination of its conflicting ĝ_j that meets
        // p_i·ĝ_j = ε‖ĝ_i‖‖ĝ_j‖ for each of them: |C| equations, |C| unknowns.
        const projected: number[][] = [];
        const conflictSizes: number[] = [];
        for (let i = 0; i < k; i++) {
          const conflict = [...Array(k).keys()].filter((j) => dot(scaled[i], scaled[j]) < 0);
          conflictSizes.push(conflict.length);
          if (conflict.length === 0) {
            projected.push(scaled[i]);
            continue;
          }
          const system = conflict.map((a) => conflict.map((b) => dot(scaled[a], scaled[b])));
          const rhs = conflict.map((j) => eps * hatNorms[i] * hatNorms[j] - dot(scaled[i], scaled[j]));
          const w = gaussSolve(system, rhs);
          fc.pre(w !== null);
          const p = [...scaled[i]];
          conflict.forEach((j, x) => {
            for (let d = 0; d < p.length; d++) p[d] += (w as number[])[x] * scaled[j][d];
          });
          for (const j of conflict) {
            const target = eps * hatNorms[i] * hatNorms[j];
            assert.ok(Math.abs(dot(p, scaled[j]) - target) <= 1e-8 * hatNorms[i] * hatNorms[j]);
          }
          projected.push(p);
        }
        const gram = gramMatrix(rows);
        const params = gradcraft.params.parse({ tau, eps });
        const result = gradcraft.step({ k, gram, losses: new Float64Array(k), step: 1 }, params, null);
        // The strategy's update is the mean of exactly these vectors, task by task in its stats.
        const update = weighted(rows, result.weights);
        const mean = weighted(projected, new Array<number>(k).fill(1 / k));
        const scale = Math.max(...mean.map(Math.abs), 1e-300);
        update.forEach((x, d) => {
          assert.ok(Math.abs(x - mean[d]) <= 1e-7 * scale, `coordinate ${d}`);
        });
        assert.deepEqual(result.projection?.conflictSetSize, conflictSizes);
        projected.forEach((p, i) => {
          const correction = Math.sqrt(
            dot(
              p.map((x, d) => x - scaled[i][d]),
              p.map((x, d) => x - scaled[i][d]),
            ),
          );
          assert.ok(
            Math.abs((result.projection?.correctionNorm[i] ?? Number.NaN) - correction) <=
              1e-7 * (correction + hatNorms[i]),
          );
        });
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("pcgrad with two tasks matches its closed form ½(g1 − (g12/‖g2‖²)g2) + ½(g2 − (g12/‖g1‖²)g1)", () => {
    const pcgrad = strategy("pcgrad");
    fc.assert(
      fc.property(gradientRows(2, 2, 1, 10), fc.nat(), (rows, seed) => {
        const gram = gramMatrix(rows);
        const [g11, g12, , g22] = gram;
        fc.pre(g11 > 0 && g22 > 0);
        const result = pcgrad.step(
          { k: 2, gram, losses: new Float64Array(2), step: 1 },
          pcgrad.params.parse({ seed }),
          { rng: seed },
        );
        const expected = g12 < 0 ? [(1 - g12 / g11) / 2, (1 - g12 / g22) / 2] : [0.5, 0.5];
        for (let t = 0; t < 2; t++)
          assert.ok(Math.abs(result.weights[t] - expected[t]) <= 1e-12 * Math.max(1, Math.abs(expected[t])));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it("mgda: the update has minimum norm in the convex hull (no random hull point is shorter)", () => {
    const mgda = strategy("mgda");
    const input = fc.tuple(
      fc.oneof(gradientRows(1, 8, 1, 10), degenerateRows(8)),
      fc.array(fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 8, maxLength: 8 }), {
        minLength: 20,
        maxLength: 20,
      }),
    );
    fc.assert(
      fc.property(input, ([rows, candidates]) => {
        const k = rows.length;
        const gram = gramMatrix(rows);
        const result = mgda.step(
          { k, gram, losses: new Float64Array(k), step: 1 },
          mgda.params.parse({}),
          null,
        );
        const w = result.weights;
        const total = Array.from(w).reduce((a, b) => a + b, 0);
        assert.ok(Math.abs(total - 1) < 1e-9, `weights sum to 1, got ${total}`);
        assert.ok(Array.from(w).every((x) => x >= -1e-12));
        const best = quadratic(k, gram, w);
        let maxDiag = 0;
        for (let t = 0; t < k; t++) maxDiag = Math.max(maxDiag, gram[t * k + t]);
        const tolerance = 1e-9 * maxDiag + 1e-300;
        // Vertices, midpoints of pairs and random points of the simplex.
        const points: number[][] = [];
        for (let a = 0; a < k; a++) {
          points.push(Array.from({ length: k }, (_, t) => (t === a ? 1 : 0)));
          for (let b = a + 1; b < k; b++)
            points.push(Array.from({ length: k }, (_, t) => (t === a || t === b ? 0.5 : 0)));
        }
        for (const raw of candidates) {
          const x = raw.slice(0, k);
          const sum = x.reduce((s, v) => s + v, 0);
          if (sum > 0) points.push(x.map((v) => v / sum));
        }
        for (const p of points)
          assert.ok(quadratic(k, gram, p) >= best - tolerance, `‖u‖² ${best} > ${quadratic(k, gram, p)}`);
      }),
      { seed: SEED, numRuns: 150 },
    );
  });
});
