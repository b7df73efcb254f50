import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { ew } from "../../../src/core/strategies/ew";
import { TrainingConfig } from "../../../src/protocol/config";
import { ATTACH_EXAMPLE, COMMAND_EXAMPLES, TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import {
  checkVersion,
  describeStrategy,
  HOST_COMMAND_TYPES,
  hostCommand,
  PROTOCOL_VERSION,
  parseAttachRequest,
  parseHostCommand,
  parseTrainerMessage,
  TRAINER_MESSAGE_TYPES,
  trainerMessage,
} from "../../../src/protocol/messages";

const roundTrip = (value: unknown) => JSON.parse(JSON.stringify(value));

describe("protocol messages", () => {
  it("has an example of every trainer message type and every command type", () => {
    assert.deepEqual(Object.keys(TRAINER_EXAMPLES).sort(), [...TRAINER_MESSAGE_TYPES].sort());
    assert.deepEqual(Object.keys(COMMAND_EXAMPLES).sort(), [...HOST_COMMAND_TYPES].sort());
  });

  for (const [type, example] of Object.entries(TRAINER_EXAMPLES)) {
    it(`a "${type}" message survives JSON and validation unchanged`, () => {
      const parsed = parseTrainerMessage(roundTrip(example));
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
      assert.deepEqual(parsed.message, example);
      assert.equal(parsed.newerMinor, false);
    });
  }

  for (const [type, example] of Object.entries(COMMAND_EXAMPLES)) {
    it(`a "${type}" command survives JSON and validation unchanged`, () => {
      const parsed = parseHostCommand(roundTrip(example));
      assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
      assert.deepEqual(parsed.message, example);
    });
  }

  it("the attach handshake validates", () => {
    const parsed = parseAttachRequest(roundTrip(ATTACH_EXAMPLE));
    assert.ok(parsed.ok);
  });

  it("a command is not a trainer message and vice versa", () => {
    const asMessage = parseTrainerMessage(COMMAND_EXAMPLES.pause);
    assert.equal(asMessage.ok, false);
    if (!asMessage.ok) assert.equal(asMessage.kind, "unknown-type");
    const asCommand = parseHostCommand(TRAINER_EXAMPLES.log);
    assert.equal(asCommand.ok, false);
  });

  it("rejects an invalid step naming the field and the reason", () => {
    const bad = { ...TRAINER_EXAMPLES.step, losses: [0.5, "high"] };
    const parsed = parseTrainerMessage(bad);
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.equal(parsed.kind, "invalid");
    assert.match(parsed.reason, /losses\[1\]/);
  });

  it("rejects per-task arrays whose length disagrees with the number of tasks", () => {
    const parsed = parseTrainerMessage({ ...TRAINER_EXAMPLES.step, cosines: [1, 0, 1] });
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.reason, /cosines: expected 4 entries/);
    const weights = parseTrainerMessage({ ...TRAINER_EXAMPLES.step, weights: [1] });
    assert.equal(weights.ok, false);
    if (!weights.ok) assert.match(weights.reason, /weights: expected 2 entries/);
  });

  it("rejects an out-of-range command value with its path", () => {
    const parsed = parseHostCommand({ ...COMMAND_EXAMPLES["set-hyperparameters"], learningRate: -1 });
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.reason, /learningRate/);
  });

  it("refuses hyperparameters beyond their bounds on the wire, as in the config file", () => {
    for (const [field, value, bound] of [
      ["l2", 1e300, /l2: .*<=1/],
      ["learningRate", 2, /learningRate: .*<=1/],
      ["clipNorm", 1e9, /clipNorm: .*<=1000000/],
      ["evalEvery", 1e7, /evalEvery: .*<=1000000/],
    ] as const) {
      const parsed = parseHostCommand({
        v: PROTOCOL_VERSION,
        type: "set-hyperparameters",
        id: "x",
        [field]: value,
      });
      assert.equal(parsed.ok, false, field);
      if (!parsed.ok) assert.match(parsed.reason, bound);
      const config = TrainingConfig.safeParse({ training: { [field]: value } });
      assert.equal(config.success, false, `training.${field} in a config`);
    }
  });

  it("refuses a set-hyperparameters command that changes nothing", () => {
    const parsed = parseHostCommand({ v: PROTOCOL_VERSION, type: "set-hyperparameters", id: "x" });
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.reason, /nothing to change/);
  });

  it("a command needs an id", () => {
    const parsed = parseHostCommand({ v: PROTOCOL_VERSION, type: "pause" });
    assert.equal(parsed.ok, false);
    if (!parsed.ok) assert.match(parsed.reason, /^invalid "pause" command: id/);
  });

  it("fills command defaults (evaluate on validation, no strategy params)", () => {
    const evaluate = parseHostCommand({ v: PROTOCOL_VERSION, type: "evaluate", id: "e" });
    assert.ok(evaluate.ok);
    assert.equal(evaluate.message.type === "evaluate" && evaluate.message.split, "validation");
    const setStrategy = parseHostCommand({ v: PROTOCOL_VERSION, type: "set-strategy", id: "s", name: "ew" });
    assert.ok(setStrategy.ok);
    assert.deepEqual(setStrategy.message.type === "set-strategy" && setStrategy.message.params, {});
  });

  it("ignores unknown fields and accepts a newer minor version, saying so", () => {
    const parsed = parseTrainerMessage({ ...TRAINER_EXAMPLES.log, v: "1.7", colour: "blue" });
    assert.ok(parsed.ok);
    assert.equal(parsed.newerMinor, true);
    assert.equal("colour" in parsed.message, false);
  });

  it("refuses a newer major version plainly", () => {
    const parsed = parseTrainerMessage({ ...TRAINER_EXAMPLES.log, v: "2.0" });
    assert.equal(parsed.ok, false);
    if (parsed.ok) return;
    assert.equal(parsed.kind, "version");
    assert.match(parsed.reason, /newer than this reader/);
  });

  it("version checks: missing, malformed, older major", () => {
    assert.equal(checkVersion(undefined).ok, false);
    assert.equal(checkVersion("1").ok, false);
    assert.equal(checkVersion("1.0.0").ok, false);
    const older = checkVersion("0.9");
    assert.ok(!older.ok && /older/.test(older.reason));
    assert.deepEqual(checkVersion(PROTOCOL_VERSION), { ok: true, newerMinor: false });
  });

  it("non-objects are malformed, not exceptions", () => {
    for (const value of [null, 3, "step", [], [1, 2], true, { type: 3 }]) {
      const parsed = parseTrainerMessage(value);
      assert.equal(parsed.ok, false);
      if (!parsed.ok) assert.equal(parsed.kind, "malformed");
    }
  });

  it("stamps the version on bodies", () => {
    assert.equal(trainerMessage({ type: "log", level: "info", message: "x" }).v, PROTOCOL_VERSION);
    assert.equal(hostCommand({ type: "pause", id: "p" }).v, PROTOCOL_VERSION);
  });

  it("describes a strategy with the JSON Schema and defaults of its parameters", () => {
    const info = describeStrategy({
      name: "demo",
      title: "Demo",
      summary: "demo",
      params: z.object({ tau: z.number().min(0).max(1).default(0.5).describe("magnitude") }),
    });
    const properties = info.paramsSchema.properties as Record<string, Record<string, unknown>>;
    assert.equal(properties.tau.maximum, 1);
    assert.equal(properties.tau.description, "magnitude");
    assert.deepEqual(info.defaults, { tau: 0.5 });
    const hello = { ...TRAINER_EXAMPLES.hello, strategies: [info, describeStrategy(ew)] };
    assert.ok(parseTrainerMessage(roundTrip(hello)).ok);
  });
});
