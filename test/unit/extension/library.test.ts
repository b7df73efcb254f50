import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { loadReplayedRun } from "../../../src/extension/runs/library";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import type { TrainerMessage } from "../../../src/protocol/messages";
import { runShortId, updateRunIdentity } from "../../../src/protocol/runIdentity";
import { scanRuns } from "../../../src/protocol/runlog";

type Step = Extract<TrainerMessage, { type: "step" }>;
type Config = Extract<TrainerMessage, { type: "config" }>;

function writeRun(root: string, name: string, messages: TrainerMessage[], tornTail = false): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ name: name.split("-").pop() }));
  const lines = messages.map((m) => JSON.stringify({ ...m, ...(m.type === "hello" ? { runDir: dir } : {}) }));
  writeFileSync(
    join(dir, "events.ndjson"),
    lines.join("\n") + "\n" + (tornTail ? '{"v":"1.0","type":"st' : ""),
  );
  return dir;
}

const steps = (n: number): Step[] =>
  Array.from({ length: n }, (_, i) => ({
    ...(TRAINER_EXAMPLES.step as Step),
    step: i + 1,
    wallMs: (i + 1) * 50,
  }));

describe("finished runs read back from their folders", () => {
  const root = mkdtempSync(join(tmpdir(), "gradcraft-library-"));
  after(() => rmSync(root, { recursive: true, force: true }));

  it("a replayed run's panel model holds its whole history, bounded, and its end state", async () => {
    const dir = writeRun(root, "20260101-000000-done", [
      TRAINER_EXAMPLES.hello,
      ...steps(500),
      TRAINER_EXAMPLES.done,
    ]);
    const run = await loadReplayedRun(dir, 64);
    assert.equal(run.id, dir);
    assert.equal(run.canCommand, false);
    assert.equal(run.model.step, 500);
    assert.equal(run.model.state, "done");
    for (const series of run.model.series.values())
      assert.ok(series.length <= 64, "the panel's budget holds");
    assert.deepEqual(run.problems, []);
  });

  it("a resumed run's dashboard gets each step once, in order: the records the resume redid are left out", async () => {
    // Killed at step 30 with a checkpoint at 20; resumed from 20, completed at 40.
    const resumed = { ...TRAINER_EXAMPLES.hello, resumedFrom: { runDir: "/r", step: 20 } } as TrainerMessage;
    // Its own runs folder: the listing test below counts the runs in `root`.
    const dir = writeRun(join(root, "resumed"), "20260101-000200-resumed", [
      TRAINER_EXAMPLES.hello,
      ...steps(30),
      resumed,
      ...steps(40).slice(20),
      TRAINER_EXAMPLES.done,
    ]);
    const run = await loadReplayedRun(dir, 1024);
    assert.equal(run.model.step, 40);
    for (const [name, series] of run.model.series) {
      const xs = series.points().map((p) => p.x);
      assert.deepEqual(
        xs.filter((x, i) => i > 0 && x <= xs[i - 1]),
        [],
        `${name} goes backwards: ${xs.join(",")}`,
      );
    }
  });

  it("a run killed mid-line replays up to its last full line, is shown stopped, and the torn tail is reported", async () => {
    const dir = writeRun(root, "20260101-000100-killed", [TRAINER_EXAMPLES.hello, ...steps(20)], true);
    const run = await loadReplayedRun(dir, 64);
    assert.equal(run.model.step, 20);
    assert.equal(run.model.state, "stopped");
    assert.equal(run.problems.length, 1);
    assert.match(run.problems[0], /middle of a line/);
  });

  it("a replayed run is named by its identity: the user's name, else its starting strategy and a short id", async () => {
    const logged = writeRun(root, "20260101-000200-logged", [
      TRAINER_EXAMPLES.hello,
      {
        ...(TRAINER_EXAMPLES.config as Config),
        config: { ...(TRAINER_EXAMPLES.config as Config).config, strategy: { name: "pcgrad", params: {} } },
      },
      ...steps(3),
    ]);
    // config.json (written at the start) names no strategy here: the log's first config does.
    const fromLog = await loadReplayedRun(logged, 64);
    assert.equal(fromLog.label, `pcgrad-${runShortId(logged)}`);
    assert.equal(fromLog.model.label, fromLog.label);
    writeFileSync(
      join(logged, "config.json"),
      JSON.stringify({ name: "logged", strategy: { name: "mgda" } }),
    );
    assert.equal((await loadReplayedRun(logged, 64)).label, `mgda-${runShortId(logged)}`);
    await updateRunIdentity(logged, { name: "my baseline" });
    const renamed = await loadReplayedRun(logged, 64);
    assert.equal(renamed.label, "my baseline");
    await updateRunIdentity(logged, { name: "again" });
    await renamed.reloadIdentity();
    assert.equal(renamed.label, "again");
    assert.equal(renamed.model.label, "again", "the panel's model follows a rename");
    rmSync(logged, { recursive: true });
  });

  it("bad lines never reach the model: a broken line is reported with its line, a newer trainer's additions are skipped", async () => {
    const dir = writeRun(root, "20260101-000400-mixed", [TRAINER_EXAMPLES.hello, ...steps(2)]);
    const events = join(dir, "events.ndjson");
    const step = (n: number, extra: object = {}) =>
      JSON.stringify({ ...(TRAINER_EXAMPLES.step as Step), step: n, wallMs: n * 50, ...extra });
    appendFileSync(
      events,
      [
        '{"v":"1.0","type":"step","step":3,', // line 4: broken
        JSON.stringify({ v: "1.2", type: "telemetry", gpuTemperature: 50 }), // line 5: unknown type
        step(4, { v: "1.2", gpuMemoryMb: 800 }), // line 6: a field this reader does not know
        "",
      ].join("\n"),
    );
    const run = await loadReplayedRun(dir, 64);
    assert.equal(run.model.step, 4, "the step after the bad lines is read, without its unknown field");
    assert.ok(
      run.problems.some((p) => /line is not JSON.*events\.ndjson line 4\)$/.test(p)),
      run.problems.join("\n"),
    );
    assert.ok(run.problems.some((p) => /unknown message type "telemetry".*line 5\)$/.test(p)));
    assert.ok(run.problems.some((p) => /"step" field gpuMemoryMb is not known.*line 6\)$/.test(p)));
    rmSync(dir, { recursive: true });
  });

  it("the Runs view lists every run folder, newest first, and skips folders that are not runs", async () => {
    mkdirSync(join(root, "not-a-run"));
    const names = (await scanRuns(root)).map((r) => r.dir.split("/").pop());
    assert.deepEqual(names, ["20260101-000100-killed", "20260101-000000-done"]);
  });
});
