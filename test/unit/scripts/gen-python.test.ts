import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { strategies } from "../../../src/core/strategies/index";
import { HOST_COMMAND_TYPES, PROTOCOL_VERSION, TRAINER_MESSAGE_TYPES } from "../../../src/protocol/messages";

// scripts/gen-python.mjs: the Python package's strategy and protocol definitions, generated from the zod schemas.
const root = join(import.meta.dirname, "../../..");
const committed = join(root, "python/gradcraft_studio/_generated/strategies.json");

describe("the Python package's generated strategy definitions", () => {
  it("hold every strategy of the registry, in order, with its parameter defaults, and the protocol version", () => {
    const file = JSON.parse(readFileSync(committed, "utf8"));
    assert.equal(file.protocolVersion, PROTOCOL_VERSION);
    assert.deepEqual(
      file.strategies.map((s: { name: string }) => s.name),
      strategies.map((s) => s.name),
    );
    const gradcraft = file.strategies.find((s: { name: string }) => s.name === "gradcraft");
    assert.equal(gradcraft.params.properties.tau.default, 1);
    assert.equal(gradcraft.params.properties.tau.maximum, 1);
    assert.equal(gradcraft.params.additionalProperties, false);
    const dbMtl = file.strategies.find((s: { name: string }) => s.name === "db-mtl");
    assert.equal(dbMtl.lossTransform, "log");
  });

  it("hold every command and message of the protocol as JSON Schema, with their ranges", () => {
    const file = JSON.parse(
      readFileSync(join(root, "python/gradcraft_studio/_generated/protocol.json"), "utf8"),
    );
    assert.equal(file.version, PROTOCOL_VERSION);
    assert.deepEqual(Object.keys(file.commands), HOST_COMMAND_TYPES);
    assert.deepEqual(Object.keys(file.messages), TRAINER_MESSAGE_TYPES);
    const lr = file.commands["set-hyperparameters"].properties.learningRate;
    assert.deepEqual([lr.exclusiveMinimum, lr.maximum], [0, 1]);
    assert.deepEqual(file.attach.required, ["v", "type", "token"]);
  });

  it("--check passes on the committed files and fails, naming the fix, on a stale one", async () => {
    const { isCurrent, outputs } = await import("../../../scripts/gen-python.mjs");
    const dir = mkdtempSync(join(tmpdir(), "gen-python-"));
    try {
      for (const output of outputs) {
        assert.equal(await isCurrent(output), true, "run node scripts/gen-python.mjs and commit it");
        const stale = join(dir, "stale.json");
        writeFileSync(
          stale,
          readFileSync(output.file, "utf8").replace('"default": ', '"default": 0.5, "was": '),
        );
        assert.equal(await isCurrent(output, stale), false);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const cli = spawnSync(process.execPath, [join(root, "scripts/gen-python.mjs"), "--check"], {
      encoding: "utf8",
    });
    assert.equal(cli.status, 0, cli.stderr);
  });
});
