import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { diagnose } from "../../../src/core/diagnostics";

function gramOf(grads: number[][]): Float64Array {
  const k = grads.length;
  const gram = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) gram[i * k + j] = grads[i].reduce((s, x, d) => s + x * grads[j][d], 0);
  return gram;
}

describe("diagnose", () => {
  it("reads norms, cosines and conflicts from the Gram matrix", () => {
    const grads = [
      [3, 0],
      [-1, 1],
      [0, 2],
    ];
    const d = diagnose(3, gramOf(grads), new Float64Array([1, 0, 0]));
    assert.deepEqual(d.norms, [3, Math.SQRT2, 2]);
    assert.ok(Math.abs(d.cosines[1] - -1 / Math.SQRT2) < 1e-15);
    assert.equal(d.conflictingPairs, 1);
    assert.equal(d.updateNorm, 3);
    assert.equal(d.conflictsWithUpdate, true);
    assert.ok(Math.abs(d.updateCosines[1] - -1 / Math.SQRT2) < 1e-15);
  });

  it("a zero gradient gives zero cosines, never NaN", () => {
    const d = diagnose(
      2,
      gramOf([
        [0, 0],
        [1, 0],
      ]),
      new Float64Array([0.5, 0.5]),
    );
    assert.ok(d.cosines.every(Number.isFinite));
    assert.equal(d.cosines[1], 0);
    assert.equal(d.updateCosines[0], 0);
    assert.equal(d.conflictsWithUpdate, false);
  });
});
