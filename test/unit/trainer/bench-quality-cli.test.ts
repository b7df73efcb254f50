import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { benchBaseConfig, runBenchQuality } from "../../../src/cli/bench-quality";
import { Rng } from "../../../src/trainer/rng";
import { captureIo, useCpu } from "./helpers";

/**
 * `gradcraft bench quality --config`: the paper's comparison on any training config, the user's
 * own data files included.
 */

const io = captureIo;

interface RunFigures {
  label: string;
  task?: number;
  learningRate: number;
  steps: number;
  testAuc: number[];
  bestValidationAuc: number | null;
}

/** A user's log: two categorical features, two labels, a user column; 600 rows. */
function writeLog(path: string): void {
  const rng = new Rng(5);
  const lines = ["user,item,click,like"];
  for (let i = 0; i < 600; i++) {
    const user = rng.int(30);
    const item = rng.int(40);
    const click = rng.next() < 0.3 + 0.4 * ((item % 4) / 4) ? 1 : 0;
    const like = click && rng.next() < 0.5 ? 1 : 0;
    lines.push(`u${user},i${item},${click},${like}`);
  }
  writeFileSync(path, `${lines.join("\n")}\n`);
}

describe("gradcraft bench quality --config", () => {
  let dir: string;
  before(async () => {
    await useCpu();
    dir = mkdtempSync(join(tmpdir(), "quality-config-"));
    mkdirSync(join(dir, "data"));
    writeLog(join(dir, "data", "log.csv"));
    writeFileSync(
      join(dir, "mine.gradcraft.json"),
      JSON.stringify({
        backend: "cpu",
        data: {
          source: "file",
          // Relative to the config's folder, as for `gradcraft train`.
          path: "data/log.csv",
          features: ["user", "item"],
          labels: ["click", "like"],
          userColumn: "user",
          split: { by: "ratio", validation: 0.2, test: 0.2, seed: 3 },
        },
        model: { type: "ple", embeddingDim: 4, experts: [8], towers: [4], dropout: 0, deepfm: true },
        training: { batchSize: 64, evalEvery: 2, patience: 2, embeddingOptimizer: "dense-adam" },
        strategy: { name: "gradcraft", params: { tau: 0.5, eps: 0 } },
      }),
    );
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("the file's data, model and training settings are the base; the report is named after the file", () => {
    const { config, name, baseDir } = benchBaseConfig({
      config: join(dir, "mine.gradcraft.json"),
      seeds: 1,
      out: "x",
    });
    assert.equal(name, "mine");
    assert.equal(baseDir, dir);
    assert.equal(config.model.deepfm, true);
    assert.equal(config.training.embeddingOptimizer, "dense-adam");
    assert.equal(config.backend, "cpu");
    const scoped = benchBaseConfig({
      config: join(dir, "mine.gradcraft.json"),
      seeds: 1,
      out: "x",
      scope: "representation",
      backend: "wasm",
    });
    assert.equal(scoped.config.training.gradientScope, "representation");
    assert.equal(scoped.config.backend, "wasm");
  });

  test("runs the comparison on the user's own file, with the config's GradCraft τ and ε", async () => {
    const out = join(dir, "out");
    const a = io();
    const code = await runBenchQuality(
      {
        config: join(dir, "mine.gradcraft.json"),
        seeds: 1,
        out,
        strategies: "gradcraft",
        maxSteps: 2,
      },
      a.io,
      ["node", "gradcraft", "bench", "quality", "--config", "mine.gradcraft.json"],
    );
    assert.equal(code, 0, a.err.join(""));
    assert.match(a.err.join(""), /dataset mine: \d+ train, \d+ validation, \d+ test rows, 2 tasks/);
    const report = JSON.parse(readFileSync(join(out, "quality-mine.json"), "utf8"));
    assert.equal(report.dataset, "mine");
    assert.deepEqual(report.taskNames, ["click", "like"]);
    const gradcraft = report.rows.find((r: { label: string }) => r.label === "gradcraft");
    assert.deepEqual(gradcraft.params, { tau: 0.5, eps: 0 });
    assert.equal(report.runs.length, 3, "Single's two tasks and GradCraft");
    for (const run of report.runs) assert.ok(run.steps >= 1 && run.steps <= 2);
  });

  test("--lr-grid with --jobs 2: child processes train the runs the in-process command trains, to the same figures", async () => {
    const flags = {
      config: join(dir, "mine.gradcraft.json"),
      seeds: 1,
      strategies: "ew",
      maxSteps: 2,
      lrGrid: [0.001, 0.01],
    };
    const argv = ["node", "gradcraft", "bench", "quality", "--lr-grid", "0.001,0.01"];
    const here = io();
    assert.equal(
      await runBenchQuality({ ...flags, out: join(dir, "here") }, here.io, argv),
      0,
      here.err.join(""),
    );
    // The standalone entry in its worker mode, as `--jobs` starts it from the bundle.
    const worker = {
      modulePath: join(__dirname, "..", "..", "..", "src", "cli", "bench-quality.ts"),
      args: ["--worker"],
      execArgv: ["--import", "tsx"],
    };
    const jobs = io();
    assert.equal(
      await runBenchQuality({ ...flags, jobs: 2, out: join(dir, "jobs") }, jobs.io, argv, worker),
      0,
      jobs.err.join(""),
    );
    const read = (sub: string) => JSON.parse(readFileSync(join(dir, sub, "quality-mine.json"), "utf8"));
    const [a, b] = [read("here"), read("jobs")];
    // Single's two tasks and EW, each at both rates.
    assert.equal(a.runs.length, 6);
    const figures = (report: typeof a) =>
      report.runs
        .map((r: RunFigures) => [
          r.label,
          r.task ?? "",
          r.learningRate,
          r.steps,
          r.testAuc,
          r.bestValidationAuc,
        ])
        .sort((x: unknown[], y: unknown[]) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
    assert.deepEqual(figures(b), figures(a));
    assert.deepEqual(a.budget.learningRates, [0.001, 0.01]);
    const ew = b.rows.find((r: { label: string }) => r.label === "ew");
    assert.equal(ew.learningRates.length, 1);
    assert.ok([0.001, 0.01].includes(ew.learningRates[0]));
    assert.match(
      readFileSync(join(dir, "jobs", "quality-mine.md"), "utf8"),
      /Learning rate tuned on validation over 1e-3, 1e-2/,
    );
  });

  test("bad input exits 2 and says which flag, file and field", async () => {
    const both = io();
    assert.equal(
      await runBenchQuality(
        { config: join(dir, "mine.gradcraft.json"), dataset: "quick", seeds: 1, out: "x" },
        both.io,
      ),
      2,
    );
    assert.match(both.err.join(""), /give --dataset \(a preset\) or --config \(a file\), not both/);
    const missing = io();
    assert.equal(
      await runBenchQuality({ config: join(dir, "none.gradcraft.json"), seeds: 1, out: "x" }, missing.io),
      2,
    );
    assert.match(missing.err.join(""), /--config: config .*none\.gradcraft\.json: cannot open/);
    writeFileSync(
      join(dir, "bad.gradcraft.json"),
      JSON.stringify({ training: { embeddingOptimizer: "sgd" } }),
    );
    const bad = io();
    assert.equal(
      await runBenchQuality({ config: join(dir, "bad.gradcraft.json"), seeds: 1, out: "x" }, bad.io),
      2,
    );
    assert.match(bad.err.join(""), /training\.embeddingOptimizer/);
  });
});
