import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AttachedConnection } from "../../../src/extension/runs/connection";
import { LiveRun } from "../../../src/extension/runs/liveRun";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { AttachClient } from "../../../src/protocol/link/attachClient";
import { TrainerLink } from "../../../src/protocol/link/trainerLink";
import type { TrainerMessage } from "../../../src/protocol/messages";

const until = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe("attaching to a listening trainer", () => {
  const runDir = mkdtempSync(join(tmpdir(), "gradcraft-attach-"));
  after(() => rmSync(runDir, { recursive: true, force: true }));

  it("replays the run so far, takes commands as the writer, and detaching leaves the trainer running", async () => {
    // The trainer's end, in this process: the protocol's own TrainerLink on a socket.
    const trainer = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      const hello = { ...(TRAINER_EXAMPLES.hello as Extract<TrainerMessage, { type: "hello" }>), runDir };
      trainer.send(hello);
      trainer.send({ ...(TRAINER_EXAMPLES.step as Extract<TrainerMessage, { type: "step" }>), step: 1 });
      const received: string[] = [];
      trainer.onCommand(({ command }) => {
        received.push(command.type);
        trainer.ack(command, { ok: true, step: 1 });
      });

      const connection = await AttachedConnection.connect(runDir);
      const run = new LiveRun({ id: "a", label: "a", connection, maxPoints: 100 });
      connection.start();
      assert.equal(run.kind, "attached");
      assert.equal(connection.canWrite, true);
      await until(() => run.step === 1, "the replayed step");
      assert.equal(run.state, "running");
      assert.equal(run.runDir, runDir);

      trainer.send({ ...(TRAINER_EXAMPLES.step as Extract<TrainerMessage, { type: "step" }>), step: 2 });
      await until(() => run.step === 2, "a live step");
      const ack = await run.send({ type: "checkpoint" });
      assert.equal(ack.ok, true);

      assert.equal(await run.close({ graceMs: 10, termMs: 10 }), "detached");
      assert.equal(run.state, "detached");
      // The trainer is not stopped: closing sent it no command, and it goes on serving the run to
      // the next client, who gets the writer role the closed one gave up and the steps since.
      assert.deepEqual(received, ["checkpoint"], "closing an attached run sent the trainer a command");
      trainer.send({ ...(TRAINER_EXAMPLES.step as Extract<TrainerMessage, { type: "step" }>), step: 3 });
      const next = await AttachClient.connect(runDir, { write: true, replay: 1 });
      const seen: TrainerMessage[] = [];
      next.onMessage((m) => seen.push(m));
      await until(
        () => seen.some((m) => m.type === "step" && m.step === 3),
        "the step sent after the detach",
      );
      assert.equal(next.writer, true, "the detached client still holds the writer role");
      await next.detach();
    } finally {
      await trainer.close();
    }
  });

  it("a link.json naming another host is refused, saying which user setting allows it", async () => {
    const planted = mkdtempSync(join(tmpdir(), "gradcraft-planted-"));
    try {
      writeFileSync(
        join(planted, "link.json"),
        JSON.stringify({ protocol: "1.0", pid: 1, transport: "tcp", host: "192.0.2.7", port: 4000 }),
      );
      writeFileSync(join(planted, "link.token"), "t");
      await assert.rejects(
        AttachedConnection.connect(planted),
        /192\.0\.2\.7:4000, which is not this machine.*add "192\.0\.2\.7" to the user setting "gradcraft\.attach\.allowedHosts"/,
      );
    } finally {
      rmSync(planted, { recursive: true, force: true });
    }
  });

  it("a folder with no listening trainer is a clear error", async () => {
    const empty = mkdtempSync(join(tmpdir(), "gradcraft-noattach-"));
    try {
      await assert.rejects(AttachedConnection.connect(empty), /no trainer is listening/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
