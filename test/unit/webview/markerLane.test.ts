import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { placeLabels, shortLabel } from "../../../webview/charts/markerLane";

describe("the marker lane", () => {
  it("labels are short: the strategy switched to, the hyperparameter and its new value", () => {
    assert.equal(shortLabel({ kind: "strategy", label: "→ cagrad (c=0.5, rescale=1)" }), "→ cagrad");
    assert.equal(shortLabel({ kind: "hyperparameters", label: "learningRate 0.003→5" }), "lr → 5");
    assert.equal(
      shortLabel({ kind: "hyperparameters", label: "learningRate 0.003→5, l2 0→1e-5" }),
      "lr → 5 +1",
    );
    assert.equal(shortLabel({ kind: "checkpoint", label: "checkpoint" }), "ckpt");
    assert.equal(
      shortLabel({ kind: "strategy", label: "gradcraft: tau=0.5, epsilon=0.001" }, 12),
      "gradcraft: …",
    );
  });

  it("labels that would overlap go to the next row; one that fits no row is left out, the latest kept", () => {
    const request = (x: number) => ({ x, width: 40, rows: [0, 1] });
    const placed = placeLabels([request(100), request(110), request(120), request(300)], 0, 500);
    assert.deepEqual(
      placed.map((p) => p.row),
      [null, 1, 0, 0],
      "the three close ones: the latest in row 0, the one before in row 1, the oldest out",
    );
  });

  it("a label at the plot's edge moves inwards, never past it", () => {
    const [left, right] = placeLabels(
      [
        { x: 2, width: 40, rows: [0] },
        { x: 498, width: 40, rows: [0] },
      ],
      0,
      500,
    );
    assert.equal(left.left, 0);
    assert.equal(right.left, 460);
  });

  it("comparing, each run's labels keep to the run's row: two runs switching at one step both show", () => {
    const placed = placeLabels(
      [
        { x: 200, width: 60, rows: [0] },
        { x: 200, width: 60, rows: [1] },
      ],
      0,
      500,
    );
    assert.deepEqual(
      placed.map((p) => p.row),
      [0, 1],
    );
  });
});
