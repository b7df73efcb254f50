import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { AttachedConnection } from "../../../src/extension/runs/connection";
import { LiveRun } from "../../../src/extension/runs/liveRun";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
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
      trainer.onCommand(({ command }) => trainer.ack(command, { ok: true, step: 1 }));

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
      // The trainer is not stopped: it goes on sending.
      trainer.send({ ...(TRAINER_EXAMPLES.step as Extract<TrainerMessage, { type: "step" }>), step: 3 });
    } finally {
      await trainer.close();
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
