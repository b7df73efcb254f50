import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RunModel } from "../../../src/panel/runModel";
import { PROTOCOL_VERSION as v } from "../../../src/protocol/messages";
import {
  compareEval,
  configDiff,
  type EvalComparison,
  heatmapAt,
  keptStepRange,
  lineStyle,
  runDash,
  taskUnion,
} from "../../../webview/compare";
import type { Palette } from "../../../webview/theme";
import { helloMessage } from "../../webview/fakeRun";

/** A finished run whose evaluations on `split` are the given per-task figures, one eval per entry. */
function runWith(
  label: string,
  tasks: string[],
  evals: { step: number; auc: number[]; logloss?: number[] }[],
  split: "validation" | "test" = "validation",
): RunModel {
  const model = new RunModel(label, label);
  model.ingest(helloMessage(tasks));
  for (const e of evals) {
    const entries = tasks.map((task, t) => ({
      task,
      auc: e.auc[t],
      gauc: e.auc[t] - 0.1,
      logloss: e.logloss?.[t] ?? 0.4,
    }));
    const mean = (pick: (x: (typeof entries)[number]) => number) =>
      entries.reduce((s, x) => s + pick(x), 0) / entries.length;
    model.ingest({
      v,
      type: "eval",
      split,
      step: e.step,
      tasks: entries,
      mean: { auc: mean((x) => x.auc), gauc: mean((x) => x.gauc), logloss: mean((x) => x.logloss) },
      best: false,
    });
  }
  return model;
}

function cell(table: EvalComparison, task: string | null, run: number, metric: "auc" | "gauc" | "logloss") {
  const group = table.groups.find((g) => g.task === task);
  assert.ok(group, `a group for ${task ?? "the mean"}`);
  return group.rows[run].cells[metric];
}

describe("the compare-mode evaluation table", () => {
  it("has one row per run under each task, in the compared order, the mean last", () => {
    const a = runWith("gradcraft", ["click", "like"], [{ step: 100, auc: [0.7, 0.6] }]);
    const b = runWith("pcgrad", ["click", "like"], [{ step: 100, auc: [0.72, 0.58] }]);
    const table = compareEval([a, b], "validation");
    assert.deepEqual(
      table.groups.map((g) => g.task),
      ["click", "like", null],
    );
    for (const group of table.groups)
      assert.deepEqual(
        group.rows.map((r) => r.run),
        [0, 1],
      );
    assert.equal(cell(table, "click", 1, "auc").latest, 0.72);
    assert.equal(cell(table, "like", 0, "auc").latest, 0.6);
    assert.ok(table.sameTasks && table.hasAny);
  });

  it("marks the higher AUC and the lower log loss; a run is ranked by its best evaluation, not its last", () => {
    // gradcraft peaks at step 100 and ends lower; pcgrad ends above gradcraft's last but below its peak.
    const a = runWith(
      "gradcraft",
      ["click"],
      [
        { step: 100, auc: [0.75], logloss: [0.3] },
        { step: 200, auc: [0.7], logloss: [0.35] },
      ],
    );
    const b = runWith("pcgrad", ["click"], [{ step: 200, auc: [0.73], logloss: [0.32] }]);
    const table = compareEval([a, b], "validation");
    assert.equal(cell(table, "click", 0, "auc").winner, true);
    assert.equal(cell(table, "click", 1, "auc").winner, false);
    assert.deepEqual(cell(table, "click", 0, "auc").best, { value: 0.75, step: 100 });
    assert.equal(cell(table, "click", 0, "logloss").winner, true, "0.30 beats 0.32");
    assert.equal(cell(table, "click", 1, "logloss").winner, false);
    // One task each: the means are comparable and ranked too.
    assert.equal(cell(table, null, 0, "auc").winner, true);
  });

  it("ties all win", () => {
    const a = runWith("a", ["x"], [{ step: 10, auc: [0.8] }]);
    const b = runWith("b", ["x"], [{ step: 10, auc: [0.8] }]);
    const table = compareEval([a, b], "validation");
    assert.equal(cell(table, "x", 0, "auc").winner, true);
    assert.equal(cell(table, "x", 1, "auc").winner, true);
  });

  it("runs with different task sets: missing cells say so, the means are not ranked", () => {
    const a = runWith("six", ["click", "like", "follow"], [{ step: 50, auc: [0.7, 0.6, 0.9] }]);
    const b = runWith("two", ["click", "like"], [{ step: 50, auc: [0.71, 0.65] }]);
    const table = compareEval([a, b], "validation");
    assert.equal(table.sameTasks, false);
    assert.deepEqual(
      table.groups.map((g) => g.task),
      ["click", "like", "follow", null],
    );
    assert.equal(cell(table, "follow", 1, "auc").state, "no-task");
    assert.equal(cell(table, "follow", 0, "auc").winner, false, "alone on its task: nothing to beat");
    assert.equal(cell(table, "click", 1, "auc").winner, true);
    assert.equal(cell(table, null, 0, "auc").state, "value");
    assert.equal(cell(table, null, 0, "auc").winner, false);
    assert.equal(cell(table, null, 1, "auc").winner, false);
  });

  it("a run not yet evaluated on the split has empty cells; hidden tasks are left out", () => {
    const a = runWith("evaluated", ["click", "like"], [{ step: 10, auc: [0.7, 0.6] }]);
    const b = runWith("test-only", ["click", "like"], [{ step: 10, auc: [0.9, 0.9] }], "test");
    const table = compareEval([a, b], "validation", ["like"]);
    assert.deepEqual(
      table.groups.map((g) => g.task),
      ["click", null],
    );
    assert.equal(cell(table, "click", 1, "auc").state, "no-eval");
    assert.equal(cell(table, "click", 0, "auc").winner, false);
    assert.equal(compareEval([b], "validation").hasAny, false);
    assert.equal(compareEval([a, b], "test").hasAny, true);
  });

  it("each run is drawn its own way: its markers' dash differs from its neighbours'", () => {
    assert.notDeepEqual(runDash(0), runDash(1));
    assert.notDeepEqual(runDash(1), runDash(2));
  });

  it("comparing, a run is one colour across its tasks and the tasks differ by dash; one run: task colours, solid", () => {
    const palette = { tasks: ["#a00", "#0a0", "#00a", "#aa0", "#0aa", "#a0a"] } as unknown as Palette;
    const tasks = ["click", "like", "follow"];
    const styles = tasks.map((t) => lineStyle(palette, tasks, 2, 1, t));
    assert.deepEqual(new Set(styles.map((s) => s.color)), new Set(["#0a0"]), "run 1's colour on every task");
    assert.equal(new Set(styles.map((s) => s.dash.join(","))).size, 3, "a dash per task");
    assert.deepEqual(
      lineStyle(palette, tasks, 2, 0, "like").dash,
      styles[1].dash,
      "a task's dash is the same in every run",
    );
    assert.notEqual(lineStyle(palette, tasks, 2, 0, "like").color, styles[1].color);
    assert.deepEqual(lineStyle(palette, tasks, 1, 0, "follow"), { color: "#00a", dash: [] });
  });

  it("tasks of runs with different task lists: each once, in the order first named", () => {
    assert.deepEqual(taskUnion([{ tasks: ["click", "like"] }, { tasks: ["follow", "click", "share"] }]), [
      "click",
      "like",
      "follow",
      "share",
    ]);
  });

  it("the heatmap step slider picks the matrix at or before the step, or the mean of the window ending there", () => {
    const kept = [10, 11, 12, 14].map((step) => ({ step, cosines: [1, step, step, 1] }));
    assert.equal(heatmapAt(kept, null, 0)?.step, 14, "null follows the latest");
    assert.equal(heatmapAt(kept, 13, 0)?.step, 12, "a step not kept shows the one before it");
    assert.equal(heatmapAt(kept, 9, 0), null, "before anything kept: nothing");
    assert.deepEqual(heatmapAt(kept, 12, 2), { step: 12, cosines: [1, 11.5, 11.5, 1] });
    assert.deepEqual(keptStepRange([kept, [], [{ step: 3, cosines: [1] }]]), { min: 3, max: 14 });
    assert.equal(keptStepRange([[], []]), null);
  });

  it("each later run's figure is set against the first run's: the sign says which way, `better` which is good", () => {
    const a = runWith("baseline", ["click"], [{ step: 10, auc: [0.7], logloss: [0.3] }]);
    const b = runWith("candidate", ["click"], [{ step: 10, auc: [0.725], logloss: [0.31] }]);
    const c = runWith("untested", ["like"], [{ step: 10, auc: [0.9] }]);
    const table = compareEval([a, b, c], "validation");
    assert.equal(cell(table, "click", 0, "auc").delta, undefined, "the baseline has none");
    const auc = cell(table, "click", 1, "auc").delta!;
    assert.ok(Math.abs(auc.value - 0.025) < 1e-12 && auc.better);
    const logloss = cell(table, "click", 1, "logloss").delta!;
    assert.ok(Math.abs(logloss.value - 0.01) < 1e-12);
    assert.equal(logloss.better, false, "a higher log loss is worse");
    assert.equal(cell(table, "like", 2, "auc").delta, undefined, "nothing to set it against");
  });
});

describe("the config diff between compared runs", () => {
  it("marks the settings that differ and lists each run's mid-run changes", () => {
    const diff = configDiff([
      {
        strategy: { name: "gradcraft", params: { tau: 0.5, epsilon: 0.001 } },
        hyperparameters: { learningRate: 0.003, l2: 0 },
        markers: [
          { step: 300, kind: "hyperparameters", label: "learningRate 0.001→0.003" },
          { step: 320, kind: "event", label: "paused" },
        ],
      },
      {
        strategy: { name: "pcgrad", params: { seed: 0 } },
        hyperparameters: { learningRate: 0.003, l2: 1e-5 },
        markers: [],
      },
    ]);
    const row = (name: string) => diff.rows.find((r) => r.name === name);
    assert.deepEqual(row("strategy"), { name: "strategy", values: ["gradcraft", "pcgrad"], differs: true });
    assert.deepEqual(row("strategy tau")?.values, ["0.5", "–"]);
    assert.equal(row("learningRate")?.differs, false, "the same now, though run 1 changed it mid-run");
    assert.equal(row("l2")?.differs, true);
    assert.deepEqual(diff.changes, [["step 300: learningRate 0.001→0.003"], []]);
  });
});
