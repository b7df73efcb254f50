import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { combine } from "../../../src/core/combine";
import { findStrategy } from "../../../src/core/strategies/index";

/**
 * Behaviour of core-A's strategies on small cases whose answers follow from the papers'
 * definitions (worked out by hand in the comments), plus degenerate inputs.
 */

function close(actual: ArrayLike<number>, expected: number[], tol = 1e-12, what = "value"): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++)
    assert.ok(
      Math.abs(actual[i] - expected[i]) <= tol * (1 + Math.abs(expected[i])),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
}

function run(strategy: string, grads: number[][], params: Record<string, unknown> = {}) {
  return combine({ grads, strategy, params });
}

function dot(a: number[], b: number[]): number {
  return a.reduce((s, x, i) => s + x * b[i], 0);
}

function generator(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
}

function randomRows(k: number, d: number, seed: number): number[][] {
  const r = generator(seed);
  return Array.from({ length: k }, () => Array.from({ length: d }, r));
}

/** PCGrad on vectors, straight from Yu et al. (2020), Algorithm 1, with explicit orders. */
function vectorPcgrad(grads: number[][], orders: number[][]): number[] {
  const k = grads.length;
  const sum = new Array(grads[0].length).fill(0);
  for (let i = 0; i < k; i++) {
    const p = [...grads[i]];
    for (const j of orders[i]) {
      const d = dot(p, grads[j]);
      if (d < 0) {
        const n2 = dot(grads[j], grads[j]);
        for (let x = 0; x < p.length; x++) p[x] -= (d / n2) * grads[j][x];
      }
    }
    for (let x = 0; x < p.length; x++) sum[x] += p[x] / k;
  }
  return sum;
}

describe("gradcraft", () => {
  it("with one conflicting task, τ = 0 and ε = 0 it is PCGrad's closed form", () => {
    // g1 = (1,0), g2 = (-1,2): p1 = g1 + g2/5 = (0.8, 0.4), p2 = g2 + g1 = (0, 2); mean.
    const r = run(
      "gradcraft",
      [
        [1, 0],
        [-1, 2],
      ],
      { tau: 0, eps: 0 },
    );
    close(r.update, [0.4, 1.2]);
    assert.deepEqual(r.stats.projection?.conflictSetSize, [1, 1]);
  });

  it("τ = 1 lifts every task to the largest norm before combining", () => {
    // No conflict: ĝ1 = 3·(1,0), ĝ2 = (0,3); mean (1.5, 1.5).
    const r = run(
      "gradcraft",
      [
        [1, 0],
        [0, 3],
      ],
      { tau: 1 },
    );
    close(r.update, [1.5, 1.5]);
    close(r.stats.projection!.magnitudeScale, [3, 1]);
  });

  it("projects a task against ALL its conflicting tasks at once", () => {
    // g0 conflicts with g1 and g2 (which agree): p0 = g0 projected on span(g1,g2)^⊥ = (1,1,1)/3;
    // p1 = g1 + g0 = (0,1,0); p2 = (0,0,1). Mean (1/9, 4/9, 4/9).
    const grads = [
      [1, 0, 0],
      [-1, 1, 0],
      [-1, 0, 1],
    ];
    const r = run("gradcraft", grads, { tau: 0 });
    close(r.update, [1 / 9, 4 / 9, 4 / 9]);
    assert.deepEqual(r.stats.projection?.conflictSetSize, [2, 1, 1]);
    // The one-vs-one ablation handles g1 then g2: p0 = (1/4, 1/2, 1/4), so the mean differs.
    const local = run("gradcraft", grads, { tau: 0, projection: "local" });
    close(local.update, [1 / 12, 1 / 2, 5 / 12]);
  });

  it("ε sets the inner product with each conflicting task to ε‖ĝ_i‖‖ĝ_j‖", () => {
    const eps = 0.1;
    const g1 = [1, 0];
    const g2 = [-1, 2];
    const n2 = Math.sqrt(5);
    // p1 = g1 + w g2 with w = (ε·1·√5 + 1)/5; p2 = g2 + v g1 with v = (ε·√5·1 + 1)/1.
    const w = (eps * n2 + 1) / 5;
    const v = eps * n2 + 1;
    const p1 = [g1[0] + w * g2[0], g1[1] + w * g2[1]];
    const p2 = [g2[0] + v * g1[0], g2[1] + v * g1[1]];
    assert.ok(Math.abs(dot(p1, g2) - eps * n2) < 1e-14);
    const r = run("gradcraft", [g1, g2], { tau: 0, eps });
    close(r.update, [(p1[0] + p2[0]) / 2, (p1[1] + p2[1]) / 2]);
  });

  it("duplicate conflicting gradients: a stable solve, flagged, same answer as one copy", () => {
    // g1 = g2 = (-1,1): p0 = (0.5,0.5), p1 = p2 = (0,1); mean (1/6, 5/6).
    const r = run(
      "gradcraft",
      [
        [1, 0],
        [-1, 1],
        [-1, 1],
      ],
      { tau: 0 },
    );
    close(r.update, [1 / 6, 5 / 6]);
    assert.ok(r.stats.flags.includes("singular-conflict-system"));
  });

  it("a zero gradient gives finite weights and a flag; K = 1 is the gradient itself", () => {
    const r = run("gradcraft", [
      [1, 0],
      [0, 0],
      [-1, 2],
    ]);
    assert.ok(r.weights.every(Number.isFinite));
    assert.ok(r.stats.flags.includes("zero-gradient"));
    close(run("gradcraft", [[2, 3]]).update, [2, 3]);
  });

  it("a vanished gradient (1e-15 of the largest) is not blown up to the largest norm", () => {
    // Rescaled, it would get a weight near 1e15 and turn float32 noise into a full-size direction.
    const r = run("gradcraft", [
      [1, 0],
      [0, 1e-15],
      [-1, 2],
    ]);
    assert.ok(r.stats.flags.includes("zero-gradient"));
    assert.equal(r.stats.projection!.magnitudeScale[1], 1);
    assert.ok(Math.max(...r.weights.map(Math.abs)) < 10, `weights ${Array.from(r.weights)}`);
    // A 1e-3 "tiny" task (as in the reference cases) is still lifted to the largest norm.
    const tiny = run("gradcraft", [
      [1, 0],
      [0, 1e-3],
    ]);
    close([tiny.stats.projection!.magnitudeScale[1]], [1000]);
  });

  it("a non-finite Gram entry is an error naming the task", () => {
    const step = () =>
      findStrategy("gradcraft")!.step(
        {
          k: 2,
          gram: new Float64Array([1, 0, 0, Number.POSITIVE_INFINITY]),
          losses: new Float64Array(2),
          step: 1,
        },
        { tau: 1, eps: 0, projection: "global" },
        null,
      );
    assert.throws(step, /task 1/);
  });
});

describe("pcgrad", () => {
  it("two tasks: the closed form, mean by default and sum on request", () => {
    const grads = [
      [1, 0],
      [-1, 2],
    ];
    close(run("pcgrad", grads).update, [0.4, 1.2]);
    close(run("pcgrad", grads, { reduction: "sum" }).update, [0.8, 2.4]);
  });

  it("sequential projections against the ORIGINAL gradients, in the given order", () => {
    const grads = randomRows(4, 3, 5);
    const orders = [
      [2, 0, 3, 1],
      [3, 1, 0, 2],
      [0, 2, 1, 3],
      [1, 3, 2, 0],
    ];
    close(run("pcgrad", grads, { orders }).update, vectorPcgrad(grads, orders), 1e-12);
    // The order matters when a task conflicts with several others.
    const grads3 = [
      [1, 0],
      [-1, 2],
      [-1, -2],
    ];
    const a = run("pcgrad", grads3, {
      orders: [
        [1, 2, 0],
        [1, 0, 2],
        [2, 0, 1],
      ],
    }).update;
    const b = run("pcgrad", grads3, {
      orders: [
        [2, 1, 0],
        [1, 0, 2],
        [2, 0, 1],
      ],
    }).update;
    // p0 = (0.48, -0.24) one way, (0.48, 0.24) the other: the means differ by 0.16 in y.
    close([b[1] - a[1]], [0.16]);
  });

  it("a seed gives a reproducible order; the state carries the generator", () => {
    const grads = randomRows(5, 4, 9);
    const first = combine({ grads, strategy: "pcgrad", params: { seed: 7 } });
    const again = combine({ grads, strategy: "pcgrad", params: { seed: 7 } });
    assert.deepEqual(first.weights, again.weights);
    assert.deepEqual(first.state, again.state);
    const next = combine({ grads, strategy: "pcgrad", params: { seed: 7 }, state: first.state });
    assert.notDeepEqual(next.state, first.state);
  });

  it("bad replay orders are an error naming the task", () => {
    assert.throws(
      () =>
        run("pcgrad", [[1], [2]], {
          orders: [
            [0, 1],
            [1, 1],
          ],
        }),
      /orders\[1\]/,
    );
  });
});

describe("pcgrad-plus", () => {
  it("τ = 0, ε = 0 is PCGrad", () => {
    const grads = randomRows(4, 6, 3);
    const orders = [
      [0, 1, 2, 3],
      [3, 2, 1, 0],
      [1, 3, 0, 2],
      [2, 0, 3, 1],
    ];
    close(run("pcgrad-plus", grads, { tau: 0, eps: 0, orders }).update, vectorPcgrad(grads, orders), 1e-12);
  });

  it("ε > 0 leaves a positive inner product ε‖p‖‖g_j‖ with the task it conflicted with", () => {
    // Two tasks, τ = 0: p1 = g1 + w g2 with p1·g2 = ε‖g1‖‖g2‖ (‖p‖ before the step is ‖g1‖).
    const eps = 0.2;
    const r = run(
      "pcgrad-plus",
      [
        [1, 0],
        [-1, 2],
      ],
      {
        tau: 0,
        eps,
        orders: [
          [1, 0],
          [0, 1],
        ],
      },
    );
    const w = (eps * Math.sqrt(5) + 1) / 5;
    const v = eps * Math.sqrt(5) + 1;
    // p1 = (1 − w, 2w), p2 = g2 + v·g1 = (v − 1, 2); mean.
    close(r.update, [(1 - w + (v - 1)) / 2, (2 * w + 2) / 2]);
  });
});

describe("mgda (exact min-norm)", () => {
  it("orthogonal unit gradients meet halfway; (1,0),(0,2) gives (0.8, 0.4)", () => {
    close(
      run("mgda", [
        [1, 0],
        [0, 1],
      ]).weights,
      [0.5, 0.5],
    );
    // min over t of ‖(t, 2(1-t))‖²: t = 4/5.
    const r = run("mgda", [
      [1, 0],
      [0, 2],
    ]);
    close(r.weights, [0.8, 0.2]);
    close(r.update, [0.8, 0.4]);
  });

  it("opposite gradients: the zero update of a Pareto-stationary point, flagged", () => {
    const r = run("mgda", [
      [1, 2],
      [-2, -4],
    ]);
    close(r.update, [0, 0], 1e-15);
    assert.ok(r.stats.flags.includes("pareto-stationary"));
  });

  it("the update u satisfies u·g_t ≥ ‖u‖² for every task (optimality of the min-norm point)", () => {
    for (const seed of [1, 2, 3]) {
      const grads = randomRows(6, 8, seed).map((row, t) => row.map((x) => x + (t === 0 ? 0.2 : 0.1)));
      const r = run("mgda", grads);
      const uu = dot(r.update, r.update);
      for (const g of grads) assert.ok(dot(r.update, g) >= uu - 1e-12, `seed ${seed}`);
    }
  });

  it("l2 normalisation weights unit gradients: (3,0),(0,1) gives α = (1/6, 1/2)", () => {
    close(
      run(
        "mgda",
        [
          [3, 0],
          [0, 1],
        ],
        { normalization: "l2" },
      ).weights,
      [1 / 6, 1 / 2],
    );
  });
});

describe("cagrad", () => {
  it("c = 0 is the mean of the gradients (up to LibMTL's 1e-8 radius)", () => {
    close(run("cagrad", randomRows(4, 5, 2), { c: 0, rescale: 0 }).weights, [0.25, 0.25, 0.25, 0.25], 1e-7);
  });

  it("symmetric tasks get equal weights, rescaled by 1 + c²", () => {
    const c = 0.5;
    const r = run(
      "cagrad",
      [
        [1, 0],
        [0, 1],
      ],
      { c, rescale: 1 },
    );
    assert.ok(Math.abs(r.weights[0] - r.weights[1]) < 1e-12);
    // w = (½,½): ‖g_w‖ = 1/√2, radius = c·√(mean G + 1e-8) + 1e-8 with mean G = 1/2.
    const radius = c * Math.sqrt(0.5 + 1e-8) + 1e-8;
    const lambda = radius / (Math.SQRT1_2 + 1e-8);
    close(r.weights, [(0.5 + lambda * 0.5) / (1 + c * c), (0.5 + lambda * 0.5) / (1 + c * c)], 1e-9);
  });
});

describe("imtl-g", () => {
  it("equal projections on the unit gradients, weights summing to 1", () => {
    // (1,0),(0,2): α1 = 2 α2 and α1 + α2 = 1.
    close(
      run("imtl-g", [
        [1, 0],
        [0, 2],
      ]).weights,
      [2 / 3, 1 / 3],
    );
    const grads = randomRows(4, 7, 11);
    const r = run("imtl-g", grads);
    close([r.weights.reduce((s, x) => s + x, 0)], [1]);
    const projections = grads.map((g) => dot(r.update, g) / Math.sqrt(dot(g, g)));
    for (const p of projections) assert.ok(Math.abs(p - projections[0]) < 1e-10);
  });

  it("a zero task gets weight 0 and a flag where the peer returns NaN", () => {
    const r = run("imtl-g", [
      [1, 0],
      [0, 0],
      [0, 2],
    ]);
    close(r.weights, [2 / 3, 0, 1 / 3]);
    assert.ok(r.stats.flags.includes("zero-gradient"));
  });
});

describe("aligned-mtl", () => {
  it("orthogonal gradients of norms 1 and 2 are aligned to equal components: α = (1, 1/2)", () => {
    const r = run("aligned-mtl", [
      [1, 0],
      [0, 2],
    ]);
    close(r.weights, [1, 0.5]);
    close(r.update, [1, 1]);
  });
});

describe("gradvac", () => {
  it("on the first step (targets 0) it is PCGrad up to its 1e-8 guards, summed", () => {
    const r = run(
      "gradvac",
      [
        [1, 0],
        [-1, 2],
      ],
      { orders: [[1], [0]] },
    );
    close(r.update, [0.8, 2.4], 1e-7);
    // ρ̂_01 ← β·cos(g0, g1) = 0.5·(-1/√5).
    const targets = (r.state as { targets: number[] }).targets;
    assert.ok(Math.abs(targets[1] - 0.5 * (-1 / Math.sqrt(5))) < 1e-8);
  });
});

describe("db-mtl", () => {
  it("first step: gradients scaled to the largest norm, times 1 − β, summed; the EMA follows", () => {
    const grads = [
      [1, 0],
      [0, 2],
    ];
    const first = combine({ grads, strategy: "db-mtl" });
    close(first.weights, [0.2, 0.1], 1e-7);
    // Step 2, same gradients: ν = n + 0.9(0.1n − n) = 0.19n; α_t = 0.19·2/n_t.
    const second = combine({ grads, strategy: "db-mtl", state: first.state });
    close(second.weights, [0.38, 0.19], 1e-7);
    assert.equal(findStrategy("db-mtl")!.lossTransform, "log");
  });
});

describe("single", () => {
  it("follows the chosen task and rejects a task that does not exist", () => {
    close(
      run(
        "single",
        [
          [1, 0],
          [0, 2],
        ],
        { task: 1 },
      ).update,
      [0, 2],
    );
    assert.throws(() => run("single", [[1, 0]], { task: 3 }), /task 3 does not exist/);
  });
});

describe("degenerate inputs never give NaN", () => {
  const names = [
    "gradcraft",
    "pcgrad",
    "pcgrad-plus",
    "single",
    "mgda",
    "cagrad",
    "imtl-g",
    "aligned-mtl",
    "gradvac",
    "db-mtl",
  ];
  const cases: Record<string, number[][]> = {
    "K = 1": [[1, -2, 3]],
    "a zero gradient": [
      [1, 0, 0],
      [0, 0, 0],
      [-1, 1, 0],
    ],
    "all zero": [
      [0, 0],
      [0, 0],
    ],
    "duplicate conflicting gradients": [
      [1, 0],
      [-1, 1],
      [-1, 1],
      [-1, 1],
    ],
    "collinear opposite gradients": [
      [1, 2, 3],
      [-2, -4, -6],
      [0.5, 1, 1.5],
    ],
    "K = 32 in 5 dimensions": randomRows(32, 5, 99),
  };
  for (const [label, grads] of Object.entries(cases)) {
    it(label, () => {
      for (const name of names) {
        const r = run(name, grads);
        assert.ok(
          r.weights.every(Number.isFinite) && r.update.every(Number.isFinite),
          `${name}: ${r.weights}`,
        );
      }
    });
  }
});
