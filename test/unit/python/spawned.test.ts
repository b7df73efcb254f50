import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { planTrainerSpawn } from "../../../src/extension/runs/spawn";
import type { StreamProblem } from "../../../src/protocol/codec";
import { HostLink } from "../../../src/protocol/link/hostLink";
import type { StepMessage, TrainerMessage } from "../../../src/protocol/messages";
import { readEventLog, readRunInfo } from "../../../src/protocol/runlog";
import { pythonWithTorch, until } from "./helpers";

/**
 * The minimal PyTorch example, started as the extension starts a config that names its trainer
 * (planTrainerSpawn), driven through the host link the extension uses: every line it writes
 * validates against the protocol's zod schemas, and every command takes effect at a step
 * boundary, acknowledged.
 */

const example = resolve(__dirname, "../../../examples/pytorch/minimal.py");

describe("a PyTorch trainer (gradcraft_studio.Studio) spawned by the host", () => {
  const dir = mkdtempSync(join(tmpdir(), "gc-pytorch-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("speaks the protocol: valid messages, every command acknowledged at a step boundary, a replayable run folder", async (t) => {
    const python = await pythonWithTorch(t);
    if (!python) return;
    const config = join(dir, "minimal.gradcraft.json");
    writeFileSync(
      config,
      JSON.stringify({
        name: "minimal-live",
        trainer: { command: ["python3", example] },
        strategy: { name: "gradcraft", params: { tau: 0.5 } },
        training: { epochs: 1000, learningRate: 0.002 },
      }),
    );
    const runs = join(dir, "runs");
    const plan = planTrainerSpawn(
      { configPath: config, runsFolder: runs, trainerCommand: ["python3", example] },
      { nodePath: "", command: [], backend: "config", listen: false, extraArgs: [], python },
      { execPath: process.execPath, cliPath: "", cwd: dir, env: process.env },
    );
    const host = HostLink.spawn(plan.command, plan.args, { cwd: plan.cwd, env: plan.env });
    const problems: StreamProblem[] = [];
    const messages: TrainerMessage[] = [];
    host.onProblem((p: StreamProblem) => problems.push(p));
    host.onMessage((m: TrainerMessage) => messages.push(m));
    const steps = () => messages.filter((m): m is StepMessage => m.type === "step");
    try {
      await until("the first step", () => steps().length > 0);
      assert.deepEqual(host.hello?.tasks, ["click", "like"]);
      assert.equal(host.hello?.backend.name, "torch-cpu");
      assert.ok(
        host.hello?.strategies.some((s) => s.name === "pcgrad"),
        "hello lists the strategies",
      );
      const initial = messages.find((m) => m.type === "strategy-changed");
      assert.deepEqual(
        initial?.type === "strategy-changed" && [initial.name, initial.params.tau, initial.reason],
        ["gradcraft", 0.5, "initial"],
        "the config's strategy overrides the script's",
      );
      assert.equal(steps()[0].learningRate, 0.002, "the config's learning rate reaches the optimizer");

      const lr = await host.send({ type: "set-hyperparameters", learningRate: 0.0005 });
      assert.equal(lr.ok, true, lr.error);
      const badParam = await host.send({ type: "set-strategy", name: "gradcraft", params: { tau: 5 } });
      assert.equal(badParam.ok, false);
      assert.match(badParam.error ?? "", /tau/, "the refusal names the parameter");
      const unknown = await host.send({ type: "set-strategy", name: "nope" });
      assert.match(unknown.error ?? "", /unknown strategy "nope"/);
      const toPcgrad = await host.send({ type: "set-strategy", name: "pcgrad" });
      assert.equal(toPcgrad.ok, true, toPcgrad.error);

      const pause = await host.send({ type: "pause" });
      const countAtPause = steps().length;
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(steps().length, countAtPause, "no step while paused");
      const checkpoint = await host.send({ type: "checkpoint" }); // applied while paused
      assert.equal(checkpoint.ok, true, checkpoint.error);
      const evaluation = await host.send({ type: "evaluate", split: "validation" });
      assert.equal(evaluation.ok, true, evaluation.error);
      const resume = await host.send({ type: "resume" });
      assert.equal(resume.step, pause.step, "a paused run resumes where it paused");
      await until("a step after the resume", () => steps().at(-1)!.step > resume.step);
      const stop = await host.send({ type: "stop" });
      assert.equal(stop.ok, true);
      const exit = await host.exited;
      assert.equal(exit.code, 0, exit.stderrTail.join("\n"));

      assert.deepEqual(problems, [], "every line validates against the zod schemas");
      for (const s of steps()) {
        assert.equal(s.learningRate, s.step > lr.step ? 0.0005 : 0.002, `learning rate of step ${s.step}`);
        assert.equal(s.strategy, s.step > toPcgrad.step ? "pcgrad" : "gradcraft");
        assert.equal(s.cosines.length, 4);
      }
      const switched = messages.find((m) => m.type === "strategy-changed" && m.reason === "command");
      assert.equal(switched?.type === "strategy-changed" && switched.previous?.name, "gradcraft");
      const written = messages.find((m) => m.type === "checkpoint");
      assert.equal(written?.type === "checkpoint" && written.step, pause.step);
      const runDir = host.hello?.runDir ?? "";
      assert.ok(written?.type === "checkpoint" && existsSync(join(runDir, written.path, "checkpoint.pt")));
      const evals = messages.filter((m) => m.type === "eval" && m.split === "validation");
      assert.ok(evals.some((m) => m.type === "eval" && m.step === pause.step));
      const done = messages.at(-1);
      assert.equal(done?.type === "done" && done.reason, "stopped");
      assert.equal(done?.type === "done" && done.summary.steps, stop.step);

      // The run folder replays as the same stream (every step kept), and the Runs view reads it.
      const log = await readEventLog(runDir);
      assert.deepEqual(log.problems, []);
      assert.equal(log.messages.filter((m) => m.type === "step").length, steps().length);
      const info = await readRunInfo(runDir);
      assert.deepEqual([info?.name, info?.status, info?.strategy], ["minimal-live", "stopped", "pcgrad"]);
      assert.deepEqual(
        readdirSync(runDir).sort(),
        ["checkpoints", "config.json", "events.ndjson", "summary.json"],
        "no link files are left behind",
      );
    } finally {
      host.child.kill("SIGKILL");
    }
  });
});
