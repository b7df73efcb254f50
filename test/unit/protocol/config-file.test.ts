import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, mock } from "node:test";
import { ConfigError, resolveTrainConfig, runTrain } from "../../../src/cli/train";
import { checkConfig } from "../../../src/extension/config/checks";
import { parseConfigFile } from "../../../src/extension/config/parse";
import { TrainingConfig } from "../../../src/protocol/config";
import { JsonFileError, readConfigFile, readJsonFile } from "../../../src/protocol/configFile";
import { configProblems } from "../../../src/protocol/configIssues";
import { didYouMean } from "../../../src/protocol/didYouMean";
import { readCheckpoint } from "../../../src/trainer/checkpoint";

const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-config-file-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const path = join(dir, name);
  fs.writeFileSync(path, text);
  return path;
}

/** What the trainer (gradcraft train) makes of a config file: its config, or its error. */
function trainerReads(path: string): { ok: true; config: TrainingConfig } | { ok: false; reason: string } {
  try {
    return { ok: true, config: resolveTrainConfig(path, {}).config };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, reason: error.message };
    throw error;
  }
}

const PLAIN = { name: "plain", training: { batchSize: 64 } };

describe("config files: one reader for the trainer and the editor", () => {
  it("comments, trailing commas and a byte-order mark are accepted by both, with the same result", () => {
    const variants = {
      "comments.gradcraft.json": '// a run\n{ "name": "plain", /* small */ "training": { "batchSize": 64 } }',
      "trailing.gradcraft.json": '{ "name": "plain", "training": { "batchSize": 64, }, }',
      "bom.gradcraft.json": `\ufeff${JSON.stringify(PLAIN)}`,
    };
    const expected = TrainingConfig.parse(PLAIN);
    for (const [name, text] of Object.entries(variants)) {
      const path = write(name, text);
      const trainer = trainerReads(path);
      const editor = parseConfigFile(path);
      assert.ok(trainer.ok, `${name}: the trainer refused it: ${!trainer.ok && trainer.reason}`);
      assert.ok(editor.ok, `${name}: the editor refused it: ${!editor.ok && editor.reason}`);
      assert.deepEqual(trainer.config, expected, name);
      assert.deepEqual(editor.config, expected, name);
    }
  });

  it("a syntax error is refused by both, naming the file, line and column", () => {
    const path = write("broken.gradcraft.json", '{\n  "name": "x"\n  "training": {}\n}');
    const trainer = trainerReads(path);
    const editor = parseConfigFile(path);
    assert.ok(!trainer.ok && !editor.ok);
    assert.match(trainer.reason, /broken\.gradcraft\.json:3:3: not valid JSON: comma expected/);
    assert.match(editor.reason, /broken\.gradcraft\.json:3:3: not valid JSON: comma expected/);
  });

  it("a JSON error in a run's config.json or a checkpoint's state.json names the file", async () => {
    const runDir = fs.mkdtempSync(join(dir, "run-"));
    const configPath = join(runDir, "config.json");
    fs.writeFileSync(configPath, '{"name": "x",');
    const stderr = mock.method(process.stderr, "write", () => true);
    try {
      assert.equal(await runTrain(undefined, { resume: runDir }), 2);
      assert.match(
        String(stderr.mock.calls[0].arguments[0]),
        new RegExp(`${configPath}:1:\\d+: not valid JSON`),
      );
    } finally {
      stderr.mock.restore();
    }
    const checkpoint = join(runDir, "checkpoints", "last");
    fs.mkdirSync(checkpoint, { recursive: true });
    fs.writeFileSync(join(checkpoint, "state.json"), '{"format": "gradcraft-checkpoint/1", "step": }');
    assert.throws(
      () => readCheckpoint(checkpoint),
      (e: unknown) =>
        e instanceof JsonFileError && e.message.startsWith(`${join(checkpoint, "state.json")}:1:`),
    );
    // Files the trainer writes are plain JSON: a comment there is corruption, not a feature.
    assert.throws(() => readJsonFile(write("state2.json", '{"step": 3} // x')), /state2\.json:1:13/);
  });

  it("a device or a FIFO is refused at once instead of being read forever", () => {
    assert.throws(() => readConfigFile("/dev/zero"), /\/dev\/zero: not a regular file \(a device\): refused/);
    const fifo = join(dir, "pipe.gradcraft.json");
    execFileSync("mkfifo", [fifo]);
    // Reading a FIFO with no writer would block this process for good: the refusal comes first.
    assert.throws(() => readConfigFile(fifo), /not a regular file \(a FIFO\): refused/);
    const trainer = trainerReads(fifo);
    const editor = parseConfigFile(fifo);
    assert.ok(!trainer.ok && /a FIFO/.test(trainer.reason));
    assert.ok(!editor.ok && /a FIFO/.test(editor.reason));
  });
});

describe("unknown fields", () => {
  it("an unknown top-level field is an error with the nearest known name, in the trainer and the editor", async () => {
    const path = write("typo.gradcraft.json", JSON.stringify({ trainig: { batchSize: 64 } }));
    const trainer = trainerReads(path);
    assert.ok(!trainer.ok);
    assert.match(trainer.reason, /trainig: unknown field "trainig"; did you mean "training"\?/);
    const editor = parseConfigFile(path);
    assert.ok(!editor.ok && /did you mean "training"/.test(editor.reason));
    const issues = await checkConfig(fs.readFileSync(path, "utf8"), path);
    assert.deepEqual(issues, [
      { path: "trainig", severity: "error", message: 'unknown field "trainig"; did you mean "training"?' },
    ]);
  });

  it("nested unknown fields name their path and a suggestion from the block they are in", () => {
    const input = {
      model: { embedingDim: 8 },
      data: {
        source: "file",
        path: "a.csv",
        features: ["u"],
        labels: ["y"],
        userColumn: "u",
        joins: [{ path: "t.csv", key: "u", featurs: ["x"] }],
      },
    };
    const parsed = TrainingConfig.safeParse(input);
    assert.ok(!parsed.success);
    const problems = configProblems(parsed.error, input).map((p) => `${p.path}: ${p.message}`);
    assert.deepEqual(problems.sort(), [
      'data.joins.0.featurs: unknown field "featurs"; did you mean "features"?',
      'model.embedingDim: unknown field "embedingDim"; did you mean "embeddingDim"?',
    ]);
  });

  it("the data block's known fields follow its source", () => {
    const input = { data: { source: "synthetic", row: 10 } };
    const parsed = TrainingConfig.safeParse(input);
    assert.ok(!parsed.success);
    assert.equal(configProblems(parsed.error, input)[0].message, 'unknown field "row"; did you mean "rows"?');
  });

  it("a name far from every known one lists the known names instead of guessing", () => {
    assert.equal(didYouMean("x", ["name", "data"]), undefined);
    assert.equal(didYouMean("lables", ["labels", "features"]), "labels");
    assert.equal(didYouMean("BatchSize", ["batchSize", "epochs"]), "batchSize");
    const input = { zzzzzz: 1 };
    const parsed = TrainingConfig.safeParse(input);
    assert.ok(!parsed.success);
    assert.match(
      configProblems(parsed.error, input)[0].message,
      /unknown field "zzzzzz" \(known: \$schema, name, /,
    );
  });
});
