import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ConfigError, resolveTrainConfig, runTrain } from "../../../src/cli/train";
import { TINY_SYNTHETIC_MMOE } from "../helpers/configs";

function tempDir(): string {
  return fs.mkdtempSync(join(tmpdir(), "gradcraft-cli-"));
}

function configFile(dir: string, body: unknown): string {
  const path = join(dir, "tiny.gradcraft.json");
  fs.writeFileSync(path, JSON.stringify(body));
  return path;
}

const TINY = {
  name: "tiny",
  ...TINY_SYNTHETIC_MMOE,
  training: { batchSize: 64, maxSteps: 8, evalEvery: 4 },
  strategy: { name: "gradcraft" },
};

describe("gradcraft train (CLI)", () => {
  test("config errors name the field and the allowed values", () => {
    const dir = tempDir();
    const cases: Array<[unknown, RegExp]> = [
      [{ training: { learningRate: 5 } }, /training\.learningRate: .*1/],
      [{ model: { type: "transformer" } }, /model\.type: .*"shared-bottom".*"mmoe".*"ple"/],
      [{ strategy: { name: "nope" } }, /strategy: unknown strategy "nope" \(known: .*gradcraft/],
      [{ strategy: { name: "gradcraft", params: { tau: 7 } } }, /strategy: .*tau/],
      [{ model: { dropuot: 0.1 } }, /model\.dropuot: unknown field "dropuot"; did you mean "dropout"\?/],
    ];
    for (const [body, expected] of cases) {
      assert.throws(
        () => resolveTrainConfig(configFile(dir, body), {}),
        (error: unknown) => error instanceof ConfigError && expected.test(error.message),
        JSON.stringify(body),
      );
    }
    assert.throws(
      () => resolveTrainConfig(undefined, { preset: "huge" }),
      /preset: unknown preset "huge" \(allowed: quick, wechat-like, kuairand\)/,
    );
  });

  test("presets, then the file, then flags: later ones win field by field", () => {
    const dir = tempDir();
    const { config, baseDir } = resolveTrainConfig(
      configFile(dir, { preset: "quick", training: { batchSize: 128 } }),
      { strategy: "ew", maxSteps: "7" },
    );
    assert.equal(config.training.batchSize, 128);
    assert.equal(config.training.maxSteps, 7);
    assert.equal(config.training.learningRate, 3e-3, "from the quick preset");
    assert.deepEqual(config.strategy, { name: "ew", params: {} });
    assert.equal(baseDir, dir);
  });

  test("a bad config exits 2 and writes nothing", async () => {
    const dir = tempDir();
    const out = join(dir, "runs");
    const code = await runTrain(configFile(dir, { training: { batchSize: -1 } }), { out });
    assert.equal(code, 2);
    assert.equal(fs.existsSync(out), false);
  });

  test("a short run writes the run folder: config, event log, checkpoints and summary", async () => {
    const dir = tempDir();
    const out = join(dir, "runs");
    const code = await runTrain(configFile(dir, TINY), { out });
    assert.equal(code, 0);
    const [run] = fs.readdirSync(out);
    assert.match(run, /^\d{8}-\d{6}-tiny$/);
    const runDir = join(out, run);
    const config = JSON.parse(fs.readFileSync(join(runDir, "config.json"), "utf8"));
    assert.equal(config.model.type, "mmoe");
    const events = fs
      .readFileSync(join(runDir, "events.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const types = events.map((e) => e.type);
    assert.equal(types[0], "hello");
    assert.equal(types.filter((t) => t === "step").length, 8);
    assert.equal(types.at(-1), "done");
    assert.ok(fs.existsSync(join(runDir, "checkpoints/last/state.json")));
    assert.ok(fs.existsSync(join(runDir, "checkpoints/last/tensors.bin")));
    const summary = JSON.parse(fs.readFileSync(join(runDir, "summary.json"), "utf8"));
    assert.equal(summary.steps, 8);
    for (const split of ["validation", "test"]) {
      assert.equal(summary.splits[split].tasks.length, 6);
      for (const key of ["auc", "gauc", "logloss"])
        assert.ok(key in summary.splits[split].mean, `${split} mean ${key}`);
    }
  });

  test("--resume RUN continues the run folder from its last checkpoint", async () => {
    const dir = tempDir();
    const out = join(dir, "runs");
    assert.equal(
      await runTrain(configFile(dir, { ...TINY, training: { ...TINY.training, maxSteps: 4 } }), { out }),
      0,
    );
    const runDir = join(out, fs.readdirSync(out)[0]);
    assert.equal(await runTrain(undefined, { resume: runDir, maxSteps: "7" }), 0);
    const events = fs
      .readFileSync(join(runDir, "events.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    const hellos = events.filter((e) => e.type === "hello");
    assert.equal(hellos.length, 2);
    assert.deepEqual(hellos[1].resumedFrom, { runDir, step: 4 });
    assert.deepEqual(
      events.filter((e) => e.type === "step").map((e) => e.step),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(JSON.parse(fs.readFileSync(join(runDir, "summary.json"), "utf8")).steps, 7);
    assert.equal(await runTrain(undefined, { resume: join(dir, "nowhere") }), 2);
    // The run has used its budget: resuming it again trains nothing and writes nothing.
    const log = fs.readFileSync(join(runDir, "events.ndjson"));
    assert.equal(await runTrain(undefined, { resume: runDir, maxSteps: "7" }), 2);
    assert.ok(fs.readFileSync(join(runDir, "events.ndjson")).equals(log), "the event log is unchanged");
  });
});
