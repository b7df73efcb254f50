import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { encodeLine, type StreamProblem } from "../../../src/protocol/codec";
import { AttachClient } from "../../../src/protocol/link/attachClient";
import { HostLink } from "../../../src/protocol/link/hostLink";
import type { AckMessage, StepMessage, TrainerMessage } from "../../../src/protocol/messages";
import { readEventLog } from "../../../src/protocol/runlog";
import { TINY_SYNTHETIC_MMOE } from "../helpers/configs";

/**
 * A scripted host: a real `gradcraft train --protocol stdio --listen` process on a tiny
 * config, steered over its stdio through HostLink while a read-only client watches the socket.
 */

const repo = join(import.meta.dirname, "../../..");
const work = fs.mkdtempSync(join(tmpdir(), "gc-scripted-host-"));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const TINY = {
  name: "scripted",
  ...TINY_SYNTHETIC_MMOE,
  training: { batchSize: 64, epochs: 1000, evalEvery: 1000 },
  strategy: { name: "gradcraft", params: { tau: 0.5 } },
};

function trainer(args: string[]): HostLink {
  return HostLink.spawn(
    process.execPath,
    ["--import", "tsx", "src/cli/main.ts", "train", ...args, "--protocol", "stdio"],
    {
      cwd: repo,
    },
  );
}

function record(host: HostLink) {
  const messages: TrainerMessage[] = [];
  host.onMessage((m) => messages.push(m));
  const lastStep = () => {
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i];
      if (m.type === "step") return m.step;
    }
    return 0;
  };
  const untilStep = async (n: number) => {
    const deadline = Date.now() + 60_000;
    while (lastStep() < n) {
      if (Date.now() > deadline) throw new Error(`no step ${n} within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  };
  return { messages, lastStep, untilStep };
}

const steps = (messages: TrainerMessage[]) => messages.filter((m): m is StepMessage => m.type === "step");

describe("a scripted host drives a real trainer process", () => {
  it("switches strategy twice, changes the learning rate, pauses, resumes, checkpoints, stops, then resumes the run", async () => {
    const config = join(work, "scripted.gradcraft.json");
    fs.writeFileSync(config, JSON.stringify(TINY));
    const host = trainer([config, "--out", join(work, "runs"), "--listen"]);
    const stderr: string[] = [];
    host.onStderr((line) => stderr.push(line));
    const { messages, lastStep, untilStep } = record(host);
    let resumed: HostLink | null = null;
    try {
      await untilStep(2);
      const runDir = host.hello?.runDir ?? "";
      assert.ok(fs.existsSync(runDir), "hello names the run folder");

      // A read-only watcher on the socket: the stdin pipe holds the writer role.
      const watcher = await AttachClient.connect(runDir, { write: true, replay: "none" });
      assert.equal(watcher.writer, false);
      const watched: TrainerMessage[] = [];
      watcher.onMessage((m) => watched.push(m));
      const refused = await watcher.send({ type: "pause" });
      assert.equal(refused.ok, false);

      const toPcgrad = await host.send({ type: "set-strategy", name: "pcgrad", params: {} });
      assert.equal(toPcgrad.ok, true);
      const unknown = await host.send({ type: "set-strategy", name: "no-such-method", params: {} });
      assert.equal(unknown.ok, false);
      assert.match(unknown.error ?? "", /no-such-method/);
      const lr = await host.send({ type: "set-hyperparameters", learningRate: 0.002 });
      assert.equal(lr.ok, true);

      const pause = await host.send({ type: "pause" });
      const atPause = lastStep();
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(lastStep(), atPause, "no step while paused");
      const resume = await host.send({ type: "resume" });
      assert.equal(resume.step, pause.step);
      await untilStep(atPause + 2);

      const checkpoint = await host.send({ type: "checkpoint" });
      assert.equal(checkpoint.ok, true);
      const toEw = await host.send({ type: "set-strategy", name: "ew", params: {} });
      await untilStep(toEw.step + 2);
      const stop = await host.send({ type: "stop" });
      const exit = await host.exited;
      assert.equal(exit.code, 0, exit.stderrTail.join("\n"));

      // Each change took effect at the step its ack names: the steps after it use it.
      const byStep = new Map(steps(messages).map((s) => [s.step, s]));
      const at = (ack: AckMessage, offset: number) => byStep.get(ack.step + offset);
      assert.equal(at(toPcgrad, 0)?.strategy, "gradcraft");
      assert.equal(at(toPcgrad, 1)?.strategy, "pcgrad");
      assert.notEqual(at(lr, 0)?.learningRate, 0.002);
      assert.equal(at(lr, 1)?.learningRate, 0.002);
      assert.equal(at(toEw, 1)?.strategy, "ew");
      assert.ok(messages.some((m) => m.type === "paused" && m.step === pause.step));
      assert.ok(messages.some((m) => m.type === "resumed" && m.step === pause.step));
      assert.ok(messages.some((m) => m.type === "checkpoint" && m.step === checkpoint.step));
      const done = messages.at(-1);
      assert.equal(done?.type === "done" && done.reason, "stopped");
      assert.equal(done?.type === "done" && done.summary.steps, stop.step);

      // The event log holds the same stream, every step, and the switches with their parameters.
      const { messages: logged } = await readEventLog(runDir);
      const loggedSteps = steps(logged).map((s) => s.step);
      assert.deepEqual(
        loggedSteps,
        Array.from({ length: loggedSteps.length }, (_, i) => i + 1),
      );
      const nonSteps = (list: TrainerMessage[]) => list.filter((m) => m.type !== "step");
      assert.deepEqual(nonSteps(logged), nonSteps(messages));
      const switches = logged.filter((m) => m.type === "strategy-changed");
      assert.deepEqual(
        switches.map((m) =>
          m.type === "strategy-changed" ? [m.name, m.reason, m.step, m.previous?.name ?? null] : [],
        ),
        [
          ["gradcraft", "initial", 0, null],
          ["pcgrad", "command", toPcgrad.step, "gradcraft"],
          ["ew", "command", toEw.step, "pcgrad"],
        ],
      );
      const initial = switches[0];
      assert.equal(initial.type === "strategy-changed" && initial.params.tau, 0.5);

      // The watcher saw the live stream from its attach on, the pcgrad ack included.
      assert.ok(watched.some((m) => m.type === "ack" && m.id === toPcgrad.id));
      assert.ok(watched.some((m) => m.type === "done"));

      // Resuming continues from the last checkpoint with the strategy in force at the stop.
      resumed = trainer(["--resume", runDir]);
      const second = record(resumed);
      await second.untilStep(stop.step + 1);
      const again = await resumed.send({ type: "stop" });
      assert.equal(again.ok, true);
      assert.equal((await resumed.exited).code, 0);
      const restart = second.messages.find((m) => m.type === "strategy-changed");
      assert.deepEqual(restart?.type === "strategy-changed" && [restart.name, restart.reason, restart.step], [
        "ew",
        "resume",
        stop.step,
      ]);
      assert.equal(steps(second.messages)[0]?.step, stop.step + 1);
    } finally {
      host.child.kill("SIGKILL");
      resumed?.child.kill("SIGKILL");
    }
  });
});

describe("a host reads a newer minor trainer (the real trainer behind a 1.9 proxy)", () => {
  it("drops and notes the new fields once, skips the new message type with one warning, and still steers the run", async () => {
    const config = join(work, "newer.gradcraft.json");
    fs.writeFileSync(config, JSON.stringify({ ...TINY, name: "newer" }));
    const proxy = join(import.meta.dirname, "fixtures", "newer-minor-proxy.ts");
    const host = HostLink.spawn(
      process.execPath,
      ["--import", "tsx", proxy, config, "--out", join(work, "runs"), "--protocol", "stdio"],
      { cwd: repo },
    );
    const problems: StreamProblem[] = [];
    host.onProblem((p) => problems.push(p));
    const stderr: string[] = [];
    host.onStderr((line) => stderr.push(line));
    const { messages, untilStep } = record(host);
    try {
      await untilStep(3);
      // Commands a newer host might send: a known one with a field this trainer does not know,
      // and a type it does not know (answered with a refused ack, not left to time out).
      const pause = await host.send({ type: "pause", reason: "from a 1.9 host" } as never);
      assert.equal(pause.ok, true);
      host.child.stdin?.write(encodeLine({ v: "1.9", type: "rewind", id: "rewind-1", steps: 2 }));
      const deadline = Date.now() + 30_000;
      let refused: AckMessage | undefined;
      while (!refused && Date.now() < deadline) {
        refused = messages.find((m): m is AckMessage => m.type === "ack" && m.id === "rewind-1");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.equal(refused?.ok, false);
      assert.match(refused?.error ?? "", /unknown command type "rewind"/);
      const resume = await host.send({ type: "resume" });
      assert.equal(resume.ok, true);
      await untilStep(pause.step + 2);
      await host.send({ type: "stop" });
      const exit = await host.exited;
      assert.equal(exit.code, 0, exit.stderrTail.join("\n"));

      // Every message arrived without the additions; the config was read despite its new field.
      const configMessage = messages.find((m) => m.type === "config");
      assert.ok(configMessage && configMessage.type === "config");
      assert.equal("warmupSteps" in configMessage.config.training, false);
      assert.equal(configMessage.config.name, "newer");
      assert.ok(messages.every((m) => !("futureField" in m)));
      assert.equal(messages.at(-1)?.type, "done");
      assert.ok(steps(messages).length >= 5);

      // Each note once: many steps carried futureField, many telemetry lines came.
      const notes = problems.map((p) => `${p.kind} ${p.reason}`);
      const count = (pattern: RegExp) => notes.filter((n) => pattern.test(n)).length;
      assert.equal(count(/^newer-minor .*1\.9/), 1, notes.join("\n"));
      assert.equal(count(/^unknown-type .*"telemetry"/), 1, notes.join("\n"));
      assert.equal(count(/^unknown-field "step" field futureField/), 1, notes.join("\n"));
      assert.equal(count(/^unknown-field "config" field config\.training\.warmupSteps/), 1, notes.join("\n"));
      assert.equal(count(/^(version|invalid|malformed)/), 0, notes.join("\n"));
      assert.equal(host.refusal, null);

      // The trainer noted the newer host's additions in its own log (stderr), once each.
      const trainerNotes = stderr.filter((l) => l.startsWith("link (stdin"));
      assert.equal(
        trainerNotes.filter((l) => /"pause" field reason is not known/.test(l)).length,
        1,
        stderr.join("\n"),
      );
      assert.equal(
        trainerNotes.filter((l) => /unknown command type "rewind"/.test(l)).length,
        1,
        stderr.join("\n"),
      );
    } finally {
      // SIGTERM: the proxy passes it on, so the real trainer is never left behind.
      if (host.child.exitCode === null) host.child.kill("SIGTERM");
    }
  });
});
