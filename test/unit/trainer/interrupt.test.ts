import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, mock, test } from "node:test";
import { INTERRUPTED_EXIT_CODES, watchInterruptions } from "../../../src/cli/train";
import {
  type HostCommand,
  PROTOCOL_VERSION,
  RunSummary,
  type TrainerMessage,
} from "../../../src/protocol/messages";
import type { Interruption } from "../../../src/trainer/control";
import { train } from "../../../src/trainer/train";
import { CPU_CHOICE, FakeChannel, tinyDataset, tinyTrainingConfig, useCpu } from "./helpers";

/**
 * A signal or a lost host (docs/protocol.md, "Signals and a lost host") stops a run at the next
 * step boundary with checkpoints/last, summary.json and done "interrupted", also while paused,
 * and the resumed run is the uninterrupted one.
 */

const v = PROTOCOL_VERSION;
const SIGTERM: Interruption = { by: "SIGTERM", message: "SIGTERM: stopping after this step" };

function tempRun(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-interrupt-"));
  fs.mkdirSync(join(dir, "checkpoints"));
  return dir;
}

/** Aborts `controller` when the trainer sends the message `when` matches. */
class InterruptingChannel extends FakeChannel {
  constructor(
    private readonly controller: AbortController,
    private readonly when: (message: TrainerMessage) => boolean,
    script?: Map<number, HostCommand[]>,
  ) {
    super(script);
  }
  override send(message: TrainerMessage): void {
    super.send(message);
    if (this.when(message)) this.controller.abort(SIGTERM);
  }
  /** A host that never sends another command: only the interruption ends a pause. */
  override nextCommand(): Promise<HostCommand | null> {
    return new Promise(() => undefined);
  }
}

/** Trains `config` on its tiny dataset into `runDir` on the CPU backend. */
function trainInto(
  config: ReturnType<typeof tinyTrainingConfig>,
  runDir: string,
  channel: FakeChannel,
  more: { interrupt?: AbortSignal; resume?: boolean; dataset?: ReturnType<typeof tinyDataset> } = {},
) {
  const { dataset = tinyDataset(config), ...rest } = more;
  return train({ config, baseDir: ".", runDir, channel, backend: CPU_CHOICE, dataset, ...rest });
}

const losses = (c: FakeChannel) => c.of("step").map((s) => [s.step, ...s.losses.map((l) => l.toFixed(6))]);

describe("interruptions", () => {
  before(useCpu);

  test("a run interrupted after step 5 writes checkpoints/last at step 5, summary.json and done, and resumes into the uninterrupted run", async () => {
    const config = tinyTrainingConfig({
      training: { maxSteps: 12, evalEvery: 4 },
      strategy: { name: "dwa", params: {} },
    });
    const dataset = tinyDataset(config);
    const whole = new FakeChannel();
    await trainInto(config, tempRun(), whole, { dataset });

    const runDir = tempRun();
    const controller = new AbortController();
    const first = new InterruptingChannel(controller, (m) => m.type === "step" && m.step === 5);
    const result = await trainInto(config, runDir, first, { interrupt: controller.signal, dataset });
    assert.equal(result.reason, "interrupted");
    assert.equal(first.of("step").at(-1)?.step, 5, "the step under way finishes, no other starts");
    const done = first.messages.at(-1);
    assert.equal(done?.type, "done");
    assert.equal(done.type === "done" && done.reason, "interrupted");
    assert.deepEqual(
      first
        .of("checkpoint")
        .filter((c) => c.path === "checkpoints/last")
        .at(-1),
      { v, type: "checkpoint", step: 5, path: "checkpoints/last", reason: "interrupted" },
    );
    // No validation of its own at the end: it would count against the patience.
    assert.deepEqual(
      first
        .of("eval")
        .filter((e) => e.split === "validation" && e.step > 0)
        .map((e) => e.step),
      [4, 5],
      "the validation at step 4, then the summary's of the best weights (step 4's), reported at step 5",
    );
    const summary = RunSummary.parse(JSON.parse(fs.readFileSync(join(runDir, "summary.json"), "utf8")));
    assert.equal(summary.reason, "interrupted");
    assert.equal(summary.interruptedBy, "SIGTERM");
    assert.equal(summary.steps, 5);

    const second = new FakeChannel();
    const resumed = await trainInto(config, runDir, second, { resume: true, dataset });
    assert.equal(resumed.reason, "completed");
    assert.equal(second.of("hello")[0]?.resumedFrom?.step, 5, "not one step lost");
    assert.deepEqual([...losses(first), ...losses(second)], losses(whole));
  });

  test("an interruption wakes a paused run, which stops with its checkpoint and done", async () => {
    const config = tinyTrainingConfig({ training: { maxSteps: 12, evalEvery: 100 } });
    const runDir = tempRun();
    const controller = new AbortController();
    const pause = new Map([[3, [{ v, type: "pause", id: "p" } as HostCommand]]]);
    const channel = new InterruptingChannel(controller, (m) => m.type === "paused", pause);
    const result = await trainInto(config, runDir, channel, { interrupt: controller.signal });
    assert.equal(result.reason, "interrupted");
    assert.equal(result.summary.steps, 3);
    assert.deepEqual(
      channel.messages.slice(-1).map((m) => m.type === "done" && m.reason),
      ["interrupted"],
    );
    const state = JSON.parse(fs.readFileSync(join(runDir, "checkpoints/last/state.json"), "utf8"));
    assert.equal(state.position.step, 3);
  });

  test("an interruption before the first step still leaves a resumable run", async () => {
    const config = tinyTrainingConfig({ training: { maxSteps: 6 } });
    const runDir = tempRun();
    const controller = new AbortController();
    controller.abort(SIGTERM);
    const channel = new FakeChannel();
    const result = await trainInto(config, runDir, channel, { interrupt: controller.signal });
    assert.equal(result.reason, "interrupted");
    assert.equal(channel.of("step").length, 0);
    const again = new FakeChannel();
    const resumed = await trainInto(config, runDir, again, { resume: true });
    assert.equal(resumed.reason, "completed");
    assert.deepEqual(
      again.of("step").map((s) => s.step),
      [1, 2, 3, 4, 5, 6],
    );
  });

  test("the CLI: the first signal asks for a graceful stop, a second exits at once with its status; a lost host is an interruption too", () => {
    const stderr = mock.method(process.stderr, "write", () => true);
    const exits: number[] = [];
    let lose: ((loss: { reason: string }) => void) | undefined;
    const link = {
      onHostLost: (listener: (loss: { reason: string }) => void) => {
        lose = listener;
        return { dispose: () => undefined };
      },
    } as unknown as Parameters<typeof watchInterruptions>[0];
    const before = process.listenerCount("SIGTERM");
    try {
      const watch = watchInterruptions(link, (code) => exits.push(code));
      process.emit("SIGTERM", "SIGTERM");
      assert.equal(watch.signal.aborted, true);
      assert.equal((watch.signal.reason as Interruption).by, "SIGTERM");
      assert.equal(exits.length, 0, "the first signal leaves the run time to write its checkpoint");
      process.emit("SIGTERM", "SIGTERM");
      assert.deepEqual(exits, [143]);
      watch.dispose();
      assert.equal(process.listenerCount("SIGTERM"), before, "the handlers go with the run");

      const hostLoss = watchInterruptions(link, (code) => exits.push(code));
      lose?.({ reason: "stdin closed" });
      assert.equal((hostLoss.signal.reason as Interruption).by, "host-lost");
      assert.equal(INTERRUPTED_EXIT_CODES["host-lost"], 129);
      hostLoss.dispose();
    } finally {
      stderr.mock.restore();
    }
  });
});
