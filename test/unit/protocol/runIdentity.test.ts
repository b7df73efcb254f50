import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  automaticRunName,
  describeRunIdentity,
  RUN_IDENTITY_FILE,
  readRunIdentity,
  runShortId,
  updateRunIdentity,
} from "../../../src/protocol/runIdentity";
import { readRunInfo, scanRuns } from "../../../src/protocol/runlog";

const folder = () => mkdtempSync(join(tmpdir(), "gradcraft-identity-"));

/** A run folder as a trainer leaves it: config.json naming its config and strategy. */
function runFolder(root: string, name: string, strategy = "gradcraft"): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ name: "quick", strategy: { name: strategy } }));
  return dir;
}

describe("run identity", () => {
  it("names runs of one config apart: their starting strategy and a short id of their folder", () => {
    const a = automaticRunName("gradcraft", "/runs/20261203-101500-quick");
    const b = automaticRunName("gradcraft", "/runs/20261203-101501-quick");
    assert.match(a, /^gradcraft-[0-9a-z]{4}$/);
    assert.notEqual(a, b);
    assert.equal(
      a,
      automaticRunName("gradcraft", "/elsewhere/20261203-101500-quick"),
      "stable for the folder",
    );
    assert.equal(runShortId("/x/20261203-101500-quick"), a.slice("gradcraft-".length));
    assert.match(automaticRunName(null, "/r/x"), /^run-/);
  });

  it("reads the user's name, tags and note from run.json, and the automatic name without it", async () => {
    const dir = runFolder(folder(), "20261203-101500-quick", "pcgrad");
    const plain = await readRunIdentity(dir, "pcgrad");
    assert.deepEqual(plain, {
      name: `pcgrad-${runShortId(dir)}`,
      automatic: true,
      shortId: runShortId(dir),
      tags: [],
      note: "",
    });
    await updateRunIdentity(dir, {
      name: "  lr sweep 3e-3 ",
      tags: ["baseline", " baseline", "#x", ""],
      note: "first try",
    });
    const named = await readRunIdentity(dir, "pcgrad");
    assert.equal(named.name, "lr sweep 3e-3");
    assert.equal(named.automatic, false);
    assert.deepEqual(named.tags, ["baseline", "#x"]);
    assert.equal(named.note, "first try");
    assert.equal(describeRunIdentity(named), "lr sweep 3e-3 · #baseline ##x");
    // Written whole: no temporary file is left beside it.
    assert.deepEqual(readdirSync(dir).sort(), ["config.json", RUN_IDENTITY_FILE]);
    // An empty name goes back to the automatic one; other fields stay.
    await updateRunIdentity(dir, { name: null });
    const back = await readRunIdentity(dir, "pcgrad");
    assert.equal(back.name, plain.name);
    assert.deepEqual(back.tags, ["baseline", "#x"]);
    await updateRunIdentity(dir, { tags: [], note: "" });
    assert.deepEqual(JSON.parse(readFileSync(join(dir, RUN_IDENTITY_FILE), "utf8")), {});
  });

  it("refuses to store what is not a name, and reads a broken run.json as none, saying why", async () => {
    const dir = runFolder(folder(), "20261203-101500-quick");
    await assert.rejects(updateRunIdentity(dir, { name: "x".repeat(121) }), /120/);
    assert.equal(existsSync(join(dir, RUN_IDENTITY_FILE)), false);
    writeFileSync(join(dir, RUN_IDENTITY_FILE), "{ not json");
    const problems: string[] = [];
    const identity = await readRunIdentity(dir, "gradcraft", problems);
    assert.equal(identity.automatic, true);
    assert.deepEqual(problems, [`${RUN_IDENTITY_FILE} is not valid JSON`]);
    writeFileSync(join(dir, RUN_IDENTITY_FILE), JSON.stringify({ tags: "a" }));
    const more: string[] = [];
    await readRunIdentity(dir, "gradcraft", more);
    assert.match(more[0], /run\.json: tags: /);
  });

  it("comes with every scanned run, named by the strategy it started with, and no two alike", async () => {
    const root = folder();
    const a = runFolder(root, "20261203-101500-quick", "gradcraft");
    const b = runFolder(root, "20261203-101600-quick", "pcgrad");
    await updateRunIdentity(b, { name: "mine", tags: ["t"] });
    // A switch later in the run does not rename it: config.json is the start.
    const info = await readRunInfo(a);
    assert.equal(info?.identity.name, `gradcraft-${runShortId(a)}`);
    const runs = await scanRuns(root);
    assert.deepEqual(
      runs.map((r) => [r.name, r.identity.name, r.identity.tags]),
      [
        ["quick", "mine", ["t"]],
        ["quick", `gradcraft-${runShortId(a)}`, []],
      ],
    );
  });

  it("gives the later of two runs whose automatic names coincide a suffix", async () => {
    const root = folder();
    // Find two folder names with the same short id (a collision of the four-character hash).
    const byId = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const name = `20261203-${String(100000 + i)}-q`;
      const id = runShortId(name);
      const other = byId.get(id);
      if (other) pair = [other, name];
      else byId.set(id, name);
    }
    runFolder(root, pair[0]);
    runFolder(root, pair[1]);
    const names = (await scanRuns(root)).map((r) => r.identity.name);
    assert.equal(new Set(names).size, 2, `names: ${names}`);
    assert.ok(names.some((n) => n.endsWith("-2")));
  });
});
