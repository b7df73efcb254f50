// A resumed run's event log read as it stands: the records a resume redid are left out by every
// reader, so that steps never go backwards.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runReplay, runSummary } from "../../../src/cli/replay";
import { encodeLine } from "../../../src/protocol/codec";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { RunReplay } from "../../../src/protocol/link/replay";
import { type RunSummary, type TrainerMessage, trainerMessage } from "../../../src/protocol/messages";
import { monotone, monotoneLines } from "../../../src/protocol/resumes";
import {
  createRunDir,
  EventLogWriter,
  readEventLog,
  readRunInfo,
  replay,
  runPaths,
} from "../../../src/protocol/runlog";

let root: string;
before(() => {
  root = fs.mkdtempSync(join(tmpdir(), "gradcraft-resumes-"));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const DEAD_PID = 2 ** 30;

function hello(resumedAt: number | null): TrainerMessage {
  return {
    ...TRAINER_EXAMPLES.hello,
    pid: DEAD_PID,
    ...(resumedAt === null ? {} : { resumedFrom: { runDir: "/runs/r", step: resumedAt } }),
  } as TrainerMessage;
}
function step(n: number, session: number): TrainerMessage {
  // The loss says which session wrote the step, so a test sees which copy survived.
  return { ...TRAINER_EXAMPLES.step, step: n, losses: [session, session] } as TrainerMessage;
}
function evaluation(n: number, auc: number): TrainerMessage {
  return { ...TRAINER_EXAMPLES.eval, step: n, mean: { auc, gauc: null, logloss: 0.5 } } as TrainerMessage;
}
function done(steps: number): TrainerMessage {
  const example = TRAINER_EXAMPLES.done as { summary: RunSummary };
  return trainerMessage({ type: "done", reason: "completed", summary: { ...example.summary, steps } });
}
function steps(from: number, to: number, session: number): TrainerMessage[] {
  return Array.from({ length: to - from + 1 }, (_, i) => step(from + i, session));
}

/** Killed at step 10 (checkpoint at 5), resumed from 5, completed at 12. */
const killedAt10: TrainerMessage[] = [
  hello(null),
  TRAINER_EXAMPLES.config,
  ...steps(1, 5, 1),
  evaluation(5, 0.61),
  trainerMessage({ type: "checkpoint", step: 5, path: "checkpoints/last", reason: "periodic" }),
  ...steps(6, 7, 1),
  trainerMessage({
    type: "hyper-changed",
    step: 7,
    changes: [{ name: "learningRate", from: 0.01, to: 0.1 }],
  }),
  step(8, 1),
  trainerMessage({ type: "paused", step: 8 }),
  trainerMessage({ type: "resumed", step: 8, pausedMs: 10 }),
  ...steps(9, 10, 1),
  evaluation(10, 0.62),
];
const killedAndResumed: TrainerMessage[] = [
  ...killedAt10,
  hello(5),
  TRAINER_EXAMPLES.config,
  ...steps(6, 12, 2),
  evaluation(10, 0.72),
  done(12),
];

const stepsOf = (messages: readonly TrainerMessage[]) =>
  messages.flatMap((m) => (m.type === "step" ? [[m.step, m.losses[0]]] : []));

function writeRun(name: string, messages: TrainerMessage[]): string {
  const dir = createRunDir(root, name);
  const log = new EventLogWriter(runPaths(dir).events, { syncImportant: false });
  for (const m of messages) log.append(m);
  log.close();
  return dir;
}

describe("the records a resume superseded", () => {
  it("are the earlier session's past the resume step, and its done; steps go up once each", () => {
    const kept = monotone(killedAndResumed);
    assert.deepEqual(stepsOf(kept), [
      ...[1, 2, 3, 4, 5].map((n) => [n, 1]),
      ...[6, 7, 8, 9, 10, 11, 12].map((n) => [n, 2]),
    ]);
    const evals = kept.flatMap((m) => (m.type === "eval" ? [[m.step, m.mean.auc]] : []));
    assert.deepEqual(evals, [
      [5, 0.61],
      [10, 0.72],
    ]);
    const types = new Set(kept.map((m) => m.type));
    for (const gone of ["hyper-changed", "paused", "resumed"]) assert.ok(!types.has(gone as never), gone);
    assert.equal(
      kept.filter((m) => m.type === "checkpoint").length,
      1,
      "the checkpoint at the resume step stays",
    );
    assert.equal(
      kept.filter((m) => m.type === "hello").length,
      2,
      "both hellos stay: the run's start and the resume",
    );
  });

  it("a completed run resumed with a larger budget keeps only the last done", () => {
    const kept = monotone([hello(null), ...steps(1, 4, 1), done(4), hello(4), ...steps(5, 6, 2), done(6)]);
    assert.deepEqual(
      kept.filter((m) => m.type === "done").map((m) => m.type === "done" && m.summary.steps),
      [6],
    );
    assert.deepEqual(
      stepsOf(kept).map(([n]) => n),
      [1, 2, 3, 4, 5, 6],
    );
  });

  it("a later resume from an earlier checkpoint (best) cuts every session before it", () => {
    const log = [
      hello(null),
      ...steps(1, 10, 1),
      hello(5),
      ...steps(6, 9, 2),
      hello(8),
      ...steps(9, 10, 3),
      hello(3),
      ...steps(4, 6, 4),
    ];
    assert.deepEqual(stepsOf(monotone(log)), [
      [1, 1],
      [2, 1],
      [3, 1],
      [4, 4],
      [5, 4],
      [6, 4],
    ]);
  });

  it("a log never resumed is left as it is, however its steps run", () => {
    const log = [hello(null), step(3, 1), step(2, 1), done(3)];
    assert.deepEqual(monotone(log), log);
  });

  it("as NDJSON lines the same, and lines that are not JSON stay for their reader to report", () => {
    const lines = [...killedAndResumed.map((m) => encodeLine(m).trimEnd()), "{torn"];
    const expected = [...monotone(killedAndResumed).map((m) => encodeLine(m).trimEnd()), "{torn"];
    assert.deepEqual(monotoneLines(lines), expected);
  });
});

describe("every reader of a resumed run's log", () => {
  it("replay() yields the monotone log, from a file longer than one read chunk; keepSuperseded the whole", async () => {
    // ~450 kB: the hellos are found on the first pass across chunk boundaries.
    const long = [hello(null), ...steps(1, 900, 1), hello(600), ...steps(601, 1000, 2), done(1000)];
    const dir = writeRun("long", long);
    const { messages, problems } = await readEventLog(dir);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      stepsOf(messages).map(([n]) => n),
      Array.from({ length: 1000 }, (_, i) => i + 1),
    );
    const all: TrainerMessage[] = [];
    for await (const m of replay(dir, { keepSuperseded: true })) all.push(m);
    assert.equal(all.length, long.length);
  });

  it("gradcraft replay prints the monotone log, --all the log as written", async () => {
    const dir = writeRun("cli", killedAndResumed);
    const printed = async (all: boolean) => {
      const out: string[] = [];
      const io = { stdout: (t: string) => out.push(t), stderr: (t: string) => assert.fail(t) };
      assert.equal(await runReplay(dir, { all }, io), 0);
      return out.join("");
    };
    assert.equal(await printed(false), monotone(killedAndResumed).map(encodeLine).join(""));
    assert.equal(await printed(true), fs.readFileSync(runPaths(dir).events, "utf8"));
  });

  it("the Runs view's info stands at the resume step until the resumed session steps on", async () => {
    const justResumed = writeRun("just-resumed", [...killedAt10, hello(5)]);
    assert.equal((await readRunInfo(justResumed))?.steps, 5);
    const finished = await readRunInfo(writeRun("finished", killedAndResumed));
    assert.equal(finished?.steps, 12);
    assert.equal(finished?.status, "completed");
  });

  it("summary.json written before the run was resumed is not the run's summary any more", async () => {
    // Completed at 4 (summary.json, done), resumed with a larger budget, killed at 6.
    const dir = writeRun("stale-summary", [
      hello(null),
      ...steps(1, 4, 1),
      evaluation(4, 0.6),
      done(4),
      hello(4),
      ...steps(5, 6, 2),
      evaluation(6, 0.9),
    ]);
    const old = (TRAINER_EXAMPLES.done as { summary: RunSummary }).summary;
    fs.writeFileSync(runPaths(dir).summary, JSON.stringify({ ...old, steps: 4 }));
    const info = await readRunInfo(dir);
    assert.equal(info?.status, "interrupted");
    assert.equal(info?.summary, null);
    assert.equal(info?.steps, 6);
    const printed: string[] = [];
    const io = { stdout: (t: string) => printed.push(t), stderr: () => {} };
    assert.equal(await runSummary(dir, {}, io), 0);
    const out = printed.join("");
    assert.match(out, /interrupted, 6 steps/);
    assert.match(out, /from the last evaluations: the run has no summary/);
    assert.match(out, /mean\s+0\.9000/);
  });

  it("an attaching client's replay (RunReplay) is the monotone log, and counts what it sends", () => {
    const dir = writeRun("attach", killedAndResumed);
    const { text, count } = new RunReplay(runPaths(dir).events).read("all");
    const expected = monotone(killedAndResumed).map(encodeLine);
    assert.equal(text, expected.join(""));
    assert.equal(count, expected.length);
  });
});
