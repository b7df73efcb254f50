import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { runTrain } from "../../../src/cli/train";
import { INSIGHT_WINDOW, type Insights, runInsights } from "../../../src/panel/insights";
import { RunModel } from "../../../src/panel/runModel";
import { replay } from "../../../src/protocol/runlog";
import { TINY_SYNTHETIC_MMOE } from "../helpers/configs";

/**
 * The insights of a run the real trainer recorded (`gradcraft train`'s own code, the cpu
 * backend), read back from its folder the way the host replays it, against the figures
 * recomputed here from the raw lines of its events.ndjson.
 */
const STEPS = 260;

interface RawStep {
  step: number;
  cosines: number[];
  norms: number[];
}

describe("insights of a recorded run", () => {
  let tasks: string[];
  let steps: RawStep[];
  let insights: Insights;

  before(async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-insights-"));
    const config = join(dir, "tiny.gradcraft.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        name: "tiny",
        ...TINY_SYNTHETIC_MMOE,
        training: { batchSize: 64, epochs: 100, maxSteps: STEPS, evalEvery: 50, patience: 1000 },
        strategy: { name: "ew" },
      }),
    );
    const out = join(dir, "runs");
    assert.equal(await runTrain(config, { out }), 0);
    const runDir = join(out, fs.readdirSync(out)[0]);
    const lines = fs
      .readFileSync(join(runDir, "events.ndjson"), "utf8")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line));
    tasks = lines.find((m) => m.type === "hello").tasks;
    steps = lines.filter((m) => m.type === "step");
    const run = new RunModel("recorded");
    for await (const message of replay(runDir)) run.ingest(message);
    insights = runInsights(run);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("every pair's share is its count of negative cosines over the last 200 steps of the log", () => {
    assert.equal(steps.length, STEPS);
    const last = steps.slice(-INSIGHT_WINDOW);
    assert.equal(insights.steps, INSIGHT_WINDOW);
    const k = tasks.length;
    assert.equal(insights.pairs.length, (k * (k - 1)) / 2);
    for (const pair of insights.pairs) {
      const i = tasks.indexOf(pair.a);
      const j = tasks.indexOf(pair.b);
      const count = last.filter((s) => s.cosines[i * k + j] < 0).length;
      assert.equal(pair.share, count / last.length, `${pair.a}/${pair.b}`);
    }
    // A run whose tasks never conflict would make the comparison above trivially 0 = 0.
    assert.ok(insights.pairs[0].share > 0, "the recorded run has conflicting pairs");
  });

  it("the norm ratio is the largest over the smallest mean norm of the log's last 200 steps", () => {
    const last = steps.slice(-INSIGHT_WINDOW);
    const means = tasks.map((_, t) => last.reduce((sum, s) => sum + s.norms[t], 0) / last.length);
    const largest = means.indexOf(Math.max(...means));
    const smallest = means.indexOf(Math.min(...means));
    assert.ok(insights.norms);
    assert.equal(insights.norms.largest, tasks[largest]);
    assert.equal(insights.norms.smallest, tasks[smallest]);
    assert.ok(Math.abs(insights.norms.ratio / (means[largest] / means[smallest]) - 1) < 1e-9);
  });

  it("the suggestion for the run's equal weighting quotes the log's figures", () => {
    const top = insights.pairs[0];
    if (top.share < 0.3) {
      assert.equal(insights.suggestion, null);
      assert.match(
        insights.noSuggestion ?? "",
        new RegExp(`most: ${top.a} and ${top.b}, ${Math.round(top.share * 100)} %`),
      );
      return;
    }
    assert.ok(insights.suggestion, insights.noSuggestion ?? "");
    assert.match(
      insights.suggestion.reason,
      new RegExp(`^${top.a} and ${top.b} conflict in ${Math.round(top.share * 100)} % of the last 200 steps`),
    );
    assert.equal(insights.suggestion.name, (insights.norms?.ratio ?? 0) >= 3 ? "gradcraft" : "pcgrad");
  });
});
