import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  exportFileName,
  headlineMetric,
  localTime,
  metricText,
  summaryLines,
  tagsText,
} from "../../../src/extension/runs/runText";
import type { RunSummary } from "../../../src/protocol/messages";

const split = (auc: number, gauc: number | null = null) => ({
  tasks: [],
  mean: { auc, gauc, logloss: 0.5 },
});

describe("how runs read in the host's views", () => {
  it("names the split of every metric", () => {
    assert.equal(metricText("test", "AUC", 0.73123), "test AUC 0.7312");
    assert.equal(metricText("validation", "GAUC", 0.6), "val GAUC 0.6000");
    const tested: RunSummary = {
      steps: 10,
      wallMs: 1,
      splits: { validation: split(0.71), test: split(0.7) },
    };
    assert.equal(headlineMetric(tested), "test AUC 0.7000");
    const stopped: RunSummary = { steps: 10, wallMs: 1, splits: { validation: split(0.71) } };
    assert.equal(headlineMetric(stopped), "val AUC 0.7100");
    assert.equal(headlineMetric({ steps: 1, wallMs: 1, splits: {} }), undefined);
    assert.deepEqual(summaryLines(tested), [
      "validation (mean over tasks): AUC 0.7100, log loss 0.5000",
      "test (mean over tasks): AUC 0.7000, log loss 0.5000",
    ]);
  });

  it("shows times in the user's zone, readably, not as raw UTC", () => {
    const at = "2026-12-03T09:15:42.000Z";
    assert.equal(localTime(at, "en-GB", "UTC"), "3 Dec 2026, 09:15:42");
    assert.equal(localTime(at, "en-GB", "Asia/Tokyo"), "3 Dec 2026, 18:15:42");
    assert.doesNotMatch(localTime(at) ?? "", /T09:15:42|\.000Z/);
    assert.equal(localTime(null), undefined);
    assert.equal(localTime("not a time"), undefined);
  });

  it("writes tags as hashtags", () => {
    assert.equal(tagsText(["baseline", "lr"]), "#baseline #lr");
  });

  it("names exports with their extension, safely", () => {
    assert.equal(
      exportFileName("compare-baseline lr x3-vs-gradcraft-k3f9", "csv"),
      "compare-baseline_lr_x3-vs-gradcraft-k3f9.csv",
    );
    assert.equal(exportFileName("loss.csv", "csv"), "loss.csv");
    assert.equal(exportFileName("chart.PNG", "png"), "chart.png");
    assert.equal(exportFileName("", "csv"), "export.csv");
  });
});
