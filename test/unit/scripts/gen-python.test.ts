import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { strategies } from "../../../src/core/strategies/index";
import { PROTOCOL_VERSION } from "../../../src/protocol/messages";

// scripts/gen-python.mjs: the Python package's strategy definitions, generated from the zod schemas.
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

  it("--check passes on the committed file and fails, naming the fix, on a stale one", async () => {
    const { pythonDefinitionsCurrent } = await import("../../../scripts/gen-python.mjs");
    assert.equal(await pythonDefinitionsCurrent(), true, "run node scripts/gen-python.mjs and commit it");
    const dir = mkdtempSync(join(tmpdir(), "gen-python-"));
    try {
      const stale = join(dir, "strategies.json");
      writeFileSync(stale, readFileSync(committed, "utf8").replace('"default": 1,', '"default": 0.5,'));
      assert.equal(await pythonDefinitionsCurrent(stale), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const cli = spawnSync(process.execPath, [join(root, "scripts/gen-python.mjs"), "--check"], {
      encoding: "utf8",
    });
    assert.equal(cli.status, 0, cli.stderr);
  });
});
