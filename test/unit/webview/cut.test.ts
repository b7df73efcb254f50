import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RunModel } from "../../../src/panel/runModel";
import { cutRun, lineEnd, markersAt, valueAt } from "../../../webview/cut";
import { chartPoints } from "../../../webview/points";
import { fakeRun } from "../../webview/fakeRun";

/** A run fed `steps` steps of the recorded fake trainer (every step has losses, norms and cosines). */
function runTo(steps: number, maxPoints = 400): { run: RunModel; more(to: number): void } {
  const run = new RunModel("r", "r", { maxPoints });
  const stream = [...fakeRun({ steps: 5000, seed: 3, evalEvery: 500 })];
  let i = 0;
  const more = (to: number) => {
    while (i < stream.length) {
      const m = stream[i];
      if (m.type === "step" && m.step > to) break;
      run.ingest(m);
      i++;
    }
  };
  more(steps);
  return { run, more };
}

describe("one latest step for every card of a redraw", () => {
  it("a chart drawn after more steps arrived still ends at the cut step, with the value it had there", () => {
    const { run, more } = runTo(1200);
    const cut = cutRun(run);
    const loss = run.series.get("loss/click");
    assert.ok(loss);
    const atCut = loss.last;
    more(1900);
    assert.ok(run.step > cut.step);
    const points = chartPoints(loss, "step", 0, 10_000, lineEnd(cut, "loss/click"));
    assert.equal(points.at(-1)?.x, 1200);
    assert.equal(points.at(-1)?.y, atCut);
    assert.ok(points.every((p) => p.x <= 1200));
    // Every per-step series of the run ends at that same step, however its buckets fell.
    for (const name of ["norm/click", "weight/like", "conflictingPairs"]) {
      const series = run.series.get(name);
      assert.ok(series, name);
      assert.equal(chartPoints(series, "step", 0.6, 300, lineEnd(cut, name)).at(-1)?.x, 1200, name);
    }
  });

  it("by time, the line ends at the cut's elapsed time", () => {
    const { run, more } = runTo(800);
    const cut = cutRun(run);
    more(1500);
    const points = chartPoints(run.series.get("loss/click")!, "time", 0, 10_000, lineEnd(cut, "loss/click"));
    assert.equal(points.at(-1)?.x, cut.elapsed / 1000);
  });

  it("a series with no point at the cut step (an evaluation) ends at its last point before it", () => {
    const { run, more } = runTo(1200);
    const cut = cutRun(run);
    more(2600);
    const auc = run.series.get("eval/validation/auc/click");
    assert.ok(auc);
    const points = chartPoints(auc, "step", 0, 10_000, lineEnd(cut, "eval/validation/auc/click"));
    assert.equal(points.at(-1)?.x, 1000);
  });

  it("bars, markers and the heatmap stop at the cut too", () => {
    const { run, more } = runTo(1200);
    const cut = cutRun(run);
    const norm = run.latest("norm/like");
    run.addMarker({ step: 1250, time: 0, kind: "event", label: "later" });
    // Far enough for the run's window of 200 cosine matrices to have moved past the cut.
    more(1700);
    assert.equal(valueAt(run.series.get("norm/like"), cut, "norm/like"), norm);
    assert.notEqual(run.latest("norm/like"), norm);
    assert.ok(markersAt(run.markers, cut).every((m) => m.step <= 1200));
    assert.equal(markersAt(run.markers, cut).length, run.markers.length - 1);
    assert.equal(cut.cosines.at(-1)?.step, 1200);
    assert.equal(cut.cosines.length, 200);
    assert.ok(run.recentCosines()[0].step > 1200);
  });

  it("without a cut nothing is cut off", () => {
    const { run } = runTo(300);
    const loss = run.series.get("loss/click")!;
    assert.equal(chartPoints(loss, "step", 0, 10_000).length, loss.length);
  });
});
