// The Output channel's account of a run, and the notifications a run's end earns.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RunNarrative } from "../../../src/extension/runs/runNarrative";
import {
  NON_FINITE_NOTICE_AFTER,
  NonFiniteSteps,
  runEndNotice,
} from "../../../src/extension/runs/runNotices";
import { TrainingConfig } from "../../../src/protocol/config";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import {
  type DoneMessage,
  type ErrorMessage,
  type RunSummary,
  type TrainerMessage,
  trainerMessage,
} from "../../../src/protocol/messages";

const hello = { ...TRAINER_EXAMPLES.hello, tasks: ["click", "like"] } as TrainerMessage;
const config = trainerMessage({
  type: "config",
  config: TrainingConfig.parse({ training: { evalEvery: 40, patience: 4 } }),
});
function step(n: number): TrainerMessage {
  return { ...TRAINER_EXAMPLES.step, step: n, epoch: n / 100, losses: [0.4125, 0.5] } as TrainerMessage;
}
function evaluation(n: number, auc: number, best: boolean, split: "validation" | "test" = "validation") {
  const mean = { auc, gauc: null, logloss: 0.4 };
  return trainerMessage({
    type: "eval",
    split,
    step: n,
    tasks: [
      { task: "click", ...mean },
      { task: "like", ...mean },
    ],
    mean,
    best,
  });
}
const summary: RunSummary = {
  steps: 200,
  wallMs: 61_000,
  bestStep: 40,
  splits: {
    validation: { tasks: [], mean: { auc: 0.71, gauc: null, logloss: 0.4 } },
    test: { tasks: [], mean: { auc: 0.7, gauc: null, logloss: 0.4 } },
  },
};
const earlyStop: DoneMessage = trainerMessage({ type: "done", reason: "early-stopped", summary });

/** An early-stopped run: best at 40, four evaluations without improvement, the end's evaluations. */
function earlyStoppedRun(narrative: RunNarrative): string[] {
  const messages: TrainerMessage[] = [hello, config, evaluation(40, 0.71, true)];
  for (const at of [80, 120, 160, 200]) messages.push(evaluation(at, 0.7, false));
  messages.push(evaluation(200, 0.71, false), evaluation(200, 0.7, false, "test"), earlyStop);
  return messages.flatMap((m) => narrative.line(m)?.text ?? []);
}

describe("the run's account in the Output channel", () => {
  it("names the tasks on a loss line, at most one every few seconds", () => {
    let now = 0;
    const narrative = new RunNarrative(() => now);
    narrative.line(hello);
    assert.equal(narrative.line(step(1))?.text, "step 1 (epoch 0.01): loss click 0.4125, like 0.5000");
    now = 4000;
    assert.equal(narrative.line(step(2)), null);
    now = 5000;
    assert.match(narrative.line(step(3))?.text ?? "", /^step 3 .*click 0\.4125, like 0\.5000$/);
  });

  it("says why a step is evaluated twice at the end, and which evaluation and patience stopped the run", () => {
    const lines = earlyStoppedRun(new RunNarrative());
    const at200 = lines.filter((l) => l.startsWith("step 200 validation"));
    assert.equal(at200.length, 2);
    assert.doesNotMatch(at200[0], /again/);
    assert.match(at200[1], /again: the weights of step 40, the best validation, which the run keeps/);
    assert.match(
      lines[1],
      /step 40 validation: mean AUC 0\.7100.*AUC by task click 0\.7100, like 0\.7100 \(best so far\)/,
    );
    assert.equal(
      lines.at(-1),
      "stopped early: 200 steps in 1 min 1 s: the mean validation AUC had not improved on step 40's for 4 evaluations in a row (the patience; one every 40 steps), the last at step 200; it keeps the weights of step 40, the best validation, evaluated again at step 200 above (validation mean AUC 0.7100, GAUC -, log loss 0.4000; test mean AUC 0.7000, GAUC -, log loss 0.4000)",
    );
  });

  it("an evaluation this window asked for is marked requested, not taken for the end's", () => {
    const narrative = new RunNarrative();
    narrative.line(evaluation(40, 0.71, true));
    narrative.line(evaluation(80, 0.7, false));
    assert.equal(
      narrative.request({ type: "evaluate", split: "validation" }),
      "→ evaluation on validation requested",
    );
    assert.match(narrative.line(evaluation(80, 0.7, false))?.text ?? "", /\(requested\)$/);
  });

  it("logs requests, switches, changes, pauses and refusals", () => {
    const narrative = new RunNarrative();
    const says = (m: TrainerMessage) => narrative.line(m);
    assert.equal(
      narrative.request({ type: "set-strategy", name: "pcgrad", params: { tau: 0.5 } }),
      "→ switch to pcgrad (tau 0.5) requested",
    );
    assert.equal(
      narrative.request({ type: "set-hyperparameters", learningRate: 0.005 }),
      "→ learningRate 0.005 requested",
    );
    assert.equal(narrative.request({ type: "pause" }), "→ pause requested");
    assert.equal(
      says(
        trainerMessage({
          type: "strategy-changed",
          step: 120,
          name: "pcgrad",
          params: { tau: 0.5 },
          previous: { name: "ew", params: {} },
          reason: "command",
        }),
      )?.text,
      "step 120: strategy ew → pcgrad (tau 0.5) from the next step",
    );
    assert.equal(
      says(
        trainerMessage({
          type: "hyper-changed",
          step: 130,
          changes: [{ name: "learningRate", from: 0.003, to: 0.005 }],
        }),
      )?.text,
      "step 130: learningRate 0.003 → 0.005 from the next step",
    );
    assert.equal(says(trainerMessage({ type: "paused", step: 131 }))?.text, "paused after step 131");
    assert.equal(
      says(trainerMessage({ type: "resumed", step: 131, pausedMs: 12_300 }))?.text,
      "resumed after step 131 (paused 12.3 s)",
    );
    assert.deepEqual(
      says(
        trainerMessage({
          type: "ack",
          id: "h-1",
          command: "set-strategy",
          ok: false,
          step: 131,
          error: "unknown strategy",
        }),
      ),
      { level: "warn", text: "set-strategy refused at step 131: unknown strategy" },
    );
    assert.equal(
      says(trainerMessage({ type: "ack", id: "h-2", command: "pause", ok: true, step: 131 })),
      null,
    );
    assert.match(
      says({ ...hello, resumedFrom: { runDir: "/r", step: 126 } } as TrainerMessage)?.text ?? "",
      /; resumed from the checkpoint at step 126$/,
    );
  });
});

describe("the notification at a run's end", () => {
  it("completed and early stop say how it went, early stop which evaluation and what patience", () => {
    const narrative = new RunNarrative();
    earlyStoppedRun(narrative);
    const early = runEndNotice({ label: "quick", done: earlyStop, stopRequested: false }, narrative);
    assert.equal(early?.level, "info");
    assert.match(
      early?.message ?? "",
      /^GradCraft: "quick" stopped early at step 200: .*4 evaluations in a row \(the patience; one every 40 steps\), the last at step 200\. /,
    );
    assert.match(
      early?.message ?? "",
      /Validation mean AUC 0\.7100, test mean AUC 0\.7000 \(the weights of step 40, kept\)\.$/,
    );
    const completed = runEndNotice(
      { label: "quick", done: { ...earlyStop, reason: "completed" }, stopRequested: false },
      narrative,
    );
    assert.match(
      completed?.message ?? "",
      /^GradCraft: "quick" completed 200 steps\. Validation mean AUC 0\.7100/,
    );
  });

  it("a failure is an error with its reason; a stop asked for here is no news; one from elsewhere is", () => {
    const narrative = new RunNarrative();
    const failed = runEndNotice({ label: "q", failure: "out of memory", stopRequested: false }, narrative);
    assert.deepEqual(failed, { level: "error", message: 'GradCraft: "q" failed: out of memory' });
    const stopped = { ...earlyStop, reason: "stopped" as const };
    assert.equal(runEndNotice({ label: "q", done: stopped, stopRequested: true }, narrative), null);
    assert.match(
      runEndNotice({ label: "q", done: stopped, stopRequested: false }, narrative)?.message ?? "",
      /was stopped at step 200 \(not from this window\)/,
    );
    assert.equal(
      runEndNotice({ label: "q", stopRequested: false }, narrative),
      null,
      "no done, no failure: nothing to say",
    );
  });

  it("skipped non-finite steps notify once, when they keep coming", () => {
    const counter = new NonFiniteSteps();
    const skipped = (n: number): ErrorMessage =>
      trainerMessage({
        type: "error",
        message: `step ${n} skipped: non-finite loss (like)`,
        step: n,
        fatal: false,
      });
    const notices = Array.from({ length: NON_FINITE_NOTICE_AFTER + 2 }, (_, i) =>
      counter.skipped(skipped(i + 1), "q"),
    );
    assert.deepEqual(
      notices.map((n) => n?.level ?? null),
      [null, null, "warning", null, null],
    );
    assert.match(
      notices[2]?.message ?? "",
      /skipped 3 training steps for non-finite values \(the latest: step 3 skipped/,
    );
  });
});
