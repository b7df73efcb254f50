import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { RunRowsLoader } from "../../../src/extension/runs/runRowsLoader";
import { hyperData } from "../../../src/panel/hyperView";
import { finalHyper, finalStrategy, type RunRow } from "../../../src/panel/runRows";
import { strategyLabel } from "../../../src/panel/runsTable";
import { SYNTHETIC_TASKS } from "../../../src/protocol/config";
import type { EvalMessage, HostCommand, RunSummary, TrainerMessage } from "../../../src/protocol/messages";
import { PROTOCOL_VERSION as v } from "../../../src/protocol/messages";
import { runShortId, updateRunIdentity } from "../../../src/protocol/runIdentity";
import { createRunDir, EventLogWriter, runPaths } from "../../../src/protocol/runlog";
import { train } from "../../../src/trainer/train";
import { CPU_CHOICE, FakeChannel, tinyDataset, tinyTrainingConfig, useCpu } from "../trainer/helpers";

/**
 * The runs table's rows and the hyperparameter view's points, computed from run folders the
 * trainer wrote (tiny synthetic runs, a few hundred ms each), and checked against the folders'
 * own files read independently (summary.json, the event log's lines).
 */

/** Trains one run into a fresh folder under `root`, `script` giving commands at step boundaries. */
async function trainRun(
  root: string,
  name: string,
  overrides: Parameters<typeof tinyTrainingConfig>[0],
  script: Map<number, HostCommand[]> = new Map(),
): Promise<string> {
  const config = { ...tinyTrainingConfig(overrides), name };
  const runDir = createRunDir(root, name);
  const channel = new FakeChannel(script);
  await train({ config, baseDir: root, runDir, channel, backend: CPU_CHOICE, dataset: tinyDataset(config) });
  const log = new EventLogWriter(runPaths(runDir).events, { syncImportant: false });
  for (const message of channel.messages) log.append(message);
  log.close();
  return runDir;
}

const readSummary = (dir: string): RunSummary => JSON.parse(readFileSync(runPaths(dir).summary, "utf8"));
const readEvents = (dir: string): TrainerMessage[] =>
  readFileSync(runPaths(dir).events, "utf8")
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line));

const bestValidationEvals = (dir: string): EvalMessage[] =>
  readEvents(dir).filter((m): m is EvalMessage => m.type === "eval" && m.split === "validation" && m.best);

describe("runs table rows from real run folders", () => {
  const root = mkdtempSync(join(tmpdir(), "gradcraft-rows-"));
  let mixed: string;
  let ew: string;
  let killed: string;
  const singles: string[] = [];
  let rows: RunRow[];
  const byDir = (dir: string) => rows.find((r) => r.id === dir) as RunRow;

  before(async () => {
    await useCpu();
    const budget = (maxSteps: number) => ({ maxSteps, evalEvery: 4 });
    mixed = await trainRun(
      root,
      "mixed",
      { training: budget(12), strategy: { name: "gradcraft", params: { tau: 0.5 } } },
      new Map<number, HostCommand[]>([
        [
          4,
          [{ v, type: "set-hyperparameters", id: "h1", learningRate: 0.005, strategyParams: { tau: 0.25 } }],
        ],
        [8, [{ v, type: "set-strategy", id: "h2", name: "pcgrad", params: {} }]],
      ]),
    );
    ew = await trainRun(root, "ew", { training: budget(8), strategy: { name: "ew" } });
    killed = await trainRun(root, "killed", { training: budget(8), strategy: { name: "mgda" } });
    for (let task = 0; task < SYNTHETIC_TASKS.length; task++)
      singles.push(
        await trainRun(root, `single-${task}`, {
          training: budget(4),
          strategy: { name: "single", params: { task } },
        }),
      );
    // A run killed while training: no summary, its log cut after its last step.
    unlinkSync(runPaths(killed).summary);
    // Its trainer is gone: the hello names a process that has exited.
    const deadPid = spawnSync(process.execPath, ["-e", ""]).pid;
    const text = readFileSync(runPaths(killed).events, "utf8").replace(
      `"pid":${process.pid}`,
      `"pid":${deadPid}`,
    );
    writeFileSync(runPaths(killed).events, text);
    const lastStep = text.lastIndexOf('"type":"step"');
    truncateSync(runPaths(killed).events, Buffer.byteLength(text.slice(0, text.indexOf("\n", lastStep) + 1)));
    await updateRunIdentity(ew, { name: "ew baseline", tags: ["baseline", "paper"], note: "the reference" });
    rows = await new RunRowsLoader().rows(root);
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  test("one row per run folder, with the tasks, model, steps and status each run's files give", () => {
    assert.equal(rows.length, 3 + SYNTHETIC_TASKS.length);
    const row = byDir(mixed);
    assert.deepEqual(row.tasks, [...SYNTHETIC_TASKS]);
    assert.equal(row.model, "ple");
    assert.equal(row.steps, 12);
    assert.equal(row.status, "completed");
    assert.equal(row.configName, "mixed");
    assert.equal(byDir(killed).status, "interrupted");
  });

  test("the strategy spells and every mid-run change, as the event log recorded them", () => {
    const row = byDir(mixed);
    const switches = readEvents(mixed).filter((m) => m.type === "strategy-changed");
    assert.deepEqual(
      row.strategies.map((s) => [s.step, s.name]),
      switches.map((m) => [m.step, m.name]),
    );
    assert.deepEqual(
      row.strategies.map((s) => s.name),
      ["gradcraft", "pcgrad"],
    );
    assert.equal(strategyLabel(row), "gradcraft → pcgrad");
    assert.equal(row.strategies[0].params.tau, 0.5);
    const change = (name: string) => row.changes.find((c) => c.name === name);
    assert.deepEqual(
      {
        step: change("learningRate")?.step,
        from: change("learningRate")?.from,
        to: change("learningRate")?.to,
      },
      { step: 4, from: 0.01, to: 0.005 },
    );
    assert.equal(change("strategy.tau")?.to, 0.25);
    assert.equal(row.hyper.learningRate, 0.01, "the value the run started with");
    assert.equal(finalHyper(row).learningRate, 0.005, "the value in force at the end");
    assert.equal(finalStrategy(row)?.name, "pcgrad");
    assert.equal(row.hyper.batchSize, 64);
  });

  test("best validation and test metrics per task are the kept weights' (summary.json), with the best step", () => {
    for (const dir of [mixed, ew]) {
      const summary = readSummary(dir);
      const row = byDir(dir);
      assert.deepEqual(row.validation?.metrics, summary.splits.validation);
      assert.deepEqual(row.test?.metrics, summary.splits.test);
      assert.equal(row.validation?.split, "validation");
      assert.equal(row.test?.split, "test");
      assert.equal(row.validation?.step, summary.bestStep);
      assert.equal(row.validation?.step, bestValidationEvals(dir).at(-1)?.step);
    }
  });

  test("a run killed before its end: the log's best validation evaluation, no test", () => {
    const row = byDir(killed);
    const bestEval = bestValidationEvals(killed).at(-1);
    assert.ok(bestEval);
    assert.equal(row.validation?.step, bestEval.step);
    assert.deepEqual(row.validation?.metrics.mean, bestEval.mean);
    assert.equal(row.test, null);
  });

  test("a run is named by its run.json, with its tags and note; others by their first strategy and short id", () => {
    assert.equal(byDir(ew).name, "ew baseline");
    assert.equal(byDir(ew).configName, "ew");
    assert.deepEqual(byDir(ew).tags, ["baseline", "paper"]);
    assert.equal(byDir(ew).note, "the reference");
    assert.equal(byDir(mixed).name, `gradcraft-${runShortId(mixed)}`);
    assert.equal(byDir(mixed).configName, "mixed");
    assert.deepEqual(byDir(mixed).tags, []);
  });

  test("the hyperparameter view: AV over tasks, RI against the Single runs task by task, a composite Single point", () => {
    const data = hyperData(rows);
    const point = (dir: string) => data.points.find((p) => p.id === dir);
    assert.equal(point(killed), undefined, "a run without a test evaluation is left out");
    assert.equal(
      data.points.filter((p) => p.kind === "run").length,
      2,
      "Single runs are not methods of their own",
    );
    const baseline = SYNTHETIC_TASKS.map(
      (_, t) => readSummary(singles[t]).splits.test?.tasks[t].auc as number,
    );
    for (const dir of [mixed, ew]) {
      const test = readSummary(dir).splits.test;
      assert.ok(test);
      const p = point(dir);
      assert.ok(p);
      assert.ok(
        Math.abs((p.avAuc as number) - (test.mean.auc as number)) < 1e-12,
        "AV AUC = the trainer's mean",
      );
      const ratios = test.tasks.map((m, t) => ((m.auc as number) - baseline[t]) / baseline[t]);
      const ri = ratios.reduce((a, b) => a + b, 0) / ratios.length;
      assert.ok(Math.abs((p.riAuc as number) - ri) < 1e-12, `RI of ${p.name}`);
      assert.equal(p.riTasks, SYNTHETIC_TASKS.length);
    }
    const single = data.points.find((p) => p.kind === "single");
    assert.ok(single);
    assert.equal(single.riAuc, 0);
    assert.ok(
      Math.abs((single.avAuc as number) - baseline.reduce((a, b) => a + b, 0) / baseline.length) < 1e-12,
    );
    // The strategy axis first, then what differs between the two runs' final values.
    assert.equal(data.parameters[0].key, "strategy");
    assert.ok(data.parameters.some((a) => a.key === "hyper.learningRate"));
    assert.deepEqual(data.notes, ["1 run without a test evaluation left out."]);
  });

  test("RI is refused honestly when the workspace has no Single run", () => {
    const data = hyperData(rows.filter((r) => !singles.includes(r.id)));
    assert.ok(data.points.every((p) => p.riAuc === null && p.riTasks === 0));
    assert.equal(
      data.points.some((p) => p.kind === "single"),
      false,
    );
    assert.match(data.notes.join("\n"), /No Single runs on effective_view, long_view, complete_view \(\+3\)/);
  });
});
