import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type ExitInfo, type RunConnection, SpawnedConnection } from "../../../src/extension/runs/connection";
import { LiveRun, RunRegistry } from "../../../src/extension/runs/liveRun";
import { planTrainerSpawn } from "../../../src/extension/runs/spawn";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import type { AckMessage, TrainerMessage } from "../../../src/protocol/messages";
import { runShortId, updateRunIdentity } from "../../../src/protocol/runIdentity";
import { readEventLog } from "../../../src/protocol/runlog";

const fakeTrainer = join(__dirname, "fixtures/fake-trainer.mjs");

/** A connection the test drives by hand. */
class FakeConnection implements RunConnection {
  canWrite = true;
  sent: unknown[] = [];
  onMessage: (message: TrainerMessage) => void = () => undefined;
  onProblem = () => undefined;
  onStderr = () => undefined;
  onExit: (info: ExitInfo) => void = () => undefined;
  readonly refusal = null;
  constructor(readonly kind: "spawned" | "attached" = "spawned") {}
  async send(command: unknown): Promise<AckMessage> {
    this.sent.push(command);
    return { v: "1.0", type: "ack", id: "x", ok: true, step: 1 };
  }
  async close() {
    if (this.kind === "attached") {
      this.onExit({ code: null, signal: null, stderrTail: [] });
      return "detached" as const;
    }
    return "graceful" as const;
  }
}

const step = (n: number, wallMs: number, strategy = "gradcraft"): TrainerMessage => ({
  ...(TRAINER_EXAMPLES.step as Extract<TrainerMessage, { type: "step" }>),
  step: n,
  wallMs,
  strategy,
});

describe("a live run's state", () => {
  it("hello makes it running, steps give step, strategy and steps/s from the trainer's clock", () => {
    const connection = new FakeConnection();
    const run = new LiveRun({ id: "r1", label: "r1", connection, maxPoints: 100 });
    assert.equal(run.state, "starting");
    connection.onMessage(TRAINER_EXAMPLES.hello);
    assert.equal(run.state, "running");
    assert.equal(run.runDir, (TRAINER_EXAMPLES.hello as { runDir: string }).runDir);
    for (let i = 1; i <= 11; i++) connection.onMessage(step(i, i * 250));
    assert.equal(run.step, 11);
    assert.equal(run.strategy, "gradcraft");
    assert.ok(Math.abs(run.stepsPerSecond - 4) < 1e-9, `4 steps/s expected, got ${run.stepsPerSecond}`);
    assert.equal(run.model.step, 11, "the panel model is fed the same messages");
  });

  it("is called by its config's name until its folder is known, then by its identity", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "gradcraft-liverun-"));
    const connection = new FakeConnection();
    const run = new LiveRun({ id: "named", label: "quick", connection, maxPoints: 100 });
    assert.equal(run.label, "quick");
    connection.onMessage({ ...TRAINER_EXAMPLES.hello, runDir } as TrainerMessage);
    connection.onMessage(TRAINER_EXAMPLES.config);
    assert.equal(run.label, `gradcraft-${runShortId(runDir)}`, "named at once from the config message");
    assert.equal(run.model.label, run.label, "the panels' model carries the name");
    assert.equal(run.configName, "quick");
    // A rename elsewhere (the Runs view): the run re-reads its folder and says it changed.
    await updateRunIdentity(runDir, { name: "first try", tags: ["a"] });
    let changes = 0;
    run.onDidChange(() => changes++);
    await run.reloadIdentity();
    assert.equal(run.label, "first try");
    assert.deepEqual(run.identity?.tags, ["a"]);
    assert.equal(changes, 1);
    await run.reloadIdentity();
    assert.equal(changes, 1, "no change, no event");
    rmSync(runDir, { recursive: true, force: true });
  });

  it("a resumed run knows its folder at once and keeps the history it is given", () => {
    const history = new LiveRun({ id: "old", label: "old", connection: new FakeConnection(), maxPoints: 100 })
      .model;
    history.ingest(TRAINER_EXAMPLES.hello);
    for (let i = 1; i <= 5; i++) history.ingest(step(i, i * 100));
    history.state = "stopped";
    const connection = new FakeConnection();
    const run = new LiveRun({
      id: "resumed",
      label: "quick",
      connection,
      maxPoints: 100,
      resumed: { runDir: "/runs/20261203-101500-quick", model: history },
    });
    assert.equal(run.runDir, "/runs/20261203-101500-quick", "known before hello: its tab can be found");
    assert.equal(run.model.state, "starting");
    connection.onMessage(TRAINER_EXAMPLES.hello);
    connection.onMessage(step(6, 700));
    assert.equal(run.model.state, "running");
    assert.equal(run.model.series.get("lr")?.points()[0]?.x, 1, "the steps before the resume are kept");
    assert.equal(run.model.step, 6);
  });

  it("paused and resumed follow the trainer, and only a writable live run takes commands", async () => {
    const connection = new FakeConnection();
    const run = new LiveRun({ id: "r2", label: "r2", connection, maxPoints: 100 });
    connection.onMessage(TRAINER_EXAMPLES.hello);
    connection.onMessage({ v: "1.0", type: "paused", step: 3 });
    assert.equal(run.state, "paused");
    connection.onMessage({ v: "1.0", type: "resumed", step: 3, pausedMs: 10 });
    assert.equal(run.state, "running");
    connection.canWrite = false;
    await assert.rejects(run.send({ type: "pause" }), /read-only/);
  });

  it("an exit after done is finished; an exit with an error code and no done is failed", () => {
    const ok = new FakeConnection();
    const finished = new LiveRun({ id: "a", label: "a", connection: ok, maxPoints: 100 });
    ok.onMessage(TRAINER_EXAMPLES.hello);
    ok.onMessage(TRAINER_EXAMPLES.done);
    ok.onExit({ code: 0, signal: null, stderrTail: [] });
    assert.equal(finished.state, "finished");
    assert.equal(finished.isLive, false);

    const bad = new FakeConnection();
    const failed = new LiveRun({ id: "b", label: "b", connection: bad, maxPoints: 100 });
    bad.onMessage(TRAINER_EXAMPLES.hello);
    bad.onExit({ code: 1, signal: null, stderrTail: ["out of memory"] });
    assert.equal(failed.state, "failed");
  });

  it("closing an attached run detaches it, it is not reported as failed", async () => {
    const connection = new FakeConnection("attached");
    const run = new LiveRun({ id: "c", label: "c", connection, maxPoints: 100 });
    connection.onMessage(TRAINER_EXAMPLES.hello);
    assert.equal(await run.close({ graceMs: 10, termMs: 10 }), "detached");
    assert.equal(run.state, "detached");
  });

  it("the registry finds live runs by config file and run folder, and forgets ended ones", () => {
    const registry = new RunRegistry();
    const connection = new FakeConnection();
    const run = new LiveRun({
      id: "d",
      label: "d",
      connection,
      configPath: "/ws/a.gradcraft.json",
      maxPoints: 100,
    });
    const changes: unknown[] = [];
    registry.onDidChange((r) => changes.push(r));
    registry.add(run);
    connection.onMessage(TRAINER_EXAMPLES.hello);
    assert.equal(registry.forConfig("/ws/a.gradcraft.json"), run);
    assert.equal(registry.forRunDir(`${run.runDir}/`), run);
    connection.onExit({ code: 0, signal: null, stderrTail: [] });
    assert.equal(registry.forConfig("/ws/a.gradcraft.json"), undefined);
    assert.deepEqual(registry.live(), []);
    assert.ok(changes.length >= 3, "add, running and ended each notify observers");
  });
});

describe("a spawned trainer over stdio (protocol stand-in process)", () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "gradcraft-live-"));
    writeFileSync(join(dir, "t.gradcraft.json"), JSON.stringify({ name: "t", strategy: { name: "ew" } }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (env: Record<string, string> = {}) => {
    const plan = planTrainerSpawn(
      { configPath: join(dir, "t.gradcraft.json"), runsFolder: join(dir, "runs") },
      {
        nodePath: "",
        command: [process.execPath, fakeTrainer],
        backend: "config",
        listen: false,
        extraArgs: [],
        python: "",
      },
      { execPath: process.execPath, cliPath: "", cwd: dir, env: { ...process.env, ...env } },
    );
    const connection = new SpawnedConnection(plan);
    const run = new LiveRun({ id: "s", label: "s", connection, maxPoints: 100 });
    const problems: string[] = [];
    connection.onProblem = (reason) => problems.push(reason);
    return { run, connection, problems };
  };
  const until = async (condition: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };

  it("commands are acknowledged with their step, recorded in the event log, and stop is graceful", async () => {
    const { run, problems } = start({ FAKE_STEP_MS: "10" });
    await until(() => run.step >= 3, "three steps");
    const ack = await run.send({ type: "set-strategy", name: "gradcraft", params: { tau: 0.3 } });
    assert.equal(ack.ok, true);
    assert.ok(ack.step >= 3);
    await until(() => run.strategy === "gradcraft" && run.step > ack.step, "a step with the new strategy");
    const refused = await run.send({ type: "set-strategy", name: "nope", params: {} });
    assert.equal(refused.ok, false);
    assert.match(refused.error ?? "", /unknown strategy/);
    assert.equal(await run.close({ graceMs: 5000, termMs: 1000 }), "graceful");
    assert.equal(run.state, "finished");
    assert.deepEqual(problems, [], "every line the trainer wrote is a valid protocol message");
    const { messages } = await readEventLog(run.runDir!);
    const switched = messages.find((m) => m.type === "strategy-changed" && m.reason === "command");
    assert.equal(switched?.type === "strategy-changed" && switched.step, ack.step);
  });

  it("a command the protocol rejects never leaves the host", async () => {
    const { run } = start({ FAKE_STEP_MS: "10" });
    await until(() => run.step >= 1, "a step");
    await assert.rejects(run.send({ type: "set-hyperparameters", learningRate: 5 }), /learningRate/);
    assert.equal(run.model.hyperparameters.learningRate, 1e-3, "nothing changed on the trainer's side");
    assert.equal(await run.close({ graceMs: 5000, termMs: 1000 }), "graceful");
  });

  it("a trainer that dies reports failure with its last stderr lines", async () => {
    const { run } = start({ FAKE_STEP_MS: "5", FAKE_FAIL_AT: "4" });
    const exit = await new Promise<ExitInfo>((resolve) => run.onDidExit(resolve));
    assert.equal(run.state, "failed");
    assert.equal(exit.code, 3);
    assert.match(exit.stderrTail.join("\n"), /simulated crash at step 4/);
    await assert.rejects(run.send({ type: "pause" }), /not live/);
  });

  it("a command that is never acknowledged times out instead of hanging", async () => {
    const { run } = start({ FAKE_STEP_MS: "10", FAKE_IGNORE_STOP: "1" });
    await until(() => run.step >= 1, "a step");
    await assert.rejects(run.send({ type: "stop" }, 200), /did not acknowledge/);
    assert.equal(await run.close({ graceMs: 100, termMs: 2000 }), "sigterm");
  });

  it("the dashboard's Stop of a trainer that ignores the stop command ends it with SIGTERM", async () => {
    const { run } = start({ FAKE_STEP_MS: "10", FAKE_IGNORE_STOP: "1" });
    await until(() => run.step >= 1, "a step");
    const stopping = run.beginStop({ graceMs: 200, termMs: 5000 });
    assert.ok(stopping, "a spawned run can be stopped this way");
    assert.equal(run.state, "stopping");
    await assert.rejects(stopping.ack, /killed by SIGTERM before acknowledging/);
    assert.equal(await stopping.ended, "sigterm");
    assert.equal(run.isLive, false);
    assert.equal(run.exit?.signal ?? `code ${run.exit?.code}`, "SIGTERM");
  });

  it("a trainer command that does not exist is a failed run with the reason", async () => {
    const plan = planTrainerSpawn(
      { runsFolder: join(dir, "runs") },
      {
        nodePath: "",
        command: [join(dir, "no-such-trainer")],
        backend: "config",
        listen: false,
        extraArgs: [],
        python: "",
      },
      { execPath: process.execPath, cliPath: "", cwd: dir, env: process.env },
    );
    const run = new LiveRun({ id: "x", label: "x", connection: new SpawnedConnection(plan), maxPoints: 100 });
    const exit = await new Promise<ExitInfo>((resolve) => run.onDidExit(resolve));
    assert.equal(run.state, "failed");
    assert.match(exit.spawnError ?? "", /ENOENT/);
    assert.ok(readFileSync(fakeTrainer, "utf8").length > 0);
  });
});
