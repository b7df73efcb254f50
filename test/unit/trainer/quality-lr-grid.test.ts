import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { TrainingConfig } from "../../../src/protocol/config";
import {
  type QualityBudget,
  type QualityEntry,
  type QualityReport,
  ReuseMismatch,
  type RunRecord,
  summarise,
} from "../../../src/trainer/quality";
import { chooseLearningRates } from "../../../src/trainer/quality/learning-rates";
import { parseLearningRates, planRuns, planSettings } from "../../../src/trainer/quality/plan";
import { reusableRuns } from "../../../src/trainer/quality/reuse";

/** `bench quality --lr-grid`: each row's learning rate tuned on validation, as the paper does. */

const entries: QualityEntry[] = [
  { label: "single", strategy: "single", params: {} },
  { label: "ew", strategy: "ew", params: {} },
];

function record(
  label: string,
  seed: number,
  learningRate: number,
  validation: number,
  testAuc: number[],
  task?: number,
): RunRecord {
  return {
    label,
    seed,
    learningRate,
    ...(task !== undefined ? { task } : {}),
    strategy: label,
    params: {},
    reason: "completed",
    steps: 10,
    bestStep: 10,
    wallMs: 1,
    testAuc,
    testGauc: testAuc,
    bestValidationAuc: validation,
  };
}

describe("bench quality --lr-grid", () => {
  test("the grid is read as the user types it; a bad rate or a repeated one says which", () => {
    assert.deepEqual(parseLearningRates("1e-4, 5e-4,1e-3"), [1e-4, 5e-4, 1e-3]);
    assert.throws(() => parseLearningRates(" , "), /the learning-rate grid is empty/);
    assert.throws(() => parseLearningRates("1e-3,fast"), /"fast" is not a learning rate/);
    assert.throws(() => parseLearningRates("0"), /"0" is not a learning rate/);
    assert.throws(() => parseLearningRates("2"), /"2" is not a learning rate/);
    assert.throws(() => parseLearningRates("1e-3,0.001"), /0\.001 is listed twice/);
  });

  test("the plan trains every row (and each of Single's tasks) once per rate and seed", () => {
    const plan = planRuns(entries, [1, 2], 2, [1e-3, 1e-2]);
    assert.equal(plan.length, 2 * 2 * (2 + 1));
    assert.deepEqual(plan.slice(0, 6), [
      { label: "single", seed: 1, task: 0, learningRate: 1e-3 },
      { label: "single", seed: 1, task: 1, learningRate: 1e-3 },
      { label: "single", seed: 1, task: 0, learningRate: 1e-2 },
      { label: "single", seed: 1, task: 1, learningRate: 1e-2 },
      { label: "ew", seed: 1, learningRate: 1e-3 },
      { label: "ew", seed: 1, learningRate: 1e-2 },
    ]);
    assert.deepEqual(planRuns(entries, [1], 2), [
      { label: "single", seed: 1, task: 0 },
      { label: "single", seed: 1, task: 1 },
      { label: "ew", seed: 1 },
    ]);
  });

  test("each row takes the rate with the best mean validation AUC over seeds; the test split plays no part", () => {
    const runs = [
      // EW: 1e-3 wins on validation (mean 0.7 against 0.65) although 1e-2 has the better test AUC.
      record("ew", 1, 1e-3, 0.72, [0.6, 0.6]),
      record("ew", 2, 1e-3, 0.68, [0.62, 0.62]),
      record("ew", 1, 1e-2, 0.75, [0.9, 0.9]),
      record("ew", 2, 1e-2, 0.55, [0.9, 0.9]),
      // Single: each task chooses on its own; task 0 takes 1e-2, task 1 ties and takes the smaller rate.
      record("single", 1, 1e-3, 0.6, [0.5, 0], 0),
      record("single", 1, 1e-2, 0.7, [0.55, 0], 0),
      record("single", 1, 1e-3, 0.8, [0, 0.7], 1),
      record("single", 1, 1e-2, 0.8, [0, 0.75], 1),
    ];
    const choice = chooseLearningRates(entries, runs, [1, 2], 2);
    assert.deepEqual(choice.rates.get("ew"), [1e-3]);
    assert.deepEqual(choice.rates.get("single"), [1e-2, 1e-3]);
    assert.equal(choice.runs.length, 4);

    const rows = summarise(entries, runs, [1, 2], 2);
    const ew = rows.find((r) => r.label === "ew");
    assert.deepEqual(ew?.learningRates, [1e-3]);
    assert.ok(
      Math.abs((ew?.auc[0].mean ?? 0) - 0.61) < 1e-12,
      "EW's test AUC at the chosen 1e-3, over both seeds",
    );
    const single = rows.find((r) => r.label === "single");
    assert.deepEqual(
      single?.auc.map((s) => s.mean),
      [0.55, 0.7],
    );
  });

  test("without a grid every run is taken and no rate is reported", () => {
    const runs = [record("ew", 1, 1e-3, 0.7, [0.6, 0.6])].map(({ learningRate: _, ...r }) => r);
    const choice = chooseLearningRates(entries, runs, [1], 2);
    assert.equal(choice.runs.length, 1);
    assert.equal(choice.rates.size, 0);
  });

  test("reports measured with other model or training settings are not reused", () => {
    const dense = TrainingConfig.parse({ training: { embeddingOptimizer: "dense-adam" } });
    const lazy = TrainingConfig.parse({ training: { embeddingOptimizer: "lazy-adam" } });
    const budget: QualityBudget = { epochs: 1, evalEvery: 2, patience: 2 };
    const report = {
      dataset: "d",
      taskNames: ["a", "b"],
      budget,
      settings: planSettings(dense),
      entries,
      runs: [],
    } as unknown as QualityReport;
    const plan = { dataset: "d", taskNames: ["a", "b"], budget, entries };
    assert.throws(
      () => reusableRuns([report], { ...plan, settings: planSettings(lazy) }),
      (error: unknown) => error instanceof ReuseMismatch && /lazy-adam/.test(error.message),
    );
    assert.equal(reusableRuns([report], { ...plan, settings: planSettings(dense) }).size, 0);
    // The seed and (with a grid) the learning rate belong to the runs, not to the settings.
    const otherSeed = TrainingConfig.parse({ training: { embeddingOptimizer: "dense-adam", seed: 9 } });
    assert.deepEqual(planSettings(otherSeed), planSettings(dense));
    const otherRate = TrainingConfig.parse({
      training: { embeddingOptimizer: "dense-adam", learningRate: 0.1 },
    });
    assert.notDeepEqual(planSettings(otherRate), planSettings(dense));
    assert.deepEqual(planSettings(otherRate, [1e-3]), planSettings(dense, [1e-3]));
    // When a run saves checkpoints does not change what it learns: a report written with another
    // checkpoint policy (or before the policy existed, recording the old field) is reused.
    const older = {
      ...report,
      settings: {
        ...planSettings(dense),
        training: { ...(planSettings(dense).training as object), checkpointEvery: 0 },
      },
    } as QualityReport;
    const otherPolicy = TrainingConfig.parse({
      training: { embeddingOptimizer: "dense-adam", checkpointEverySeconds: 5, checkpointEvery: 7 },
    });
    assert.equal(reusableRuns([older], { ...plan, settings: planSettings(otherPolicy) }).size, 0);
  });
});
