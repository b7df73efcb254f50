import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { StreamProblem } from "../../../src/protocol/codec";
import { DOC_PATH } from "../../../src/protocol/doc";
import { HostLink } from "../../../src/protocol/link/hostLink";
import type { StepMessage, TrainerMessage } from "../../../src/protocol/messages";

/**
 * docs/protocol.md promises that its Python sketch is a working trainer: run it as it is, drive
 * it through HostLink, and check that every line it writes validates.
 */

const python = ["python3", "python"].find((cmd) => spawnSync(cmd, ["--version"]).status === 0);

describe("the Python trainer sketch in docs/protocol.md", () => {
  it("speaks the protocol: every message validates, commands are acked, changes take effect", async (t) => {
    if (!python) {
      // Without Python the promise cannot be checked here; CI must have it.
      assert.ok(process.env.CI !== "true", "python3 is required under CI to check the doc's Python trainer");
      t.skip("python3 not found on this machine");
      return;
    }
    const doc = fs.readFileSync(DOC_PATH, "utf8");
    const match = /```python\n([\s\S]*?)```/.exec(doc);
    assert.ok(match, "docs/protocol.md has a ```python block");
    const script = join(fs.mkdtempSync(join(tmpdir(), "gc-python-")), "trainer.py");
    fs.writeFileSync(script, match[1]);

    const host = HostLink.spawn(python, [script]);
    const problems: StreamProblem[] = [];
    const messages: TrainerMessage[] = [];
    host.onProblem((p) => problems.push(p));
    host.onMessage((m) => messages.push(m));
    try {
      const deadline = Date.now() + 20_000;
      while (!messages.some((m) => m.type === "step") && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.deepEqual(host.hello?.tasks, ["click", "like"]);

      const lr = await host.send({ type: "set-hyperparameters", learningRate: 0.002 });
      assert.equal(lr.ok, true);
      const refused = await host.send({ type: "set-strategy", name: "gradcraft", params: {} });
      assert.deepEqual([refused.ok, refused.error], [false, "not supported by this trainer: set-strategy"]);
      const pause = await host.send({ type: "pause" });
      const resume = await host.send({ type: "resume" });
      assert.equal(resume.step, pause.step);
      const stop = await host.send({ type: "stop" });
      const exit = await host.exited;
      assert.equal(exit.code, 0, exit.stderrTail.join("\n"));

      assert.deepEqual(problems, [], "every line the sketch wrote is a valid message");
      const steps = messages.filter((m): m is StepMessage => m.type === "step");
      assert.ok(steps.length >= 1);
      for (const s of steps) assert.equal(s.learningRate, s.step > lr.step ? 0.002 : 0.001);
      assert.ok(messages.some((m) => m.type === "hyper-changed" && m.commandId === lr.id));
      assert.ok(messages.some((m) => m.type === "paused") && messages.some((m) => m.type === "resumed"));
      const done = messages.at(-1);
      assert.equal(done?.type === "done" && done.reason, "stopped");
      assert.equal(done?.type === "done" && done.summary.steps, stop.step);
      assert.ok(exit.stderrTail.includes("starting"), "its own text went to stderr");
    } finally {
      host.child.kill("SIGKILL");
    }
  });
});
