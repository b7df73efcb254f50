import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { averageCosines } from "../../../src/panel/cosineRing";
import { PatchCursor } from "../../../src/panel/patch";
import { RunModel } from "../../../src/panel/runModel";
import { DownsampledSeries } from "../../../src/panel/series";
import { seriesName } from "../../../src/panel/snapshot";
import { fakeRun, mulberry32 } from "../../webview/fakeRun";

describe("DownsampledSeries", () => {
  it("keeps every point while under its budget", () => {
    const series = new DownsampledSeries(100);
    for (let i = 1; i <= 40; i++) series.append(i, i * 10, i * i);
    assert.deepEqual(
      series.points().map((p) => p.x),
      Array.from({ length: 40 }, (_, i) => i + 1),
    );
  });

  it("never holds more than maxPoints points however many are appended", () => {
    const series = new DownsampledSeries(64);
    const random = mulberry32(3);
    for (let i = 1; i <= 200_000; i++) {
      series.append(i, i, random());
      if (i % 9973 === 0) assert.ok(series.length <= 64, `length ${series.length} at ${i}`);
    }
    assert.ok(series.length <= 64);
    assert.ok(series.length >= 32, "the budget is used, not collapsed to a handful");
    assert.equal(series.appended, 200_000);
  });

  it("keeps a single spike with its exact step and value after heavy downsampling", () => {
    const random = mulberry32(11);
    for (const spikeAt of [1, 777, 50_000, 99_999, 100_000]) {
      const series = new DownsampledSeries(200);
      for (let i = 1; i <= 100_000; i++) series.append(i, i * 5, i === spikeAt ? 1000 : random());
      const points = series.points();
      const top = points.reduce((a, b) => (b.y > a.y ? b : a));
      assert.equal(top.y, 1000);
      assert.equal(top.x, spikeAt);
      assert.equal(top.t, spikeAt * 5);
    }
  });

  it("keeps the global minimum too, and points stay in step order", () => {
    const random = mulberry32(5);
    const series = new DownsampledSeries(50);
    let min = { x: 0, y: Infinity };
    for (let i = 1; i <= 30_000; i++) {
      const y = random();
      if (y < min.y) min = { x: i, y };
      series.append(i, i, y);
    }
    const points = series.points();
    assert.ok(points.some((p) => p.x === min.x && p.y === min.y));
    for (let i = 1; i < points.length; i++) assert.ok(points[i].x > points[i - 1].x, `order at ${i}`);
  });

  it("ignores non-finite values", () => {
    const series = new DownsampledSeries(16);
    series.append(1, 0, 1);
    series.append(2, 0, Number.NaN);
    series.append(3, 0, Number.POSITIVE_INFINITY);
    assert.deepEqual(
      series.points().map((p) => p.y),
      [1],
    );
  });

  it("round-trips through its snapshot and continues identically", () => {
    const a = new DownsampledSeries(40);
    for (let i = 1; i <= 1234; i++) a.append(i, i, Math.sin(i));
    const b = DownsampledSeries.fromJSON(JSON.parse(JSON.stringify(a.toJSON())));
    for (let i = 1235; i <= 3000; i++) {
      a.append(i, i, Math.sin(i));
      b.append(i, i, Math.sin(i));
    }
    assert.deepEqual(b.points(), a.points());
  });

  it("shrinking the budget keeps the extremes", () => {
    const a = new DownsampledSeries(400);
    for (let i = 1; i <= 5000; i++) a.append(i, i, i === 4321 ? -9 : 0);
    const b = a.resized(20);
    assert.ok(b.length <= 20);
    assert.ok(b.points().some((p) => p.x === 4321 && p.y === -9));
  });

  it("refuses a budget too small to hold min and max pairs", () => {
    assert.throws(() => new DownsampledSeries(3), /maxPoints must be an integer >= 8/);
  });
});

describe("RunModel", () => {
  const tasks = ["a", "b", "c"];

  it("reads a run: tasks, strategies, per-task series, latest heatmap", () => {
    const model = new RunModel("r1");
    for (const m of fakeRun({ tasks, steps: 50, evalEvery: 25 })) model.ingest(m);
    assert.deepEqual(model.tasks, tasks);
    assert.deepEqual(
      model.strategies.map((s) => s.name),
      ["ew", "gradcraft", "pcgrad"],
    );
    assert.equal(model.state, "running");
    assert.equal(model.step, 50);
    for (const task of tasks) {
      assert.equal(model.series.get(seriesName.loss(task))?.appended, 50);
      assert.equal(model.series.get(seriesName.scale(task))?.appended, 50);
    }
    assert.equal(model.heatmap?.step, 50);
    assert.equal(model.heatmap?.cosines.length, 9);
    assert.equal(model.evals.length, 2);
    assert.ok(Number.isFinite(model.latestEval[seriesName.evalMean("validation", "auc")]));
  });

  it("marks a strategy switch with what changed, not the initial strategy", () => {
    const model = new RunModel("r1");
    const switches = {
      30: { name: "pcgrad", params: { seed: 0 } },
      40: { name: "pcgrad", params: { seed: 4 } },
    };
    for (const m of fakeRun({ tasks, steps: 60, switches })) model.ingest(m);
    assert.deepEqual(
      model.markers.map((m) => [m.step, m.kind, m.label]),
      [
        [30, "strategy", "→ pcgrad (seed=0)"],
        [40, "strategy", "pcgrad: seed=4"],
      ],
    );
    assert.deepEqual(model.strategy, { name: "pcgrad", params: { seed: 4 } });
  });

  it("marks hyperparameter changes and keeps the new values", () => {
    const model = new RunModel("r1");
    for (const m of fakeRun({ tasks, steps: 5 })) model.ingest(m);
    model.ingest({
      v: "1.0",
      type: "hyper-changed",
      step: 5,
      changes: [{ name: "learningRate", from: 0.001, to: 0.0005 }],
    });
    assert.equal(model.hyperparameters.learningRate, 0.0005);
    assert.equal(model.markers.at(-1)?.label, "learningRate 0.001→5.00e-4");
  });

  it("tracks best values: AUC highest, log loss lowest", () => {
    const model = new RunModel("r1");
    model.ingest({ v: "1.0", type: "hello", ...helloBits(["a"]) });
    const evalAt = (step: number, auc: number, logloss: number) =>
      model.ingest({
        v: "1.0",
        type: "eval",
        split: "validation",
        step,
        tasks: [{ task: "a", auc, gauc: null, logloss }],
        mean: { auc, gauc: null, logloss },
        best: false,
      });
    evalAt(10, 0.6, 0.5);
    evalAt(20, 0.7, 0.6);
    evalAt(30, 0.65, 0.4);
    assert.deepEqual(model.best[seriesName.evalMetric("validation", "auc", "a")], { value: 0.7, step: 20 });
    assert.deepEqual(model.best[seriesName.evalMetric("validation", "logloss", "a")], {
      value: 0.4,
      step: 30,
    });
    assert.equal(
      model.best[seriesName.evalMetric("validation", "gauc", "a")],
      undefined,
      "null is not a value",
    );
  });

  it("knows when the data has no user column, through a snapshot and a patch to a mirror", () => {
    const model = new RunModel("r1");
    model.ingest({ v: "1.0", type: "hello", ...helloBits(["a"]) });
    const evalAt = (step: number, flagged: boolean) =>
      model.ingest({
        v: "1.0",
        type: "eval",
        split: "validation",
        step,
        tasks: [{ task: "a", auc: 0.6, gauc: null, logloss: 0.5 }],
        mean: { auc: 0.6, gauc: null, logloss: 0.5 },
        best: false,
        ...(flagged && { gaucApplicable: false as const }),
      });
    evalAt(10, false);
    assert.equal(model.gaucApplicable, true, "a null GAUC alone is a missing value, not n/a");
    const cursor = new PatchCursor();
    const mirror = RunModel.fromSnapshot(JSON.parse(JSON.stringify(model.toSnapshot())));
    cursor.reset(model);
    evalAt(20, true);
    assert.equal(model.gaucApplicable, false);
    const patch = cursor.next(model);
    assert.ok(patch);
    mirror.applyPatch(JSON.parse(JSON.stringify(patch)));
    assert.equal(mirror.gaucApplicable, false, "the patch carried it");
    assert.equal(RunModel.fromSnapshot(JSON.parse(JSON.stringify(model.toSnapshot()))).gaucApplicable, false);
  });

  it("averages the heatmap over a window of the latest steps", () => {
    const m = (step: number, c: number) => ({ step, cosines: [1, c, c, 1] });
    const avg = averageCosines([m(1, -1), m(2, 0.5), m(3, 0.5)], 2);
    assert.deepEqual(avg, { step: 3, cosines: [1, 0.5, 0.5, 1] });
    assert.deepEqual(averageCosines([m(1, -1), m(2, 0.5)], 10)?.cosines, [1, -0.25, -0.25, 1]);
  });

  it("stays bounded over a long run: series, heatmap ring, markers, evals", () => {
    const model = new RunModel("r1", "r1", {
      maxPoints: 100,
      heatmapWindowMax: 20,
      maxMarkers: 5,
      maxEvals: 7,
    });
    const switches: Record<number, { name: string; params: Record<string, unknown> }> = {};
    for (let s = 100; s <= 5000; s += 100)
      switches[s] = { name: s % 200 ? "ew" : "gradcraft", params: { tau: s / 10_000 } };
    for (const m of fakeRun({ tasks, steps: 5000, evalEvery: 50, switches })) model.ingest(m);
    for (const series of model.series.values()) assert.ok(series.length <= 100);
    assert.equal(model.recentCosines().length, 20);
    assert.equal(model.recentCosines().at(-1)?.step, 5000);
    assert.equal(model.markers.length, 5);
    assert.equal(model.markers.at(-1)?.step, 5000);
    assert.equal(model.evals.length, 7);
  });

  it("a snapshot rebuilt on the other side continues exactly like the original", () => {
    const original = new RunModel("r1", "r1", { maxPoints: 64 });
    const stream = [...fakeRun({ tasks, steps: 900, spikeAt: 321 })];
    const half = stream.length >> 1;
    for (const m of stream.slice(0, half)) original.ingest(m);
    const mirror = RunModel.fromSnapshot(JSON.parse(JSON.stringify(original.toSnapshot())));
    for (const m of stream.slice(half)) {
      original.ingest(m);
      mirror.ingest(m);
    }
    assert.deepEqual(mirror.toSnapshot(), original.toSnapshot());
    const loss = mirror.series.get(seriesName.loss("a"))!.points();
    assert.ok(
      loss.some((p) => p.x === 321 && p.y === 50),
      "the spike survived the trip",
    );
  });

  it("exports the kept series as long-form CSV", () => {
    const model = new RunModel("r1");
    for (const m of fakeRun({ tasks: ["x,y", "b"], steps: 3 })) model.ingest(m);
    const csv = model
      .toCsv([seriesName.loss("x,y")])
      .trim()
      .split("\n");
    assert.equal(csv[0], "series,step,time_ms,value");
    assert.equal(csv.length, 4);
    assert.match(csv[1], /^"loss\/x,y",1,40,[0-9.]+$/);
  });

  it("the run ends as stopped, done or failed from done's reason", () => {
    for (const [reason, state] of [
      ["stopped", "stopped"],
      ["completed", "done"],
      ["failed", "error"],
    ] as const) {
      const model = new RunModel("r");
      model.ingest({ v: "1.0", type: "done", reason, summary: { steps: 1, wallMs: 1, splits: {} } });
      assert.equal(model.state, state);
    }
  });
});

function helloBits(tasks: string[]) {
  return {
    trainer: { name: "t", version: "0" },
    backend: { name: "cpu", reason: "" },
    tasks,
    strategies: [],
    runDir: null,
    startedAt: "2026-01-01T00:00:00Z",
  };
}
