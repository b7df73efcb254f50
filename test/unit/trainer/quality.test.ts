import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { benchBaseConfig, runBenchQuality } from "../../../src/cli/bench-quality";
import { TrainingConfig, type TrainingConfigInput } from "../../../src/protocol/config";
import type { TrainerMessage } from "../../../src/protocol/messages";
import type { BackendChoice } from "../../../src/trainer/backend";
import { generateSynthetic } from "../../../src/trainer/data/index";
import {
  compareWithPaper,
  formatStat,
  meanStd,
  mergeReports,
  type QualityEntry,
  type QualityReport,
  qualityEntries,
  type RunRecord,
  ranks,
  relativeImprovement,
  resolveBudget,
  runQuality,
  seedMetrics,
  spearman,
  summarise,
} from "../../../src/trainer/quality";
import { train } from "../../../src/trainer/train";
import { captureIo, useCpu } from "./helpers";

const close = (actual: number | null, expected: number, tolerance = 1e-12) => {
  assert.ok(actual !== null, `expected ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);
};

/** Two tasks, two seeds: Single (one run per task) and EW. */
function handMade(): { entries: QualityEntry[]; runs: RunRecord[] } {
  const entries: QualityEntry[] = [
    { label: "single", strategy: "single", params: {} },
    { label: "ew", strategy: "ew", params: {} },
  ];
  const record = (label: string, seed: number, auc: number[], task?: number): RunRecord => ({
    label,
    seed,
    ...(task !== undefined ? { task } : {}),
    strategy: label,
    params: {},
    reason: "completed",
    steps: 10,
    bestStep: 10,
    wallMs: 1,
    testAuc: auc,
    testGauc: auc.map((x) => x / 2),
    bestValidationAuc: null,
  });
  const runs = [
    // Single: task t's figures come from the run trained for task t only.
    record("single", 1, [0.8, 0.1], 0),
    record("single", 1, [0.2, 0.5], 1),
    record("single", 2, [0.7, 0.3], 0),
    record("single", 2, [0.4, 0.6], 1),
    record("ew", 1, [0.88, 0.55]),
    record("ew", 2, [0.735, 0.63]),
  ];
  return { entries, runs };
}

describe("quality arithmetic", () => {
  test("mean ± sample std over seeds, undefined values left out", () => {
    const s = meanStd([0.8, null, 0.82, 0.84, Number.NaN]);
    assert.equal(s.n, 3);
    close(s.mean, 0.82);
    close(s.std, 0.02);
  });

  test("one seed has a mean and no std; no seed has neither", () => {
    assert.deepEqual(meanStd([0.7]), { mean: 0.7, std: null, n: 1 });
    assert.deepEqual(meanStd([null]), { mean: null, std: null, n: 0 });
  });

  test("RI is the mean over tasks of the relative improvement, skipping tasks without a value", () => {
    close(relativeImprovement([0.9, 0.6], [0.8, 0.5]), (0.125 + 0.2) / 2);
    close(relativeImprovement([0.9, null, 0.4], [0.8, 0.5, 0.5]), (0.125 - 0.2) / 2);
    assert.equal(relativeImprovement([null], [0.5]), null);
    assert.throws(() => relativeImprovement([0.5], [0.5, 0.6]), /1 values against 2 baseline/);
  });

  test("a row's AV and RI are per seed (RI paired with Single of the same seed), then mean ± std", () => {
    const { entries, runs } = handMade();
    assert.deepEqual(seedMetrics(entries[0], runs, [1, 2], 2), [
      { seed: 1, auc: [0.8, 0.5], gauc: [0.4, 0.25] },
      { seed: 2, auc: [0.7, 0.6], gauc: [0.35, 0.3] },
    ]);
    const [single, ew] = summarise(entries, runs, [1, 2], 2);
    close(single.avAuc.mean, (0.65 + 0.65) / 2);
    close(single.riAuc.mean, 0);
    close(ew.auc[0].mean, (0.88 + 0.735) / 2);
    close(ew.auc[0].std, Math.abs(0.88 - 0.735) / Math.SQRT2);
    close(ew.avAuc.mean, ((0.88 + 0.55) / 2 + (0.735 + 0.63) / 2) / 2);
    // Seed 1: (+10% + 10%)/2; seed 2: (+5% + 5%)/2.
    close(ew.riAuc.mean, 0.075);
    close(ew.riAuc.std, 0.025 * Math.SQRT2);
    // GAUC is half of AUC everywhere here, so its RI is the same.
    close(ew.riGauc.mean, 0.075);
  });

  test("formatting: metrics like the paper (.8361), RI in percent", () => {
    assert.equal(formatStat({ mean: 0.82, std: 0.02, n: 3 }), ".8200 ± .0200");
    assert.equal(formatStat({ mean: 0.8361, std: null, n: 1 }), ".8361");
    assert.equal(formatStat({ mean: 0.075, std: 0.0354, n: 2 }, "percent"), "+7.50% ± 3.54");
    assert.equal(formatStat({ mean: -0.001, std: null, n: 1 }, "percent"), "-0.10%");
    assert.equal(formatStat({ mean: null, std: null, n: 0 }), "–");
  });
});

describe("merging shards", () => {
  const part = (runs: RunRecord[], seeds: number[]): QualityReport => {
    const { entries } = handMade();
    return {
      dataset: "hand-made",
      entries,
      complete: false,
      taskNames: ["a", "b"],
      seeds,
      budget: { epochs: 1, evalEvery: 5, patience: 2, maxSteps: 10 },
      backend: "cpu",
      rows: [],
      runs,
      wallMs: runs.length,
    };
  };

  test("the union of the shards' runs gives the table of all runs", () => {
    const { entries, runs } = handMade();
    const merged = mergeReports([part(runs.slice(0, 3), [1, 2]), part(runs.slice(2), [1, 2])]);
    assert.equal(merged.runs.length, runs.length, "a run in two shards is kept once");
    assert.equal(merged.complete, true);
    assert.deepEqual(merged.rows, summarise(entries, runs, [1, 2], 2));
    assert.equal(merged.wallMs, 4);
  });

  test("a seed with runs missing is left out of the table and named", () => {
    const { entries, runs } = handMade();
    // Seed 1 complete (Single's two tasks and EW); seed 2 lacks EW.
    const seed1 = runs.filter((r) => r.seed === 1);
    const merged = mergeReports([part([...seed1, runs[2], runs[3]], [1, 2])]);
    assert.equal(merged.complete, false);
    assert.deepEqual(merged.seeds, [1]);
    assert.deepEqual(merged.partialSeeds, [{ seed: 2, runs: 2, of: 3 }]);
    assert.deepEqual(merged.rows, summarise(entries, seed1, [1], 2));
    assert.equal(merged.runs.length, 5, "the partial seed's runs are kept in the report");
  });

  test("reports with different rows are joined row by row (a table extended with a strategy)", () => {
    const { entries, runs } = handMade();
    const dwa: QualityEntry = { label: "dwa", strategy: "dwa", params: {} };
    const dwaRuns = runs
      .filter((r) => r.label === "ew")
      .map((r) => ({ ...r, label: "dwa", strategy: "dwa", testAuc: r.testAuc.map((x) => (x ?? 0) - 0.01) }));
    const ablation: QualityEntry = {
      label: "gradcraft (τ=1)",
      strategy: "gradcraft",
      params: { tau: 1 },
      ablation: true,
    };
    const extended = {
      ...part([...runs.filter((r) => r.label === "single"), ...dwaRuns], [1, 2]),
      entries: [entries[0], ablation, dwa],
    };
    const ablationRuns = [1, 2].map((seed) => ({
      ...dwaRuns[0],
      seed,
      label: ablation.label,
      strategy: "gradcraft",
    }));
    const merged = mergeReports([
      part(runs, [1, 2]),
      { ...extended, runs: [...extended.runs, ...ablationRuns] },
    ]);
    assert.deepEqual(
      merged.rows.map((r) => r.label),
      ["single", "ew", "dwa", "gradcraft (τ=1)"],
      "the union of the rows, ablations last",
    );
    assert.equal(merged.complete, true);
    const all = [...runs, ...dwaRuns, ...ablationRuns];
    assert.deepEqual(merged.rows, summarise(merged.entries, all, [1, 2], 2));
    const clash = { ...extended, entries: [entries[0], { ...dwa, params: { temperature: 3 } }] };
    assert.throws(() => mergeReports([extended, clash]), /report 2 has row "dwa" with different parameters/);
  });

  test("reports of different plans are not merged", () => {
    const { runs } = handMade();
    const other = { ...part(runs, [1]), budget: { epochs: 1, evalEvery: 5, patience: 3, maxSteps: 10 } };
    assert.throws(() => mergeReports([part(runs, [1]), other]), /report 2 has different budget/);
    assert.throws(() => mergeReports([]), /nothing to merge/);
  });
});

describe("beside the paper", () => {
  test("ranks: 1 is the largest, ties share their average rank", () => {
    assert.deepEqual(ranks([0.5, 0.9, 0.5, 0.1]), [2.5, 1, 2.5, 4]);
  });

  test("Spearman's ρ: 1 for the same order, −1 for the reverse, by hand for one swap", () => {
    close(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
    close(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
    // One adjacent swap among four: 1 − 6·Σd²/(n(n²−1)) = 1 − 6·2/60.
    close(spearman([1, 2, 3, 4], [1, 3, 2, 4]), 0.8);
    assert.equal(spearman([1, 2], [1, 2]), null);
    assert.equal(spearman([1, 1, 1], [1, 2, 3]), null);
  });

  test("the comparison takes the paper's strategies only, never the ablations", () => {
    const stat = (mean: number) => ({ mean, std: null, n: 1 });
    const row = (label: string, auc: number, ablation = false) => ({
      label,
      strategy: label,
      params: {},
      ablation,
      auc: [],
      gauc: [],
      avAuc: stat(auc),
      avGauc: stat(auc / 2),
      riAuc: stat(0),
      riGauc: stat(0),
    });
    const c = compareWithPaper({
      rows: [
        row("single", 0.7),
        row("mgda", 0.6),
        row("gradcraft", 0.8),
        row("upgrad", 0.9),
        row("gradcraft (local)", 0.95, true),
      ],
    });
    assert.deepEqual(
      c.rows.map((r) => [r.label, r.rank.ours, r.rank.paper]),
      [
        ["single", 2, 2],
        ["mgda", 3, 3],
        ["gradcraft", 1, 1],
      ],
    );
    close(c.rhoAuc, 1);
  });
});

describe("quality rows", () => {
  test("Single comes first even when not asked for; unknown strategies are named", () => {
    const rows = qualityEntries(["ew", "gradcraft", "ew"], {
      ablations: false,
      gradcraft: { tau: 0.1, eps: 1e-10 },
    });
    assert.deepEqual(
      rows.map((r) => r.label),
      ["single", "ew", "gradcraft"],
    );
    assert.deepEqual(rows[2].params, { tau: 0.1, eps: 1e-10 });
    assert.throws(
      () => qualityEntries(["ew", "gradcrat"], { ablations: false, gradcraft: { tau: 0.1, eps: 0 } }),
      /unknown strategy "gradcrat" \(known: single, ew, .*gradcraft/,
    );
  });

  test("ablations change one thing each from the GradCraft row", () => {
    const rows = qualityEntries(["gradcraft"], { ablations: true, gradcraft: { tau: 0.1, eps: 1e-10 } });
    const ablations = rows.filter((r) => r.ablation);
    assert.deepEqual(
      ablations.map((r) => [r.label, r.params]),
      [
        ["gradcraft (ε=0)", { tau: 0.1, eps: 0 }],
        ["gradcraft (τ=1)", { tau: 1, eps: 1e-10 }],
        ["gradcraft (τ=0, ori)", { tau: 0, eps: 1e-10 }],
        ["gradcraft (local)", { tau: 0.1, eps: 1e-10, projection: "local" }],
      ],
    );
  });
});

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

describe("gradcraft bench quality (CLI)", () => {
  const io = captureIo;

  test("the preset and the flags become one resolved config, parsed once for the whole command", () => {
    const { config, name } = benchBaseConfig({
      dataset: "quick",
      seeds: 1,
      out: "x",
      rows: 500,
      scope: "representation",
    });
    assert.equal(name, "quick");
    assert.equal(config.data.source === "synthetic" && config.data.rows, 500);
    assert.equal(config.training.gradientScope, "representation");
    assert.equal(config.backend, "auto");
    // Resolved: defaults filled in, so the budget and the runs read it without parsing again.
    assert.equal(typeof config.training.batchSize, "number");
    assert.deepEqual(resolveBudget(config.training, { maxSteps: 7 }).maxSteps, 7);
    assert.equal(resolveBudget(config.training).epochs, config.training.epochs);
    assert.throws(
      () => benchBaseConfig({ dataset: "quick", seeds: 1, out: "x", rows: -3 }),
      /invalid settings: data\.rows/,
    );
  });

  test("bad input exits 2 and says which flag and why", async () => {
    const a = io();
    assert.equal(
      await runBenchQuality({ dataset: "quick", seeds: 1, out: "x", strategies: "ew,nope" }, a.io),
      2,
    );
    assert.match(a.err.join(""), /unknown strategy "nope"/);
    const b = io();
    assert.equal(await runBenchQuality({ dataset: "kuairand", seeds: 1, out: "x", rows: 100 }, b.io), 2);
    assert.match(b.err.join(""), /--rows applies to synthetic datasets only/);
    const c = io();
    assert.equal(await runBenchQuality({ dataset: "imagenet", seeds: 1, out: "x" }, c.io), 2);
    assert.match(c.err.join(""), /--dataset: unknown dataset "imagenet"/);
    const d = io();
    assert.equal(await runBenchQuality({ dataset: "quick", seeds: 1, out: "x", shard: "3/2" }, d.io), 2);
    assert.match(d.err.join(""), /--shard: expected i\/n with 1 ≤ i ≤ n \(e.g. 1\/2\), got "3\/2"/);
  });

  test("--merge joins shard reports into one table and names a seed left out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quality-merge-"));
    try {
      const { entries, runs } = handMade();
      const shard = (name: string, part: RunRecord[]) => {
        const path = join(dir, name);
        const report = {
          command: `gradcraft bench quality --shard ${name}`,
          date: "2026-11-29T02:00:00.000Z",
          machine: "test",
          node: "v20",
          dataset: "hand-made",
          entries,
          complete: false,
          taskNames: ["a", "b"],
          seeds: [1, 2],
          budget: { epochs: 1, evalEvery: 5, patience: 2, maxSteps: 10 },
          backend: "cpu",
          rows: [],
          runs: part,
          wallMs: 1000,
        };
        writeFileSync(path, JSON.stringify(report));
        return path;
      };
      // Seed 2 lacks EW's run.
      const files = [shard("a.json", runs.slice(0, 3)), shard("b.json", [runs[3], runs[4]])];
      const a = io();
      const code = await runBenchQuality({ dataset: "quick", seeds: 1, out: dir, merge: files }, a.io, [
        "node",
        "gradcraft",
        "bench",
        "quality",
        "--merge",
      ]);
      assert.equal(code, 0, a.err.join(""));
      assert.match(
        a.out.join(""),
        /Test AUC \(hand-made; mean ± std over 1 seed\) \(INCOMPLETE: runs missing\)/,
      );
      assert.match(a.out.join(""), /^ew\s+\.8800\s+\.5500\s+\.7150\s+\+10\.00%$/m);
      const markdown = readFileSync(join(dir, "quality-hand-made.md"), "utf8");
      assert.match(markdown, /Seed 2 is left out of the tables: 2 of its 3 runs finished/);
      assert.match(
        markdown,
        /gradcraft bench quality --shard a\.json ; gradcraft bench quality --shard b\.json ; then gradcraft bench quality --merge/,
      );
      const bad = io();
      assert.equal(
        await runBenchQuality(
          { dataset: "quick", seeds: 1, out: dir, merge: [join(dir, "none.json")] },
          bad.io,
        ),
        2,
      );
      assert.match(bad.err.join(""), /--merge: cannot read .*none\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("prints both tables, writes JSON and Markdown, shows progress lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quality-cli-"));
    try {
      const a = io();
      const code = await runBenchQuality(
        {
          dataset: "quick",
          seeds: 1,
          out: dir,
          strategies: "ew",
          rows: 1500,
          maxSteps: 1,
          evalEvery: 1,
          backend: "cpu",
        },
        a.io,
        ["node", "gradcraft", "bench", "quality", "--dataset", "quick"],
      );
      assert.equal(code, 0, a.err.join(""));
      const stdout = a.out.join("");
      assert.match(stdout, /Test AUC \(quick; mean ± std over 1 seed\)/);
      assert.match(stdout, /^ew\s+(\.\d{4}\s+){7}[+-]\d+\.\d\d%$/m);
      assert.match(a.err.join(""), /\[7\/7\] ew seed 1: (completed|early-stopped) after 1 steps/);
      const json = JSON.parse(readFileSync(join(dir, "quality-quick.json"), "utf8"));
      assert.equal(json.command, "gradcraft bench quality --dataset quick");
      assert.deepEqual(
        json.rows.map((r: { label: string }) => r.label),
        ["single", "ew"],
      );
      const markdown = readFileSync(join(dir, "quality-quick.md"), "utf8");
      assert.match(markdown, /\| strategy \| effective_view \|/);
      assert.match(markdown, /\| single \[like\] \| 1 \|/);

      // A row added later: the measured runs are taken from the report, only DWA trains.
      const flags = {
        dataset: "quick" as const,
        seeds: 1,
        out: join(dir, "more"),
        rows: 1500,
        maxSteps: 1,
        evalEvery: 1,
        backend: "cpu",
      };
      const first = join(dir, "quality-quick.json");
      const b = io();
      assert.equal(
        await runBenchQuality({ ...flags, strategies: "ew,dwa", reuse: [first] }, b.io),
        0,
        b.err.join(""),
      );
      assert.match(b.err.join(""), /\[1\/1\] dwa seed 1: (completed|early-stopped)/);
      assert.doesNotMatch(b.err.join(""), /single \[task \d\] seed 1: started|\] ew seed 1: started/);
      const extended = JSON.parse(readFileSync(join(dir, "more", "quality-quick.json"), "utf8"));
      assert.deepEqual(
        extended.rows.map((r: { label: string }) => r.label),
        ["single", "ew", "dwa"],
      );
      assert.equal(extended.complete, true);
      const measured = (report: { runs: RunRecord[] }) => report.runs.filter((r) => r.label !== "dwa");
      assert.deepEqual(measured(extended), measured(json), "reused runs are the report's, not new ones");
      // Another budget is another plan; and the report reused is never written over.
      const c = io();
      assert.equal(
        await runBenchQuality({ ...flags, maxSteps: 2, strategies: "ew", reuse: [first] }, c.io),
        2,
      );
      assert.match(c.err.join(""), /--reuse: cannot reuse report 1: it has a different budget/);
      const d = io();
      assert.equal(await runBenchQuality({ ...flags, out: dir, strategies: "ew", reuse: [first] }, d.io), 2);
      assert.match(d.err.join(""), /is where this run writes its report; pick another --out/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
