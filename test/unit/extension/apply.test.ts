import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { applyConfigToRun } from "../../../src/extension/config/apply";
import type { ExitInfo, RunConnection } from "../../../src/extension/runs/connection";
import { LiveRun } from "../../../src/extension/runs/liveRun";
import { TrainingConfig } from "../../../src/protocol/config";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import type { AckMessage, TrainerMessage } from "../../../src/protocol/messages";

/** A trainer that refuses unknown strategies and records what it was sent. */
class Trainer implements RunConnection {
  readonly kind = "spawned" as const;
  readonly refusal = null;
  readonly canWrite = true;
  sent: Array<Record<string, unknown>> = [];
  step = 40;
  onMessage: (message: TrainerMessage) => void = () => undefined;
  onProblem = () => undefined;
  onStderr = () => undefined;
  onExit: (info: ExitInfo) => void = () => undefined;
  async send(command: Record<string, unknown>): Promise<AckMessage> {
    this.sent.push(command);
    const ok =
      command.type !== "set-strategy" || ["ew", "gradcraft", "pcgrad"].includes(String(command.name));
    return {
      v: "1.0",
      type: "ack",
      id: "x",
      ok,
      step: ++this.step,
      error: ok ? undefined : "unknown strategy",
    };
  }
  async close() {
    return "graceful" as const;
  }
}

function liveRun(config: unknown) {
  const trainer = new Trainer();
  const run = new LiveRun({
    id: "r",
    label: "r",
    connection: trainer as unknown as RunConnection,
    configSnapshot: TrainingConfig.parse(config),
    maxPoints: 100,
  });
  trainer.onMessage(TRAINER_EXAMPLES.hello);
  return { run, trainer };
}

describe("applying a saved config to its live run", () => {
  it("sends the live changes, reports the rest, and keeps reporting restarts on the next save", async () => {
    const { run, trainer } = liveRun({
      training: { learningRate: 1e-3, batchSize: 256 },
      strategy: { name: "ew" },
    });
    const edited = JSON.stringify({
      training: { learningRate: 3e-3, batchSize: 512 },
      strategy: { name: "ew" },
    });
    const first = await applyConfigToRun(run, edited, 1000);
    assert.deepEqual(trainer.sent, [{ type: "set-hyperparameters", learningRate: 3e-3 }]);
    assert.equal(first.level, "warning");
    assert.match(first.text, /applied learningRate=0\.003 at step 41/);
    assert.match(first.text, /training\.batchSize: 256 → 512/);
    // Saved again unchanged: nothing is re-sent, the restart is still pending and said again.
    const second = await applyConfigToRun(run, edited, 1000);
    assert.equal(trainer.sent.length, 1);
    assert.match(second.text, /training\.batchSize: 256 → 512/);
  });

  it("a refused strategy leaves the run's strategy as it was, so the next save tries again", async () => {
    const { run, trainer } = liveRun({ strategy: { name: "ew" } });
    const edited = JSON.stringify({ strategy: { name: "typo" } });
    const result = await applyConfigToRun(run, edited, 1000);
    assert.equal(result.level, "error");
    assert.match(result.text, /refused strategy typo: unknown strategy/);
    assert.equal(run.configSnapshot?.strategy.name, "ew");
    await applyConfigToRun(run, edited, 1000);
    assert.equal(trainer.sent.filter((c) => c.type === "set-strategy").length, 2);
  });

  it("a file that is not a valid config is not applied, and says why", async () => {
    const { run, trainer } = liveRun({});
    const result = await applyConfigToRun(run, JSON.stringify({ training: { learningRate: -1 } }), 1000);
    assert.equal(result.level, "error");
    assert.match(result.text, /not applied: invalid config: training\.learningRate/);
    assert.deepEqual(trainer.sent, []);
  });
});
