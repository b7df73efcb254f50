import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { AttachClient } from "../../src/protocol/link/attachClient";
import { TINY_SYNTHETIC_MMOE } from "../unit/helpers/configs";
import { finished, gradcraft, repo, tempDir } from "./cli";
import { eventLog, keptSteps, LiveTrainer, readJson } from "./trainer";

/**
 * Faults injected into real trainer processes (docs/architecture.md, "Reliability"): each one
 * leaves a resumable run that loses at most the checkpoint interval, whose resumed losses are
 * an uninterrupted run's, whose log never goes backwards, and whose summary agrees with it.
 */

const STEPS = 40;
const CHECKPOINT_EVERY = 4;
const work = tempDir("faults");
const runs = join(work, "runs");
const config = join(work, "faults.gradcraft.json");
/** Step → losses of the uninterrupted run. */
let reference = new Map<number, string[]>();
let referenceRun = "";

const fixed = (losses: number[]) => losses.map((l) => l.toFixed(6));

async function train(args: string[]) {
  const result = await finished(gradcraft(["train", ...args]));
  return { ...result, stdout: result.stdout.toString("utf8") };
}

/** The run, resumed to its end: exit 0, its kept steps 1..STEPS with the uninterrupted losses. */
async function resumesIntoTheUninterruptedRun(runDir: string): Promise<void> {
  const resumed = await train(["--resume", runDir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const kept = keptSteps(eventLog(runDir));
  assert.deepEqual(
    kept.map((s) => s.step),
    Array.from({ length: STEPS }, (_, i) => i + 1),
    "the kept steps never go backwards and none is missing",
  );
  for (const { step, losses } of kept) assert.deepEqual(fixed(losses), reference.get(step), `step ${step}`);
  // The product's reader (replay, and with it summary, export and the panel) keeps the same steps.
  const replayed = await finished(gradcraft(["replay", runDir]));
  assert.equal(replayed.code, 0, replayed.stderr);
  const replayedSteps = replayed.stdout
    .toString("utf8")
    .split("\n")
    .filter((line) => line.includes('"type":"step"'))
    .map((line) => JSON.parse(line).step);
  assert.deepEqual(
    replayedSteps,
    kept.map((s) => s.step),
    "gradcraft replay never goes backwards",
  );
  const summary = readJson(join(runDir, "summary.json"));
  assert.equal(summary.steps, STEPS);
  assert.equal(summary.reason, "completed");
}

/** Polls (every 20 ms, up to 30 s) until `found` gives a value. */
async function until<T>(what: string, found: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = found();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A copy of a run folder, to damage without touching the original. */
function copyRun(runDir: string, name: string): string {
  const copy = join(work, "copies", name);
  fs.cpSync(runDir, copy, { recursive: true });
  return copy;
}

before(async () => {
  fs.writeFileSync(
    config,
    JSON.stringify({
      name: "faults",
      ...TINY_SYNTHETIC_MMOE,
      training: { batchSize: 32, maxSteps: STEPS, evalEvery: 10, checkpointEvery: CHECKPOINT_EVERY },
      strategy: { name: "gradcraft", params: {} },
    }),
  );
  const whole = await train([config, "--out", join(work, "reference")]);
  assert.equal(whole.code, 0, whole.stderr);
  const [name] = fs.readdirSync(join(work, "reference"));
  referenceRun = join(work, "reference", name);
  reference = new Map(
    eventLog(referenceRun).flatMap((m) => (m.type === "step" ? [[m.step, fixed(m.losses)] as const] : [])),
  );
  assert.equal(reference.size, STEPS);
});

describe("faults injected into a real trainer process", () => {
  it("kill -9 at two random steps: each resume loses at most the checkpoint interval", async () => {
    // Seeded, so that a failure can be reproduced: steps in [3, STEPS - 8].
    let seed = 12345;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const at = [3 + Math.floor(random() * 12), 17 + Math.floor(random() * 14)];
    let runDir = "";
    for (const [i, step] of at.entries()) {
      const trainer = new LiveTrainer(i === 0 ? [config, "--out", runs] : ["--resume", runDir]);
      await trainer.untilStep(step);
      runDir = trainer.runDir;
      trainer.signal("SIGKILL");
      const killed = await trainer.exited;
      assert.equal(killed.signal, "SIGKILL");
      const logged = Math.max(...eventLog(runDir).flatMap((m) => (m.type === "step" ? [m.step] : [])));
      const state = readJson(join(runDir, "checkpoints", "last", "state.json"));
      const saved = (state.position as { step: number }).step;
      assert.ok(logged - saved <= CHECKPOINT_EVERY, `killed at step ${logged}, last checkpoint at ${saved}`);
    }
    await resumesIntoTheUninterruptedRun(runDir);
  });

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)
    it(`${signal}: the step under way ends, then checkpoints/last, summary.json and done; exit ${code}; no step lost`, async () => {
      const trainer = new LiveTrainer([config, "--out", runs]);
      await trainer.untilStep(6);
      trainer.signal(signal);
      const { code: exitCode, stderr } = await trainer.exited;
      assert.equal(exitCode, code, stderr);
      const done = trainer.messages.at(-1);
      assert.equal(done?.type, "done", "done is the last message on stdout");
      assert.equal(done.type === "done" && done.reason, "interrupted");
      const runDir = trainer.runDir;
      const summary = readJson(join(runDir, "summary.json"));
      assert.equal(summary.reason, "interrupted");
      assert.equal(summary.interruptedBy, signal);
      assert.equal(summary.steps, trainer.lastStep());
      const state = readJson(join(runDir, "checkpoints", "last", "state.json"));
      assert.equal((state.position as { step: number }).step, trainer.lastStep(), "not one step lost");
      assert.equal(eventLog(runDir).at(-1)?.type, "done", "done is the last record of the log");
      await resumesIntoTheUninterruptedRun(runDir);
    });

  it("the host goes away while the run trains: it stops with checkpoint, summary and done (host-lost), exit 129", async () => {
    const trainer = new LiveTrainer([config, "--out", runs]);
    await trainer.untilStep(5);
    trainer.closeStdin();
    const { code, stderr } = await trainer.exited;
    assert.equal(code, 129, stderr);
    const summary = readJson(join(trainer.runDir, "summary.json"));
    assert.deepEqual([summary.reason, summary.interruptedBy], ["interrupted", "host-lost"]);
    const state = readJson(join(trainer.runDir, "checkpoints", "last", "state.json"));
    assert.equal((state.position as { step: number }).step, trainer.lastStep());
    await resumesIntoTheUninterruptedRun(trainer.runDir);
  });

  it("the host goes away while the run is paused: the pause ends in the same resumable stop", async () => {
    const trainer = new LiveTrainer([config, "--out", runs]);
    await trainer.untilStep(3);
    trainer.command({ type: "pause", id: "p1" });
    const paused = await trainer.until("paused", (m) => m.type === "paused");
    trainer.closeStdin();
    const { code, stderr } = await trainer.exited;
    assert.equal(code, 129, stderr);
    const step = paused.type === "paused" ? paused.step : -1;
    assert.equal(trainer.lastStep(), step, "no step after the pause");
    const summary = readJson(join(trainer.runDir, "summary.json"));
    assert.deepEqual(
      [summary.reason, summary.interruptedBy, summary.steps],
      ["interrupted", "host-lost", step],
    );
    await resumesIntoTheUninterruptedRun(trainer.runDir);
  });

  it("an attached client killed while it holds the run paused: the trainer goes on serving, the seat is free, the run ends whole", async () => {
    // A run started in a terminal (`--listen`, no stdio host): its host is the terminal, not a client.
    const out = join(work, "attached");
    const trainer = gradcraft(["train", config, "--out", out, "--listen"]);
    const ended = finished(trainer);
    const runDir = await until("the link files", () => {
      const [name] = fs.existsSync(out) ? fs.readdirSync(out) : [];
      return name && fs.existsSync(join(out, name, "link.json")) ? join(out, name) : undefined;
    });
    const client = spawn(
      process.execPath,
      ["--import", "tsx", join(import.meta.dirname, "attacher.ts"), runDir],
      {
        cwd: repo,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    const clientExit = finished(client);
    let said = "";
    client.stdout.on("data", (chunk: Buffer) => {
      said += chunk.toString("utf8");
    });
    const pausedAt = await until(
      "the client's pause",
      () => Number(/paused (\d+)/.exec(said)?.[1]) || undefined,
    );
    client.kill("SIGKILL");
    assert.equal((await clientExit).signal, "SIGKILL");
    // Long enough for several steps, had the pause been lifted by the client's loss.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(trainer.exitCode, null, "the trainer is still running");
    const log = eventLog(runDir);
    assert.equal(log.at(-1)?.type, "paused", "still paused: nothing after the pause");
    assert.equal(Math.max(...keptSteps(log).map((s) => s.step)), pausedAt);

    // The writer's seat was freed: a new client takes it and resumes; the run ends as if never touched.
    const next = await AttachClient.connect(runDir, { write: true, replay: "none" });
    next.onMessage(() => undefined);
    assert.equal(next.writer, true, next.readOnlyReason);
    assert.equal((await next.send({ type: "resume" })).ok, true);
    const { code, stderr } = await ended;
    assert.equal(code, 0, stderr);
    const kept = keptSteps(eventLog(runDir));
    assert.deepEqual(
      kept.map((s) => s.step),
      Array.from({ length: STEPS }, (_, i) => i + 1),
    );
    for (const { step, losses } of kept) assert.deepEqual(fixed(losses), reference.get(step), `step ${step}`);
    assert.equal(readJson(join(runDir, "summary.json")).reason, "completed");
    assert.equal(fs.existsSync(join(runDir, "link.json")), false, "the link files are gone with the trainer");
  });

  describe("damaged checkpoints", () => {
    let interrupted = "";
    before(async () => {
      const trainer = new LiveTrainer([config, "--out", runs]);
      await trainer.untilStep(13);
      trainer.signal("SIGTERM");
      assert.equal((await trainer.exited).code, 143);
      interrupted = trainer.runDir;
    });

    const tensors = (run: string) => join(run, "checkpoints", "last", "tensors.bin");
    const damage: Array<[string, (run: string) => void, RegExp]> = [
      [
        "an emptied tensors.bin",
        (run) => fs.truncateSync(tensors(run), 0),
        /tensors\.bin: 0 bytes .*cut short/,
      ],
      [
        "half a tensors.bin",
        (run) => fs.truncateSync(tensors(run), Math.floor(fs.statSync(tensors(run)).size / 2)),
        /tensors\.bin: \d+ bytes .*cut short/,
      ],
      [
        "extra bytes after tensors.bin",
        (run) => fs.appendFileSync(tensors(run), Buffer.alloc(8)),
        /extra bytes/,
      ],
      [
        "a tensors.bin of NaN",
        (run) => fs.writeFileSync(tensors(run), Buffer.alloc(fs.statSync(tensors(run)).size, 0xff)),
        /do not match the checksum/,
      ],
      [
        "NaN weights with a matching checksum (a run gone bad)",
        (run) => {
          const bytes = Buffer.alloc(fs.statSync(tensors(run)).size, 0xff);
          fs.writeFileSync(tensors(run), bytes);
          const statePath = join(run, "checkpoints", "last", "state.json");
          const state = readJson(statePath) as { files: Record<string, { sha256: string }> };
          state.files["tensors.bin"].sha256 = createHash("sha256").update(bytes).digest("hex");
          fs.writeFileSync(statePath, JSON.stringify(state));
        },
        /non-finite values/,
      ],
      [
        "an emptied state.json",
        (run) => fs.truncateSync(join(run, "checkpoints", "last", "state.json"), 0),
        /state\.json:1:1: not valid JSON/,
      ],
    ];
    for (const [what, harm, problem] of damage)
      it(`${what}: --resume names the file and the problem and goes on from checkpoints/best`, async () => {
        const run = copyRun(interrupted, what.replace(/\W+/g, "-"));
        harm(run);
        const best = readJson(join(run, "checkpoints", "best", "state.json"));
        const bestStep = (best.position as { step: number }).step;
        const resumed = await train(["--resume", run, "--max-steps", String(bestStep + 2)]);
        assert.equal(resumed.code, 0, resumed.stderr);
        assert.match(resumed.stderr, /checkpoints\/last cannot be used: /);
        assert.match(resumed.stderr, problem);
        assert.match(resumed.stderr, new RegExp(`resuming from checkpoints/best at step ${bestStep}`));
        const hellos = eventLog(run).filter((m) => m.type === "hello");
        assert.equal(hellos.at(-1)?.type === "hello" && hellos.at(-1)?.resumedFrom?.step, bestStep);
        const kept = keptSteps(eventLog(run));
        assert.deepEqual(
          kept.map((s) => s.step),
          Array.from({ length: bestStep + 2 }, (_, i) => i + 1),
        );
        for (const { step, losses } of kept)
          assert.deepEqual(fixed(losses), reference.get(step), `step ${step}`);
      });

    it("both checkpoints damaged: --resume refuses, naming both files, and leaves the run as it was", async () => {
      const run = copyRun(interrupted, "both");
      fs.truncateSync(tensors(run), 0);
      fs.truncateSync(join(run, "checkpoints", "best", "tensors.bin"), 10);
      const log = fs.readFileSync(join(run, "events.ndjson"));
      const resumed = await train(["--resume", run]);
      assert.equal(resumed.code, 2);
      assert.match(resumed.stderr, /checkpoints\/last cannot be used: .*last\/tensors\.bin: 0 bytes/);
      assert.match(resumed.stderr, /checkpoints\/best cannot be used: .*best\/tensors\.bin: 10 bytes/);
      assert.ok(fs.readFileSync(join(run, "events.ndjson")).equals(log), "the event log is untouched");
      assert.equal(fs.statSync(tensors(run)).size, 0, "the damaged files are left for inspection");
    });
  });

  it("a completed run refuses --resume; given a larger budget it goes on, marked where it resumed", async () => {
    const run = copyRun(referenceRun, "completed");
    const log = fs.readFileSync(join(run, "events.ndjson"));
    const again = await train(["--resume", run]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, new RegExp(`already finished its ${STEPS} steps .* give it a larger budget`));
    assert.ok(fs.readFileSync(join(run, "events.ndjson")).equals(log), "nothing trained, nothing appended");
    const longer = await train(["--resume", run, "--max-steps", String(STEPS + 3)]);
    assert.equal(longer.code, 0, longer.stderr);
    const events = eventLog(run);
    const hellos = events.filter((m) => m.type === "hello");
    assert.equal(hellos.length, 2);
    assert.equal(hellos[1].type === "hello" && hellos[1].resumedFrom?.step, STEPS);
    assert.deepEqual(
      keptSteps(events).map((s) => s.step),
      Array.from({ length: STEPS + 3 }, (_, i) => i + 1),
    );
    // One done per session; the second is the run's.
    assert.equal(events.filter((m) => m.type === "done").length, 2);
    assert.equal(events.at(-1)?.type, "done");
  });

  it("hyperparameters that would make the weights non-finite are refused, in the config and on the wire", async () => {
    const bad = join(work, "bad-l2.gradcraft.json");
    fs.writeFileSync(bad, JSON.stringify({ ...readJson(config), training: { l2: 1e39 } }));
    const refused = await train([bad, "--out", runs]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /training\.l2/);
    const trainer = new LiveTrainer([config, "--out", runs]);
    await trainer.untilStep(2);
    trainer.command({ type: "set-hyperparameters", id: "h1", l2: 1e300 });
    const ack = await trainer.until("the ack", (m) => m.type === "ack" && m.id === "h1");
    assert.equal(ack.type === "ack" && ack.ok, false);
    assert.match(ack.type === "ack" ? (ack.error ?? "") : "", /l2/);
    trainer.command({ type: "stop", id: "s1" });
    const { code } = await trainer.exited;
    assert.equal(code, 0);
    assert.equal(readJson(join(trainer.runDir, "summary.json")).reason, "stopped");
  });
});
