import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { runReplay, runSummary } from "../../../src/cli/replay";
import { decodeTrainerLine } from "../../../src/protocol/codec";
import { scanRuns } from "../../../src/protocol/runlog";
import { pythonWithTorch } from "./helpers";

/**
 * A PyTorch script run with no VS Code anywhere (no stdio link, nobody attached) leaves a run
 * folder that `gradcraft replay`, `gradcraft summary` and the Runs view read like a built-in run's.
 */

const example = resolve(__dirname, "../../../examples/pytorch/minimal.py");

function capture() {
  const out = { stdout: "", stderr: "" };
  const io = {
    stdout: (text: string) => {
      out.stdout += text;
    },
    stderr: (text: string) => {
      out.stderr += text;
    },
  };
  return { out, io };
}

describe("a PyTorch run recorded without VS Code", () => {
  const dir = mkdtempSync(join(tmpdir(), "gc-pytorch-folder-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("is replayed by `gradcraft replay`, summarised by `gradcraft summary` and listed by the Runs view", async (t) => {
    const python = await pythonWithTorch(t);
    if (!python) return;
    const config = join(dir, "short.gradcraft.json");
    writeFileSync(config, JSON.stringify({ name: "offline", training: { epochs: 1 } }));
    const runs = join(dir, "runs");
    const env: NodeJS.ProcessEnv = { ...process.env, GRADCRAFT_RUNS_FOLDER: runs, GRADCRAFT_CONFIG: config };
    delete env.GRADCRAFT_PROTOCOL;
    const child = spawn(python, [example], { env, cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((r) => child.once("close", (c) => r(c)));
    assert.equal(code, 0, stderr);
    const [name] = readdirSync(runs);
    const runDir = join(runs, name);

    const replayed = capture();
    assert.equal(await runReplay(runDir, {}, replayed.io), 0);
    assert.equal(replayed.out.stderr, "", "every line of the event log reads back");
    const messages = replayed.out.stdout
      .trim()
      .split("\n")
      .map((line) => {
        const parsed = decodeTrainerLine(line);
        if (!parsed.ok) assert.fail(`${line.slice(0, 80)}: ${parsed.reason}`);
        assert.deepEqual(parsed.droppedFields, [], `${parsed.message.type} has only the protocol's fields`);
        return parsed.message;
      });
    const types = messages.map((m) => m.type);
    assert.deepEqual(types.slice(0, 2), ["hello", "config"]);
    assert.equal(types.at(-1), "done");
    const steps = messages.filter((m) => m.type === "step");
    // 9 000 training rows in batches of 128: 71 steps in one epoch, every one recorded.
    assert.deepEqual(
      steps.map((m) => m.step),
      Array.from({ length: 71 }, (_, i) => i + 1),
    );
    assert.ok(messages.some((m) => m.type === "eval" && m.split === "test"));

    const summary = capture();
    assert.equal(await runSummary(runDir, {}, summary.io), 0);
    assert.equal(summary.out.stderr, "");
    const lines = summary.out.stdout.split("\n");
    assert.match(lines[0], /^run .*offline \(completed, 71 steps, gradcraft/);
    assert.doesNotMatch(lines[0], /from the last evaluations/, "summary.json is read, not rebuilt");
    assert.ok(
      lines.some((l) => /^click\s+\d\.\d{4}/.test(l)) && lines.some((l) => /^like\s+\d\.\d{4}/.test(l)),
    );
    const asJson = capture();
    assert.equal(await runSummary(runDir, { json: true }, asJson.io), 0);
    assert.deepEqual(
      JSON.parse(asJson.out.stdout),
      JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8")),
    );

    const [listed] = await scanRuns(runs);
    assert.deepEqual(
      [listed.name, listed.status, listed.strategy, listed.steps, listed.tasks, listed.problems],
      ["offline", "completed", "gradcraft", 71, ["click", "like"], []],
    );
    assert.ok(listed.summary?.splits.test, "the Runs view has the test metrics");
  });
});
