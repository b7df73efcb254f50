import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { exportRunCsv, toCsv } from "../../../src/extension/runs/exportCsv";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import type { TrainerMessage } from "../../../src/protocol/messages";

type Step = Extract<TrainerMessage, { type: "step" }>;
const hello = TRAINER_EXAMPLES.hello as Extract<TrainerMessage, { type: "hello" }>;
const k = hello.tasks.length;

/** Seeded steps of the example's shape, one task's loss spiking at step 7. */
function steps(n: number): Step[] {
  const base = TRAINER_EXAMPLES.step as Step;
  return Array.from({ length: n }, (_, i) => ({
    ...base,
    step: i + 1,
    wallMs: (i + 1) * 100,
    losses: hello.tasks.map((_, t) => (i + 1 === 7 && t === 0 ? 9 : 0.5 + 0.01 * t)),
    norms: hello.tasks.map(() => 1),
    weights: hello.tasks.map(() => 1 / k),
    updateCosines: hello.tasks.map(() => 0.5),
    cosines: Array.from({ length: k * k }, (_, j) => (j % (k + 1) === 0 ? 1 : -0.25)),
  }));
}

describe("CSV export of every series", () => {
  const dir = mkdtempSync(join(tmpdir(), "gradcraft-csv-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("has one row per series and step, with task names from hello, at full resolution", () => {
    const csv = toCsv([hello, ...steps(10), TRAINER_EXAMPLES.eval]);
    const rows: string[][] = parse(csv);
    assert.deepEqual(rows[0], ["series", "step", "time_ms", "value"]);
    const loss0 = rows.filter((r) => r[0] === `loss/${hello.tasks[0]}`);
    assert.equal(loss0.length, 10, "every step, no downsampling");
    assert.deepEqual(loss0[6], [`loss/${hello.tasks[0]}`, "7", "700", "9"], "the spike is kept exactly");
    const pairs = new Set(rows.filter((r) => r[0].startsWith("cosine/")).map((r) => r[0]));
    assert.equal(pairs.size, (k * (k - 1)) / 2, "each unordered task pair once");
    const evalExample = TRAINER_EXAMPLES.eval as Extract<TrainerMessage, { type: "eval" }>;
    const mean = rows.find((r) => r[0] === `eval/${evalExample.split}/auc/mean`);
    assert.equal(Number(mean?.[3]), evalExample.mean.auc);
  });

  it("streams a run folder's event log into a file", async () => {
    const runDir = join(dir, "run");
    mkdirSync(runDir);
    const messages: TrainerMessage[] = [hello, ...steps(50), TRAINER_EXAMPLES.done];
    writeFileSync(join(runDir, "events.ndjson"), messages.map((m) => JSON.stringify(m)).join("\n") + "\n");
    const target = join(dir, "out.csv");
    const written = await exportRunCsv(runDir, target);
    const text = readFileSync(target, "utf8");
    assert.equal(text, toCsv(messages), "the file equals the in-memory export");
    assert.equal(written, text.trim().split("\n").length - 1);
  });
});
