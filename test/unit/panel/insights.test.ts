import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { runInsights } from "../../../src/panel/insights";
import { RunModel } from "../../../src/panel/runModel";
import { fakeRun } from "../../webview/fakeRun";

/** A run fed the seeded fake trainer's stream (cosines, norms and weights from core's diagnose). */
function fedRun(steps = 600): { run: RunModel; cosines: number[][] } {
  const run = new RunModel("r", "r");
  const cosines: number[][] = [];
  for (const m of fakeRun({ steps, seed: 4, evalEvery: 100 })) {
    run.ingest(m);
    if (m.type === "step") cosines.push(m.cosines);
  }
  // The fake trainer ends on GradCraft: as a run of equal weighting, the advice has something to say.
  run.strategy = { name: "ew", params: {} };
  return { run, cosines };
}

describe("the Conflicts view's insights", () => {
  it("each pair's conflict share is counted over the last 200 steps' matrices", () => {
    const { run, cosines } = fedRun();
    const insights = runInsights(run, 200);
    assert.equal(insights.steps, 200);
    const k = run.tasks.length;
    const last = cosines.slice(-200);
    for (const pair of insights.pairs) {
      const i = run.tasks.indexOf(pair.a);
      const j = run.tasks.indexOf(pair.b);
      const expected = last.filter((c) => Math.round(c[i * k + j] * 1e6) / 1e6 < 0).length / 200;
      assert.equal(pair.share, expected, `${pair.a}/${pair.b}`);
    }
    assert.ok(
      insights.pairs.every((p, n) => n === 0 || insights.pairs[n - 1].share >= p.share),
      "most first",
    );
  });

  it("a frequent conflict gets a suggestion whose reason quotes the run's own figures", () => {
    const { run } = fedRun();
    const insights = runInsights(run);
    const top = insights.pairs[0];
    assert.ok(top.share >= 0.3, `the fake run's task groups pull against each other (${top.share})`);
    assert.ok(insights.suggestion, "a switch is suggested");
    const { reason, name, params } = insights.suggestion;
    assert.match(
      reason,
      new RegExp(`${top.a} and ${top.b} conflict in ${Math.round(top.share * 100)} % of the last 200 steps`),
    );
    if (insights.norms && insights.norms.ratio >= 3) {
      assert.equal(name, "gradcraft");
      assert.equal(params.tau, 0.5);
      assert.match(
        reason,
        new RegExp(`${insights.norms.smallest} smallest, ${insights.norms.largest} largest`),
      );
    } else assert.equal(name, "pcgrad");
  });

  it("no suggestion once the suggested strategy is running", () => {
    const { run } = fedRun();
    const first = runInsights(run).suggestion;
    assert.ok(first);
    run.strategy = { name: first.name, params: first.params };
    assert.equal(runInsights(run).suggestion, null);
  });

  it("a task with a small share of the update and a flat validation AUC starves; the others do not", () => {
    const run = new RunModel("s", "s");
    run.tasks = ["click", "like", "follow"];
    for (let step = 1; step <= 300; step++)
      ["click", "like", "follow"].forEach((task, t) => {
        run.seriesFor(`weight/${task}`).append(step, step, t === 2 ? 0.02 : 1);
        run.seriesFor(`norm/${task}`).append(step, step, 1);
      });
    run.step = 300;
    for (const [step, auc] of [
      [100, [0.6, 0.6, 0.55]],
      [200, [0.62, 0.63, 0.5505]],
      [300, [0.64, 0.65, 0.551]],
    ] as const)
      run.evals.push({
        step,
        time: step,
        split: "validation",
        metrics: { auc: [...auc], gauc: [], logloss: [] },
      });
    const { starving } = runInsights(run);
    assert.deepEqual(
      starving.map((s) => s.task),
      ["follow"],
    );
    assert.ok(Math.abs(starving[0].weightShare - 0.02 / 2.02) < 1e-12);
  });
});
