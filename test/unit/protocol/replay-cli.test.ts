import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { resolveRun, runReplay, runSummary } from "../../../src/cli/replay";
import { encodeLine } from "../../../src/protocol/codec";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import type { EvalMessage, RunSummary, TrainerMessage } from "../../../src/protocol/messages";
import { createRunDir, EventLogWriter, runPaths } from "../../../src/protocol/runlog";

let runs: string;
before(() => {
  runs = fs.mkdtempSync(join(tmpdir(), "gc-replay-cli-"));
});
after(() => fs.rmSync(runs, { recursive: true, force: true }));

function capture() {
  const out = { stdout: "", stderr: "" };
  return {
    out,
    io: {
      stdout: (t: string) => {
        out.stdout += t;
      },
      stderr: (t: string) => {
        out.stderr += t;
      },
    },
  };
}

function write(
  name: string,
  messages: TrainerMessage[],
  at = new Date(Date.UTC(2026, 1, 3, 4, 5, 6)),
): string {
  const dir = createRunDir(runs, name, at);
  const log = new EventLogWriter(runPaths(dir).events);
  for (const m of messages) log.append(m);
  log.close();
  return dir;
}

const base: TrainerMessage[] = [
  TRAINER_EXAMPLES.hello,
  TRAINER_EXAMPLES.config,
  TRAINER_EXAMPLES["strategy-changed"],
  TRAINER_EXAMPLES.step,
  TRAINER_EXAMPLES.eval,
];

describe("gradcraft replay", () => {
  it("prints the event log's messages as NDJSON, byte for byte what the live stream carried", async () => {
    const messages = [...base, TRAINER_EXAMPLES.done];
    const dir = write("full", messages);
    const { out, io } = capture();
    assert.equal(await runReplay(dir, {}, io), 0);
    assert.equal(out.stdout, messages.map(encodeLine).join(""));
    assert.equal(out.stdout, fs.readFileSync(runPaths(dir).events, "utf8"));
    assert.equal(out.stderr, "");
  });

  it("filters by type and finds a run by name under the runs folder", async () => {
    write("byname", base);
    const { out, io } = capture();
    assert.equal(await runReplay("byname", { runs, types: ["eval"] }, io), 0);
    assert.equal(out.stdout, encodeLine(TRAINER_EXAMPLES.eval));
  });

  it("says which runs exist when the name matches none or several", () => {
    write("twin-a", base);
    write("twin-b", base);
    assert.throws(() => resolveRun("nothing-like-it", runs), /no run "nothing-like-it" in .*runs: /);
    assert.throws(() => resolveRun("2026", runs), /matches several runs/);
  });

  it("exits 2 for a missing run and 1 with a plain message for a newer protocol", async () => {
    const missing = capture();
    assert.equal(await runReplay(join(runs, "absent"), { runs }, missing.io), 2);
    assert.match(missing.out.stderr, /gradcraft replay: no run/);
    const dir = write("future", []);
    fs.writeFileSync(runPaths(dir).events, encodeLine({ ...TRAINER_EXAMPLES.hello, v: "2.1" }));
    const future = capture();
    assert.equal(await runReplay(dir, {}, future.io), 1);
    assert.match(future.out.stderr, /protocol version 2\.1 is newer than this reader/);
  });

  it("reports a torn tail on stderr and prints the whole lines", async () => {
    const dir = write("torn", base);
    fs.appendFileSync(runPaths(dir).events, '{"v":"1.0","type":"st');
    const { out, io } = capture();
    assert.equal(await runReplay(dir, {}, io), 0);
    assert.equal(out.stdout.trim().split("\n").length, base.length);
    assert.match(out.stderr, /middle of a line/);
  });
});

describe("gradcraft summary", () => {
  it("prints one row per task and the means, per split, from the done message", async () => {
    const dir = write("done", [...base, TRAINER_EXAMPLES.done]);
    const { out, io } = capture();
    assert.equal(await runSummary(dir, {}, io), 0);
    const lines = out.stdout.trimEnd().split("\n");
    assert.match(lines[0], /^run \S+-done \(completed, 2930 steps, gradcraft, 20m04s, best at step 2600\)$/);
    assert.match(lines[1], /^task\s+validation AUC\s+GAUC\s+logloss\s+test AUC\s+GAUC\s+logloss$/);
    assert.match(lines[2], /^click\s+0\.7410\s+0\.6620\s+0\.4700\s+0\.7360\s+0\.6580\s+0\.4730$/);
    assert.match(lines[3], /^like\s+0\.7020/);
    assert.match(lines[5], /^mean\s+0\.7215\s+0\.6365\s+0\.2835\s+0\.7155\s+0\.6300\s+0\.2860$/);
  });

  it("prefers summary.json, and prints it as JSON on request", async () => {
    const dir = write("json", base);
    const summary: RunSummary = {
      steps: 9,
      wallMs: 1000,
      splits: {
        test: {
          tasks: [{ task: "click", auc: 0.5, gauc: null, logloss: 0.7 }],
          mean: { auc: 0.5, gauc: null, logloss: 0.7 },
        },
      },
    };
    fs.writeFileSync(runPaths(dir).summary, JSON.stringify(summary));
    const { out, io } = capture();
    assert.equal(await runSummary(dir, { json: true }, io), 0);
    assert.deepEqual(JSON.parse(out.stdout), summary);
    const table = capture();
    await runSummary(dir, {}, table.io);
    assert.match(table.out.stdout, /click\s+0\.5000\s+-\s+0\.7000/);
  });

  it("an unfinished run shows its last evaluation per split and says so", async () => {
    const later: EvalMessage = {
      ...(TRAINER_EXAMPLES.eval as EvalMessage),
      step: 400,
      mean: { auc: 0.9, gauc: 0.8, logloss: 0.1 },
    };
    const dir = write("partial", [...base, later]);
    const { out, io } = capture();
    assert.equal(await runSummary(dir, {}, io), 0);
    assert.match(out.stdout, /from the last evaluations: the run has no summary/);
    assert.match(out.stdout, /mean\s+0\.9000\s+0\.8000\s+0\.1000/);
  });

  it("a run with nothing to summarise exits 1 saying so", async () => {
    const dir = write("nothing", [TRAINER_EXAMPLES.hello]);
    const { out, io } = capture();
    assert.equal(await runSummary(dir, {}, io), 1);
    assert.match(out.stderr, /no summary and no evaluation yet/);
  });
});
