import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { type HostCommand, PROTOCOL_VERSION } from "../../../src/protocol/messages";
import { train } from "../../../src/trainer/train";
import { CPU_CHOICE, FakeChannel, tinyDataset, tinyTrainingConfig, useCpu } from "./helpers";

const v = PROTOCOL_VERSION;
const command = (c: Record<string, unknown>) => ({ v, ...c }) as HostCommand;

function tempRun(): string {
  const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-run-"));
  fs.mkdirSync(join(dir, "checkpoints"));
  return dir;
}

describe("training loop", () => {
  before(useCpu);

  test("commands take effect at the step boundary they arrive at, each acknowledged with that step", async () => {
    const script = new Map<number, HostCommand[]>([
      [3, [command({ type: "set-strategy", id: "s1", name: "pcgrad", params: {} })]],
      [4, [command({ type: "set-strategy", id: "bad1", name: "no-such-method", params: {} })]],
      [5, [command({ type: "set-hyperparameters", id: "h1", learningRate: 0.002 })]],
      [6, [command({ type: "set-hyperparameters", id: "bad2", strategyParams: { nope: 1 } })]],
      [7, [command({ type: "pause", id: "p1" })]],
      [
        8,
        [command({ type: "evaluate", id: "e1", split: "test" }), command({ type: "checkpoint", id: "c1" })],
      ],
      [9, [command({ type: "stop", id: "stop1" })]],
    ]);
    const whilePaused = [
      command({ type: "set-strategy", id: "s2", name: "ew", params: {} }),
      command({ type: "resume", id: "r1" }),
    ];
    const channel = new FakeChannel(script, whilePaused);
    const config = tinyTrainingConfig({ strategy: { name: "gradcraft" } });
    const result = await train({
      config,
      baseDir: ".",
      runDir: null,
      channel,
      backend: CPU_CHOICE,
      dataset: tinyDataset(config),
    });
    const ack = (id: string) => channel.acks.find((a) => a.command.id === id)?.outcome;
    assert.deepEqual(
      ["s1", "bad1", "h1", "bad2", "p1", "s2", "r1", "e1", "c1", "stop1"].map((id) => [
        id,
        ack(id)?.ok,
        ack(id)?.step,
      ]),
      [
        ["s1", true, 3],
        ["bad1", false, 4],
        ["h1", true, 5],
        ["bad2", false, 6],
        ["p1", true, 7],
        ["s2", true, 7],
        ["r1", true, 7],
        ["e1", true, 8],
        ["c1", false, 8], // no run folder in this test: refused, run unchanged
        ["stop1", true, 9],
      ],
    );
    assert.match(ack("bad1")?.error ?? "", /unknown strategy "no-such-method"/);
    assert.match(ack("bad2")?.error ?? "", /nope/);
    const steps = channel.of("step");
    const strategyAt = (n: number) => steps.find((s) => s.step === n)?.strategy;
    assert.deepEqual([1, 3, 4, 5, 7, 8, 9].map(strategyAt), [
      "gradcraft",
      "gradcraft",
      "pcgrad",
      "pcgrad",
      "pcgrad",
      "ew",
      "ew",
    ]);
    const lrAt = (n: number) => steps.find((s) => s.step === n)?.learningRate;
    assert.deepEqual(
      [5, 6],
      [lrAt(5), lrAt(6)].map((lr) => (lr === 0.01 ? 5 : lr === 0.002 ? 6 : -1)),
    );
    assert.equal(steps.at(-1)?.step, 9, "no step after stop");
    assert.equal(result.reason, "stopped");
    assert.ok(channel.of("eval").some((e) => e.split === "test" && e.step === 8));
    assert.ok(channel.of("paused").length === 1 && channel.of("resumed").length === 1);
    assert.deepEqual(
      channel.of("strategy-changed").map((m) => [m.name, m.step, m.reason]),
      [
        ["gradcraft", 0, "initial"],
        ["pcgrad", 3, "command"],
        ["ew", 7, "command"],
      ],
    );
    assert.equal(channel.of("done")[0]?.reason, "stopped");
  });

  test("commands arriving asynchronously (stdin, socket) are seen at the next step boundary", async () => {
    // A real link receives commands from I/O callbacks: the loop must let the event loop run.
    class AsyncChannel extends FakeChannel {
      private arrived: HostCommand[] = [];
      override send(message: Parameters<FakeChannel["send"]>[0]): void {
        super.send(message);
        if (message.type === "step" && message.step === 2)
          setImmediate(() => this.arrived.push(command({ type: "stop", id: "late" })));
      }
      override takeCommands(): HostCommand[] {
        const taken = this.arrived;
        this.arrived = [];
        return taken;
      }
    }
    const channel = new AsyncChannel();
    const config = tinyTrainingConfig({ training: { maxSteps: 15 } });
    const result = await train({
      config,
      baseDir: ".",
      runDir: null,
      channel,
      backend: CPU_CHOICE,
      dataset: tinyDataset(config),
    });
    assert.equal(result.reason, "stopped");
    assert.equal(channel.of("step").at(-1)?.step, 2);
    assert.deepEqual(
      channel.acks.map((a) => [a.command.id, a.outcome.step]),
      [["late", 2]],
    );
  });

  test("a crash after hello still ends the stream with a fatal error and done (failed)", async () => {
    class Crashing extends FakeChannel {
      override takeCommands(): HostCommand[] {
        if (this.of("step").length === 3) throw new Error("link exploded");
        return [];
      }
    }
    const channel = new Crashing();
    const config = tinyTrainingConfig({ training: { maxSteps: 10 } });
    await assert.rejects(
      train({
        config,
        baseDir: ".",
        runDir: null,
        channel,
        backend: CPU_CHOICE,
        dataset: tinyDataset(config),
      }),
      /link exploded/,
    );
    const tail = channel.messages.slice(-2);
    assert.equal(tail[0].type === "error" && tail[0].fatal && tail[0].message, "link exploded");
    assert.equal(tail[1].type === "done" && tail[1].reason, "failed");
  });

  test("after maxNonFiniteSteps non-finite steps in a row the run stops with a clear error", async () => {
    const config = tinyTrainingConfig({ training: { maxNonFiniteSteps: 3 } });
    const dataset = tinyDataset(config);
    // Poison one task's labels everywhere: every step is non-finite.
    const k = dataset.taskNames.length;
    for (let r = 0; r < dataset.train.size; r++) dataset.train.labels[r * k + 2] = Number.NaN;
    const channel = new FakeChannel();
    const result = await train({ config, baseDir: ".", runDir: null, channel, backend: CPU_CHOICE, dataset });
    assert.equal(result.reason, "failed");
    assert.equal(channel.of("step").length, 0);
    const errors = channel.of("error");
    assert.deepEqual(
      errors.slice(0, 3).map((e) => [e.fatal, e.task]),
      [
        [false, 2],
        [false, 2],
        [true, 2],
      ],
    );
    assert.match(errors[2].message, new RegExp(dataset.taskNames[2]));
    assert.match(errors.at(-1)?.message ?? "", /3 consecutive non-finite steps/);
  });

  const uninterruptedLosses = new Map<string, Array<Array<string | number>>>();
  for (const [recipe, model] of [
    ["lazy-adam", {}],
    ["dense-adam", {}],
    ["lazy-adam", { deepfm: true }],
  ] as const)
    test(`a run resumed from its checkpoint reproduces the losses of an uninterrupted run (stateful strategy, ${recipe} ${JSON.stringify(model)})`, async () => {
      const steps = { uninterrupted: 14, first: 6 };
      const config = (maxSteps: number) => {
        const c = tinyTrainingConfig({
          training: { maxSteps, embeddingOptimizer: recipe },
          strategy: { name: "dwa", params: {} },
        });
        return { ...c, model: { ...c.model, ...model } };
      };
      const whole = new FakeChannel();
      await train({
        config: config(steps.uninterrupted),
        baseDir: ".",
        runDir: tempRun(),
        channel: whole,
        backend: CPU_CHOICE,
        dataset: tinyDataset(config(1)),
      });
      const runDir = tempRun();
      const first = new FakeChannel();
      await train({
        config: config(steps.first),
        baseDir: ".",
        runDir,
        channel: first,
        backend: CPU_CHOICE,
        dataset: tinyDataset(config(1)),
      });
      assert.ok(fs.existsSync(join(runDir, "checkpoints/last/state.json")));
      const second = new FakeChannel();
      await train({
        config: config(steps.uninterrupted),
        baseDir: ".",
        runDir,
        channel: second,
        backend: CPU_CHOICE,
        dataset: tinyDataset(config(1)),
        resume: true,
      });
      const losses = (c: FakeChannel) =>
        c.of("step").map((s) => [s.step, ...s.losses.map((l) => l.toFixed(6))]);
      assert.equal(second.of("step")[0]?.step, steps.first + 1);
      assert.deepEqual([...losses(first), ...losses(second)], losses(whole));
      assert.equal(second.of("hello")[0]?.resumedFrom?.step, steps.first);
      if (!("deepfm" in model)) uninterruptedLosses.set(recipe, losses(whole));
    });

  test("the embedding recipe reaches training: the lazy-adam and dense-adam runs above start alike and then differ", () => {
    const lazy = uninterruptedLosses.get("lazy-adam");
    const dense = uninterruptedLosses.get("dense-adam");
    assert.ok(lazy && dense, "both resume tests ran first");
    assert.deepEqual(lazy[0].slice(0, 1), dense[0].slice(0, 1));
    assert.notDeepEqual(lazy, dense);
  });

  test("checkpoints/last is kept at most checkpointEverySeconds of training old, and written at every evaluation", async () => {
    // A clock that moves 25 s per reading: with a 60 s policy, a periodic checkpoint every few steps.
    let now = 0;
    const clock = () => {
      now += 25_000;
      return now;
    };
    const config = tinyTrainingConfig({
      training: { maxSteps: 14, evalEvery: 10, checkpointEverySeconds: 60 },
    });
    const channel = new FakeChannel();
    const runDir = tempRun();
    await train({
      config,
      baseDir: ".",
      runDir,
      channel,
      backend: CPU_CHOICE,
      dataset: tinyDataset(config),
      clock,
    });
    const last = channel.of("checkpoint").filter((c) => c.path === "checkpoints/last");
    assert.ok(
      last.some((c) => c.reason === "periodic"),
      "periodic checkpoints by time",
    );
    assert.deepEqual(
      last.filter((c) => c.reason === "evaluation").map((c) => c.step),
      [10],
    );
    // Between two writes of checkpoints/last, never more than the policy's time of training.
    const stepTimes = new Map(channel.of("step").map((s) => [s.step, s.wallMs]));
    const written = [0, ...last.map((c) => stepTimes.get(c.step) ?? 0)];
    for (let i = 1; i < written.length; i++) assert.ok(written[i] - written[i - 1] <= 60_000 + 4 * 25_000);
    const off = new FakeChannel();
    const quiet = tinyTrainingConfig({
      training: { maxSteps: 14, evalEvery: 100, checkpointEverySeconds: 0 },
    });
    await train({
      config: quiet,
      baseDir: ".",
      runDir: tempRun(),
      channel: off,
      backend: CPU_CHOICE,
      dataset: tinyDataset(quiet),
      clock,
    });
    assert.deepEqual(
      off.of("checkpoint").map((c) => [c.path, c.reason]),
      [
        ["checkpoints/best", "best"],
        ["checkpoints/last", "final"],
      ],
    );
  });

  test("a run resumed at an epoch's end does not validate that step twice", async () => {
    const config = (maxSteps: number) => tinyTrainingConfig({ training: { maxSteps, batchSize: 64 } });
    const dataset = tinyDataset(config(1));
    const perEpoch = Math.ceil(dataset.train.size / 64);
    const atEpochEnd = (maxSteps: number) =>
      tinyTrainingConfig({
        training: { maxSteps, batchSize: 64, evalEvery: perEpoch, checkpointEverySeconds: 0 },
      });
    const runDir = tempRun();
    await train({
      config: atEpochEnd(perEpoch),
      baseDir: ".",
      runDir,
      channel: new FakeChannel(),
      backend: CPU_CHOICE,
      dataset,
    });
    const resumed = new FakeChannel();
    await train({
      config: atEpochEnd(perEpoch + 3),
      baseDir: ".",
      runDir,
      channel: resumed,
      backend: CPU_CHOICE,
      dataset: tinyDataset(config(1)),
      resume: true,
    });
    assert.deepEqual(
      resumed
        .of("eval")
        .filter((e) => e.split === "validation")
        .map((e) => e.step),
      [perEpoch + 3, perEpoch + 3],
      "the resumed run validates at its end only (tracked, then the kept weights)",
    );
  });

  test("an evaluation never throws on NaN predictions: the tasks are reported failed and the run writes its summary", async () => {
    const config = tinyTrainingConfig({ training: { maxSteps: 3 } });
    const dataset = tinyDataset(config);
    // A broken feature value in one validation row makes every task's prediction for it NaN.
    dataset.validation.numeric[0] = Number.NaN;
    const channel = new FakeChannel();
    const runDir = tempRun();
    const result = await train({ config, baseDir: ".", runDir, channel, backend: CPU_CHOICE, dataset });
    assert.equal(result.reason, "completed");
    const validation = result.summary.splits.validation;
    assert.ok(
      validation?.tasks.every((t) => t.auc === null && /1 of \d+ predictions are NaN/.test(t.error ?? "")),
    );
    assert.ok(result.summary.splits.test?.tasks.every((t) => t.error === undefined && t.auc !== null));
    assert.ok(fs.existsSync(join(runDir, "summary.json")));
  });
});
