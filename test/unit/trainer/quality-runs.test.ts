import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { TrainingConfig, type TrainingConfigInput } from "../../../src/protocol/config";
import type { TrainerMessage } from "../../../src/protocol/messages";
import type { BackendChoice } from "../../../src/trainer/backend";
import { generateSynthetic } from "../../../src/trainer/data/index";
import { qualityEntries, type RunRecord, runQuality } from "../../../src/trainer/quality";
import { train } from "../../../src/trainer/train";
import { useCpu } from "./helpers";

/** The bench-quality protocol run for real: tiny trainings, one per strategy and seed (and K for Single). */

describe("running the protocol", () => {
  const cpu: BackendChoice = { name: "cpu", tfName: "cpu", skipped: [], summary: "backend: cpu" };
  // Six tasks (the generator's), common positives so every split has both classes.
  const base: TrainingConfigInput = {
    data: {
      source: "synthetic",
      rows: 1500,
      users: 40,
      items: 60,
      authors: 8,
      contextVocabularies: [3],
      positiveRates: [0.4, 0.35, 0.3, 0.3, 0.25, 0.25],
      signal: 3,
    },
    model: { type: "shared-bottom", embeddingDim: 4, experts: [8], towers: [4], dropout: 0 },
    training: { batchSize: 128, learningRate: 0.03, l2: 0, epochs: 1, evalEvery: 2, patience: 2 },
    strategy: { name: "ew", params: {} },
  };
  const resolved = TrainingConfig.parse(base);
  const dataset = generateSynthetic(resolved.data as never);
  const entries = qualityEntries(["ew", "gradcraft"], {
    ablations: false,
    gradcraft: { tau: 0.1, eps: 1e-10 },
  });
  let report: Awaited<ReturnType<typeof runQuality>>;

  before(async () => {
    await useCpu();
    report = await runQuality({
      base: resolved,
      dataset,
      entries,
      seeds: [1],
      backend: cpu,
      budget: { maxSteps: 6 },
    });
  });

  test("one run per strategy and seed, K runs for Single, all within the step budget", () => {
    const k = dataset.taskNames.length;
    assert.equal(report.runs.length, k + 2);
    assert.deepEqual(
      report.runs.filter((r) => r.label === "single").map((r) => r.task),
      Array.from({ length: k }, (_, t) => t),
    );
    for (const run of report.runs) {
      assert.ok(run.steps >= 1 && run.steps <= 6, `${run.label}: ${run.steps} steps`);
      assert.ok(run.bestStep !== null && run.bestStep <= run.steps);
    }
    assert.deepEqual(
      report.rows.map((r) => r.label),
      ["single", "ew", "gradcraft"],
    );
    for (const row of report.rows)
      for (const stat of [...row.auc, ...row.gauc, row.avAuc]) {
        assert.ok(
          stat.mean !== null && stat.mean > 0 && stat.mean < 1,
          `${row.label}: ${JSON.stringify(stat)}`,
        );
      }
  });

  test("a shard runs every n-th run of the plan (seed-major: Single's tasks, then the strategies)", async () => {
    const shard = await runQuality({
      base: resolved,
      dataset,
      entries,
      seeds: [1],
      backend: cpu,
      budget: { maxSteps: 1 },
      shard: { index: 1, count: 2 },
    });
    assert.deepEqual(
      shard.runs.map((r) => `${r.label}${r.task ?? ""}`),
      ["single1", "single3", "single5", "gradcraft"],
    );
    assert.equal(shard.complete, false);
    assert.equal(report.complete, true);
  });

  test("a multi-task row reports the trainer's test metrics of its best-validation weights", async () => {
    const ew = report.runs.find((r) => r.label === "ew") as RunRecord;
    const again = await train({
      config: TrainingConfig.parse({ ...base, training: { ...base.training, seed: 1, maxSteps: 6 } }),
      baseDir: process.cwd(),
      runDir: null,
      channel: { send: () => {}, takeCommands: () => [], nextCommand: async () => null, ack: () => {} },
      backend: cpu,
      dataset,
    });
    assert.deepEqual(
      ew.testAuc,
      again.summary.splits.test?.tasks.map((t) => t.auc),
    );
  });

  test("train() with selectOn keeps the weights of the best value of that criterion, not of the mean", async () => {
    const task = 2;
    const validation: Array<{ step: number; auc: number | null; mean: number | null; best: boolean }> = [];
    const result = await train({
      config: TrainingConfig.parse({
        ...base,
        strategy: { name: "single", params: { task } },
        training: { ...base.training, seed: 2, maxSteps: 8, evalEvery: 1, patience: 100, epochs: 5 },
      }),
      baseDir: process.cwd(),
      runDir: null,
      channel: {
        send: (m: TrainerMessage) => {
          if (m.type === "eval" && m.split === "validation")
            validation.push({ step: m.step, auc: m.tasks[task].auc, mean: m.mean.auc, best: m.best });
        },
        takeCommands: () => [],
        nextCommand: async () => null,
        ack: () => {},
      },
      backend: cpu,
      dataset,
      selectOn: (m) => m.tasks[task].auc,
    });
    const tracked = validation.slice(0, -1); // the last one is the summary's, of the kept weights
    let best = tracked[0];
    for (const e of tracked) if ((e.auc ?? -1) > (best.auc ?? -1)) best = e;
    let bestMean = tracked[0];
    for (const e of tracked) if ((e.mean ?? -1) > (bestMean.mean ?? -1)) bestMean = e;
    assert.notEqual(bestMean.step, best.step, "in this fixture the mean would pick another step");
    assert.equal(result.summary.bestStep, best.step);
    assert.equal(result.summary.splits.validation?.tasks[task].auc, best.auc);
    assert.ok(
      tracked.filter((e) => e.best).every((e, i, all) => i === 0 || (e.auc ?? 0) > (all[i - 1].auc ?? 0)),
    );
  });

  test("Single's figures are task t's test metrics at task t's best validation step", async () => {
    // Retrain each Single run deterministically up to its selected step, with one validation there.
    for (const run of report.runs.filter((r) => r.label === "single")) {
      const task = run.task as number;
      const bestStep = run.bestStep as number;
      const evals: Array<{ split: string; auc: number | null }> = [];
      const again = await train({
        config: TrainingConfig.parse({
          ...base,
          strategy: { name: "single", params: { task } },
          training: { ...base.training, seed: 1, maxSteps: bestStep, evalEvery: bestStep, epochs: 5 },
        }),
        baseDir: process.cwd(),
        runDir: null,
        channel: {
          send: (m: TrainerMessage) => {
            if (m.type === "eval") evals.push({ split: m.split, auc: m.tasks[task].auc });
          },
          takeCommands: () => [],
          nextCommand: async () => null,
          ack: () => {},
        },
        backend: cpu,
        dataset,
      });
      assert.equal(again.summary.steps, bestStep);
      assert.equal(run.testAuc[task], again.summary.splits.test?.tasks[task].auc, `task ${task}`);
      assert.equal(run.testGauc[task], again.summary.splits.test?.tasks[task].gauc, `task ${task}`);
      assert.equal(run.bestValidationAuc, again.summary.splits.validation?.tasks[task].auc, `task ${task}`);
    }
  });
});
