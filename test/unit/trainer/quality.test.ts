import assert from "node:assert/strict";
import { describe, test } from "node:test";
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
  seedMetrics,
  spearman,
  summarise,
} from "../../../src/trainer/quality";
import { handMade } from "./qualityFixtures";

/** The bench-quality arithmetic and reports: statistics, merged shards, the paper comparison, the rows. */

const close = (actual: number | null, expected: number, tolerance = 1e-12) => {
  assert.ok(actual !== null, `expected ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) <= tolerance, `expected ${expected}, got ${actual}`);
};

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
