import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MIN_STEPS, runInsights } from "../../../src/panel/insights";
import { RunModel } from "../../../src/panel/runModel";
import { type StepMessage, PROTOCOL_VERSION as v } from "../../../src/protocol/messages";
import { FAKE_STRATEGIES, fakeRun, helloMessage } from "../../webview/fakeRun";

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

/**
 * A three-task run whose every step has the same cosines and norms: click and like conflict
 * (cosine -0.5) in the steps `conflicting` says, follow agrees with both.
 */
function steadyRun(options: {
  steps: number;
  norms: number[];
  strategy: { name: string; params: Record<string, unknown> };
  conflicting?: (step: number) => boolean;
}): RunModel {
  const tasks = ["click", "like", "follow"];
  const run = new RunModel("s", "s");
  run.ingest(helloMessage(tasks));
  for (let step = 1; step <= options.steps; step++) {
    const c = (options.conflicting ?? (() => true))(step) ? -0.5 : 0.5;
    const message: StepMessage = {
      v,
      type: "step",
      step,
      epoch: 0,
      wallMs: step,
      losses: [0.5, 0.5, 0.5],
      norms: options.norms,
      cosines: [1, c, 0.2, c, 1, 0.2, 0.2, 0.2, 1],
      weights: [1 / 3, 1 / 3, 1 / 3],
      conflictingPairs: c < 0 ? 1 : 0,
      updateNorm: 1,
      updateCosines: [0.5, 0.5, 0.5],
      conflictsWithUpdate: false,
      flags: [],
      strategy: options.strategy.name,
      learningRate: 1e-3,
      stepTimeMs: 1,
    };
    run.ingest(message);
  }
  run.strategy = options.strategy;
  return run;
}

const EQUAL = [1, 1.2, 0.9];
const UNEQUAL = [4, 0.25, 1];

describe("the Conflicts view's insights", () => {
  it("each pair's conflict share is counted over the last 200 steps' matrices", () => {
    const { run, cosines } = fedRun();
    const insights = runInsights(run, undefined, 200);
    assert.equal(insights.steps, 200);
    assert.equal(insights.span, 200);
    const k = run.tasks.length;
    const last = cosines.slice(-200);
    for (const pair of insights.pairs) {
      const i = run.tasks.indexOf(pair.a);
      const j = run.tasks.indexOf(pair.b);
      // The model keeps cosines to six decimals (runModel.ts): count what it keeps.
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
    assert.equal(insights.noSuggestion, null);
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
        new RegExp(
          `${insights.norms.smallest}'s gradient norm is \\d+(\\.\\d)?× below ${insights.norms.largest}'s`,
        ),
      );
    } else assert.equal(name, "pcgrad");
  });

  it("no suggestion once the suggested strategy is running", () => {
    const { run } = fedRun();
    const first = runInsights(run).suggestion;
    assert.ok(first);
    run.strategy = { name: first.name, params: first.params };
    const again = runInsights(run);
    assert.equal(again.suggestion, null);
    assert.match(again.noSuggestion ?? "", new RegExp(`^${first.name} already`));
  });

  it("a vanished gradient is named apart and left out of the ratio, which compares the tasks that still move the weights", () => {
    const run = steadyRun({ steps: 120, norms: [4, 2e-7, 1], strategy: { name: "ew", params: {} } });
    const { norms, suggestion } = runInsights(run);
    assert.deepEqual(norms?.vanished, ["like"]);
    assert.equal(norms?.largest, "click");
    assert.equal(norms?.smallest, "follow");
    assert.equal(norms?.ratio, 4);
    assert.match(suggestion?.reason ?? "", /follow's gradient norm is 4× below click's/);
    // A millionth and more is not vanished: it is the smallest, and the ratio says how far.
    const small = runInsights(
      steadyRun({ steps: 120, norms: [4, 8e-6, 1], strategy: { name: "ew", params: {} } }),
    );
    assert.deepEqual(small.norms?.vanished, []);
    assert.equal(small.norms?.smallest, "like");
  });

  it("unequal norms: GradCraft with τ = 0.5 for a strategy that does not even them out, with the ratio named", () => {
    for (const name of ["ew", "pcgrad", "cagrad", "uw"]) {
      const run = steadyRun({ steps: 120, norms: UNEQUAL, strategy: { name, params: {} } });
      const { suggestion, norms } = runInsights(run);
      assert.equal(norms?.largest, "click");
      assert.equal(norms?.smallest, "like");
      assert.equal(norms?.ratio, 16);
      assert.equal(suggestion?.name, "gradcraft", name);
      // The trainer's defaults for the rest, τ = 0.5.
      assert.deepEqual(suggestion?.params, { tau: 0.5, epsilon: 0 });
      assert.match(
        suggestion?.reason ?? "",
        /^click and like conflict in 100 % of the last 120 steps, and like's gradient norm is 16× below click's: GradCraft with τ = 0.5/,
      );
    }
  });

  it("unequal norms under GradCraft with τ = 0: the same GradCraft, its other parameters kept, τ raised", () => {
    const run = steadyRun({
      steps: 120,
      norms: UNEQUAL,
      strategy: { name: "gradcraft", params: { tau: 0, epsilon: 0.001 } },
    });
    assert.deepEqual(runInsights(run).suggestion?.params, { tau: 0.5, epsilon: 0.001 });
    run.strategy = { name: "gradcraft", params: { tau: 0.2, epsilon: 0.001 } };
    assert.equal(runInsights(run).suggestion, null, "τ > 0 already aligns the magnitudes");
  });

  it("similar norms: PCGrad for a strategy that ignores conflicts, nothing for one that handles them", () => {
    const ew = runInsights(steadyRun({ steps: 120, norms: EQUAL, strategy: { name: "ew", params: {} } }));
    assert.equal(ew.suggestion?.name, "pcgrad");
    assert.deepEqual(ew.suggestion?.params, { seed: 0 });
    assert.match(ew.suggestion?.reason ?? "", /with gradient norms of a similar size: PCGrad/);
    for (const name of ["pcgrad", "gradcraft", "cagrad", "mgda", "upgrad"]) {
      const insights = runInsights(steadyRun({ steps: 120, norms: EQUAL, strategy: { name, params: {} } }));
      assert.equal(insights.suggestion, null, name);
      assert.equal(insights.noSuggestion, `${name} already handles the conflicts`);
    }
  });

  it("no suggestion when no pair conflicts often, when single runs, or when the trainer does not offer the remedy", () => {
    // 20 % of the steps conflict: below the 30 % that calls for a remedy.
    const rare = runInsights(
      steadyRun({
        steps: 150,
        norms: UNEQUAL,
        strategy: { name: "ew", params: {} },
        conflicting: (s) => s % 5 === 0,
      }),
    );
    assert.equal(rare.pairs[0].share, 0.2);
    assert.equal(rare.suggestion, null);
    assert.equal(rare.noSuggestion, "no pair conflicts in 30 % of the steps (most: click and like, 20 %)");
    const single = steadyRun({
      steps: 120,
      norms: UNEQUAL,
      strategy: { name: "single", params: { task: 0 } },
    });
    assert.equal(runInsights(single).suggestion, null);
    const withoutGradcraft = steadyRun({ steps: 120, norms: UNEQUAL, strategy: { name: "ew", params: {} } });
    withoutGradcraft.strategies = FAKE_STRATEGIES.filter((s) => s.name !== "gradcraft");
    assert.equal(runInsights(withoutGradcraft).noSuggestion, "this trainer offers no GradCraft");
  });

  it("too few steps: the figures say how many more they need, and nothing is suggested yet", () => {
    const run = steadyRun({ steps: MIN_STEPS - 12, norms: UNEQUAL, strategy: { name: "ew", params: {} } });
    const insights = runInsights(run);
    assert.equal(insights.needed, 12);
    assert.equal(insights.suggestion, null);
    assert.equal(insights.noSuggestion, "needs 12 more steps with gradients");
    assert.equal(
      runInsights(steadyRun({ steps: MIN_STEPS, norms: UNEQUAL, strategy: { name: "ew", params: {} } }))
        .needed,
      0,
    );
  });

  it("the figures stop at the cut they are given, not where the run is now", () => {
    // Conflicts only after step 100: cut at 100, nothing conflicts yet.
    const run = steadyRun({
      steps: 160,
      norms: EQUAL,
      strategy: { name: "ew", params: {} },
      conflicting: (s) => s > 100,
    });
    const cut = { step: 100, cosines: run.recentCosines().filter((m) => m.step <= 100) };
    assert.equal(runInsights(run, cut).pairs[0].share, 0);
    assert.equal(
      runInsights(run, { step: 100, cosines: run.recentCosines() }).steps,
      100,
      "later matrices are left out",
    );
    assert.equal(runInsights(run).pairs[0].share, 60 / 160);
  });

  it("only some steps seen (a slow reader): the reason says how many over which span", () => {
    const run = steadyRun({ steps: 300, norms: EQUAL, strategy: { name: "ew", params: {} } });
    const sampled = { step: 300, cosines: run.recentCosines().filter((m) => m.step % 2 === 0) };
    const insights = runInsights(run, sampled);
    assert.equal(insights.steps, 100);
    assert.equal(insights.span, 199);
    assert.match(insights.suggestion?.reason ?? "", /in 100 % of 100 steps seen over the last 199/);
  });

  it("a task with a small part of the update (weight × norm) and a flat validation AUC starves; the others do not", () => {
    /** Three tasks at constant weights and norms for 300 steps, validated at 100, 200 and 300. */
    const run = (weights: number[], norms: number[], followAuc: number[]) => {
      const model = new RunModel("s", "s");
      model.tasks = ["click", "like", "follow"];
      for (let step = 1; step <= 300; step++)
        model.tasks.forEach((task, t) => {
          model.seriesFor(`weight/${task}`).append(step, step, weights[t]);
          model.seriesFor(`norm/${task}`).append(step, step, norms[t]);
        });
      model.step = 300;
      for (const [n, step] of [100, 200, 300].entries())
        model.evals.push({
          step,
          time: step,
          split: "validation",
          metrics: { auc: [0.6 + 0.02 * n, 0.6 + 0.03 * n, followAuc[n]], gauc: [], logloss: [] },
        });
      return model;
    };
    const flat = [0.55, 0.5505, 0.551];
    // A small weight on a gradient like the others'.
    let starving = runInsights(run([1, 1, 0.02], [1, 1, 1], flat)).starving;
    assert.deepEqual(
      starving.map((s) => s.task),
      ["follow"],
    );
    assert.ok(Math.abs(starving[0].updateShare - 0.02 / 2.02) < 1e-12);
    // From the evaluation at the window's start (step 100, the cut 300 less 200) to the latest.
    assert.equal(starving[0].aucSince, 100);
    assert.ok(Math.abs(starving[0].aucChange - 0.001) < 1e-12);
    // An equal weight on a gradient 50× smaller, or a large weight on one 1000× smaller: still a
    // small part of the update.
    starving = runInsights(run([1, 1, 1], [1, 1, 0.02], flat)).starving;
    assert.deepEqual(
      starving.map((s) => s.task),
      ["follow"],
    );
    starving = runInsights(run([1, 1, 10], [1, 1, 0.001], flat)).starving;
    assert.ok(Math.abs(starving[0].updateShare - 0.01 / 2.01) < 1e-12);
    // The same task with a rising AUC is not starving: it learns from what it gets; nor is a task
    // with a fair part of the update.
    assert.deepEqual(runInsights(run([1, 1, 0.02], [1, 1, 1], [0.55, 0.555, 0.56])).starving, []);
    assert.deepEqual(runInsights(run([1, 1, 1], [1, 1, 1], flat)).starving, []);
  });
});
