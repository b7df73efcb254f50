import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { combine } from "../../../src/core/combine";

describe("combine (library)", () => {
  it("returns the Gram matrix, weights, update Σ α_t g_t and merged statistics", () => {
    const r = combine({
      grads: [
        [1, 0],
        [-1, 2],
      ],
      strategy: "gradcraft",
      params: { tau: 0 },
    });
    assert.deepEqual(r.gram, [1, -1, -1, 5]);
    assert.equal(r.k, 2);
    assert.equal(r.d, 2);
    for (let i = 0; i < 2; i++) {
      const expected = r.weights[0] * [1, 0][i] + r.weights[1] * [-1, 2][i];
      assert.ok(Math.abs(r.update[i] - expected) < 1e-15);
    }
    assert.equal(r.stats.conflictingPairs, 1);
    assert.deepEqual(r.stats.weights, r.weights);
    assert.deepEqual(r.stats.projection?.conflictSetSize, [1, 1]);
    assert.deepEqual(r.params, { tau: 0, eps: 0, projection: "global" });
    // After GradCraft (ε = 0) no task conflicts with the update.
    assert.equal(r.stats.conflictsWithUpdate, false);
  });

  it("rejects bad input with errors that say where", () => {
    assert.throws(
      () => combine({ grads: [[1, 2], [3]], strategy: "ew" }),
      /grads\[1\] has 1 values, but grads\[0\] has 2/,
    );
    assert.throws(
      () => combine({ grads: [[1, Number.NaN]], strategy: "ew" }),
      /grads\[0\]\[1\] \(task 0\) is NaN/,
    );
    assert.throws(() => combine({ grads: [], strategy: "ew" }), /at least one task/);
    assert.throws(
      () => combine({ grads: [[1]], strategy: "nope" }),
      /unknown strategy "nope" \(known: .*gradcraft/,
    );
    assert.throws(
      () => combine({ grads: [[1]], strategy: "gradcraft", params: { tua: 1 } }),
      /unknown parameter "tua" for strategy "gradcraft" \(known: tau, eps, projection\)/,
    );
    assert.throws(
      () => combine({ grads: [[1]], strategy: "gradcraft", params: { tau: 2 } }),
      /parameter "tau"/,
    );
    assert.throws(() => combine({ grads: [[1], [2]], strategy: "ew", losses: [1] }), /losses has 1 values/);
  });

  it("carries state between calls (GradVac's targets move)", () => {
    const grads = [
      [1, 0],
      [-1, 2],
    ];
    const first = combine({ grads, strategy: "gradvac" });
    const second = combine({ grads, strategy: "gradvac", state: first.state, step: 2 });
    assert.notDeepEqual(
      (second.state as { targets: number[] }).targets,
      (first.state as { targets: number[] }).targets,
    );
  });
});
