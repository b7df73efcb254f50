import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { resultsTable } from "../../../src/cli/train";
import { evaluateTasks } from "../../../src/core/metrics";
import { toSplitMetrics } from "../../../src/trainer/evaluate";

describe("data without a user column: GAUC is not applicable, never 0 or NaN", () => {
  test("evaluateTasks without users gives no GAUC and says it does not apply", () => {
    const m = evaluateTasks([1, 0, 0, 1], [0.9, 0.2, 0.3, 0.6], null, 1);
    assert.equal(m.gaucApplicable, false);
    assert.ok(Number.isNaN(m.tasks[0].gauc) && m.tasks[0].auc === 1);
  });

  test("the split's metrics say so on the wire, and the CLI table prints n/a with the reason", () => {
    const metrics = toSplitMetrics(evaluateTasks([1, 0, 0, 1], [0.9, 0.2, 0.3, 0.6], null, 1), ["click"]);
    assert.equal(metrics.gaucApplicable, false);
    assert.equal(metrics.tasks[0].gauc, null);
    const applicable = toSplitMetrics(evaluateTasks([1, 0, 0, 1], [0.9, 0.2, 0.3, 0.6], [0, 0, 1, 1], 1), [
      "click",
    ]);
    assert.equal("gaucApplicable" in applicable, false);
    const summary = {
      steps: 1,
      epochs: 0,
      wallMs: 1,
      bestStep: 1,
      strategy: "ew",
      splits: { test: metrics },
    };
    const table = resultsTable(summary);
    assert.match(table, /^click\s+1\.0000\s+n\/a\s+\d\.\d{4}$/m);
    assert.match(table, /GAUC n\/a: the data has no user column/);
  });
});
