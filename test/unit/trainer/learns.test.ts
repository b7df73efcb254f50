import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { TrainingConfig } from "../../../src/protocol/config";
import { presetConfig } from "../../../src/trainer/presets";
import { train } from "../../../src/trainer/train";
import { CPU_CHOICE, FakeChannel, useCpu } from "./helpers";

// End-to-end quality: the whole pipeline (data, model, per-task gradients, GradCraft, Adam,
// evaluation) must learn every task, not merely run. A bug that silently zeroes a task's gradient,
// scrambles labels or evaluates the wrong weights leaves that task's test AUC near 0.5.
describe("a small preset trained end to end", () => {
  before(useCpu);

  test("reaches a test AUC well above chance on every task, and its GAUC too", async () => {
    const base = presetConfig("quick");
    const config = TrainingConfig.parse({
      ...base,
      backend: "cpu",
      threads: 1,
      training: { ...base.training, maxSteps: 60, evalEvery: 30, patience: 5 },
      strategy: { name: "gradcraft", params: { tau: 0.1, eps: 1e-10 } },
    });
    const result = await train({
      config,
      baseDir: ".",
      runDir: null,
      channel: new FakeChannel(),
      backend: CPU_CHOICE,
    });
    assert.equal(result.reason, "completed");
    const testSplit = result.summary.splits.test;
    assert.ok(testSplit, "the summary has no test metrics");
    assert.equal(testSplit.tasks.length, 6);
    for (const task of testSplit.tasks) {
      const name = task.task;
      // Chance is 0.5. The run is seeded on the cpu backend, so its figures repeat (60 steps:
      // AUC 0.65–0.78, GAUC 0.59–0.78); 0.6 is about three standard errors above chance for the
      // rarest task (1 % positives, about 60 in the test split).
      assert.ok((task.auc ?? 0) > 0.6, `${name}: test AUC ${task.auc} is not well above chance`);
      assert.ok((task.gauc ?? 0) > 0.55, `${name}: test GAUC ${task.gauc} is not above chance`);
    }
  });
});
