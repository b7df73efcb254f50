import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { TrainingSettings } from "../../../src/protocol/config";
import { JsonFileError } from "../../../src/protocol/configFile";
import {
  CheckpointError,
  cleanCheckpointLeftovers,
  readCheckpoint,
  restoreCheckpoint,
  type TrainerPosition,
  writeCheckpoint,
} from "../../../src/trainer/checkpoint";
import { Adam } from "../../../src/trainer/optimizer";
import { findResumePoint, ResumeError } from "../../../src/trainer/resume";
import { tinyModel, useCpu } from "./helpers";

const position = (at: Partial<TrainerPosition> = {}): TrainerPosition => ({
  step: 12,
  epoch: 0,
  nextBatch: 12,
  seed: 1,
  bestAuc: 0.6,
  bestStep: 10,
  evalsWithoutImprovement: 0,
  validatedStep: 10,
  nonFiniteStreak: 0,
  evalEvery: 10,
  wallMs: 1000,
  ...at,
});

function runWithCheckpoints(names: Array<"last" | "best">, at: Partial<TrainerPosition> = {}): string {
  const runDir = fs.mkdtempSync(join(tmpdir(), "gradcraft-ckpt-"));
  const model = tinyModel("ple");
  const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
  const strategy = { name: "ew", params: {}, state: null };
  for (const name of names)
    writeCheckpoint(join(runDir, "checkpoints", name), model, optimizer, position(at), strategy);
  return runDir;
}

const tensors = (runDir: string, name = "last") => join(runDir, "checkpoints", name, "tensors.bin");
const state = (runDir: string, name = "last") => join(runDir, "checkpoints", name, "state.json");
const settings = TrainingSettings.parse({ epochs: 3, patience: 5 });

describe("checkpoints are verified when read", () => {
  before(useCpu);

  test("an intact checkpoint reads back into a model built from the same config", () => {
    const runDir = runWithCheckpoints(["last"]);
    const checkpoint = readCheckpoint(join(runDir, "checkpoints", "last"));
    assert.equal(checkpoint.state.files?.["tensors.bin"].bytes, fs.statSync(tensors(runDir)).size);
    const model = tinyModel("ple", {}, 99);
    restoreCheckpoint(
      checkpoint,
      model,
      new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables()),
    );
  });

  const damage: Array<[string, (runDir: string) => void, RegExp]> = [
    ["an emptied tensors.bin", (r) => fs.truncateSync(tensors(r), 0), /tensors\.bin: 0 bytes .*cut short/],
    ["half a tensors.bin", (r) => fs.truncateSync(tensors(r), fs.statSync(tensors(r)).size / 2), /cut short/],
    ["extra bytes", (r) => fs.appendFileSync(tensors(r), Buffer.alloc(8)), /tensors\.bin: .*extra bytes/],
    [
      "one flipped byte",
      (r) => {
        const bytes = fs.readFileSync(tensors(r));
        bytes[100] ^= 0x40;
        fs.writeFileSync(tensors(r), bytes);
      },
      /tensors\.bin: its contents do not match the checksum in state\.json/,
    ],
    [
      "a state.json that is not JSON",
      (r) => fs.writeFileSync(state(r), "{ nope"),
      /state\.json:1:\d+: not valid JSON/,
    ],
    [
      "a state.json with a wrong field",
      (r) => {
        const json = JSON.parse(fs.readFileSync(state(r), "utf8"));
        json.position.step = "twelve";
        fs.writeFileSync(state(r), JSON.stringify(json));
      },
      /state\.json: position\.step: /,
    ],
    ["an emptied state.json", (r) => fs.truncateSync(state(r), 0), /state\.json:1:\d+: not valid JSON/],
    ["a missing tensors.bin", (r) => fs.rmSync(tensors(r)), /tensors\.bin: missing/],
  ];
  for (const [what, harm, problem] of damage)
    test(`${what} is refused, naming the file and the problem`, () => {
      const runDir = runWithCheckpoints(["last"]);
      harm(runDir);
      assert.throws(
        () => readCheckpoint(join(runDir, "checkpoints", "last")),
        (error: Error) => {
          assert.ok(error instanceof CheckpointError || error instanceof JsonFileError);
          assert.match(error.message, problem);
          return true;
        },
      );
    });

  test("NaN weights are refused even when the checksum matches (written by a run gone bad)", () => {
    const runDir = runWithCheckpoints(["last"]);
    const model = tinyModel("ple");
    model.embeddings.tables[0][3] = Number.NaN;
    const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
    writeCheckpoint(join(runDir, "checkpoints", "last"), model, optimizer, position(), {
      name: "ew",
      params: {},
      state: null,
    });
    assert.throws(
      () => readCheckpoint(join(runDir, "checkpoints", "last")),
      /embedding\/0 holds non-finite values/,
    );
  });
});

describe("the resume step", () => {
  before(useCpu);

  test("a damaged last falls back to an intact best, and says which and why", () => {
    const runDir = runWithCheckpoints(["best", "last"]);
    fs.truncateSync(tensors(runDir), 0);
    const point = findResumePoint(runDir, settings);
    assert.equal(point.from, "best");
    assert.match(point.notes.join("\n"), /checkpoints\/last cannot be used: .*tensors\.bin: 0 bytes/);
    assert.match(point.notes.join("\n"), /resuming from checkpoints\/best at step 12/);
  });

  test("a run killed before its first checkpoint starts again from step 0", () => {
    const runDir = fs.mkdtempSync(join(tmpdir(), "gradcraft-ckpt-"));
    fs.mkdirSync(join(runDir, "checkpoints"));
    const point = findResumePoint(runDir, settings);
    assert.deepEqual([point.checkpoint, point.step], [null, 0]);
    assert.match(point.notes.join("\n"), /starts again from step 0/);
  });

  test("no intact checkpoint at all is an error naming each one's problem", () => {
    const runDir = runWithCheckpoints(["best", "last"]);
    fs.truncateSync(tensors(runDir), 0);
    fs.writeFileSync(state(runDir, "best"), "{");
    assert.throws(
      () => findResumePoint(runDir, settings),
      (error: Error) => {
        assert.ok(error instanceof ResumeError);
        assert.match(error.message, /checkpoints\/last .*cut short/);
        assert.match(error.message, /checkpoints\/best .*not valid JSON/);
        return true;
      },
    );
  });

  test("a run that used its budget is refused unless given a larger one", () => {
    const runDir = runWithCheckpoints(["last"], { step: 40, epoch: 0 });
    const capped = TrainingSettings.parse({ epochs: 3, maxSteps: 40 });
    assert.throws(
      () => findResumePoint(runDir, capped),
      /already finished its 40 steps .*\(--max-steps more than 40/,
    );
    assert.equal(findResumePoint(runDir, { ...capped, maxSteps: 60 }).step, 40);
    const allEpochs = runWithCheckpoints(["last"], { step: 90, epoch: 3, nextBatch: 0 });
    assert.throws(() => findResumePoint(allEpochs, settings), /already finished all 3 epochs/);
  });

  test("leftovers of a crashed write are tidied: an unfinished copy removed, a moved-aside checkpoint put back", () => {
    const runDir = runWithCheckpoints(["last"]);
    const checkpoints = join(runDir, "checkpoints");
    fs.renameSync(join(checkpoints, "last"), join(checkpoints, "last.old-123"));
    fs.mkdirSync(join(checkpoints, "last.tmp-123"));
    fs.mkdirSync(join(checkpoints, "best.tmp-77"));
    const cleaned = cleanCheckpointLeftovers(checkpoints);
    assert.equal(cleaned.length, 3);
    assert.deepEqual(fs.readdirSync(checkpoints).sort(), ["last"]);
    assert.equal(readCheckpoint(join(checkpoints, "last")).state.position.step, 12);
  });
});
