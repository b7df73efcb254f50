import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareSnapshots } from "../../../src/panel/compareSnapshots";
import { RunModel } from "../../../src/panel/runModel";
import { fakeRun } from "../../webview/fakeRun";

function finishedRun(label: string, seed: number, runDir?: string) {
  const model = new RunModel(runDir ?? label, label);
  for (const m of fakeRun({ tasks: ["a", "b"], steps: 20, seed, evalEvery: 10 })) model.ingest(m);
  return { label, runDir, model };
}

describe("compare snapshots", () => {
  it("keep each run's own label and figures, in the order picked", () => {
    const runs = [finishedRun("gradcraft", 1), finishedRun("pcgrad", 2)];
    const snapshots = compareSnapshots(runs);
    assert.deepEqual(
      snapshots.map((s) => s.label),
      ["gradcraft", "pcgrad"],
    );
    assert.deepEqual(snapshots[1].latestEval, runs[1].model.latestEval);
    assert.notDeepEqual(
      snapshots[0].latestEval,
      snapshots[1].latestEval,
      "different seeds, different figures",
    );
  });

  it("runs of one config are told apart by their folder, else by their place", () => {
    const snapshots = compareSnapshots([
      finishedRun("quick", 1, "/w/.gradcraft/runs/2026-01-01T10-00-00-quick/"),
      finishedRun("quick", 2, "C:\\w\\runs\\2026-01-02T09-00-00-quick"),
      finishedRun("quick", 3),
      finishedRun("other", 4, "/w/runs/other"),
    ]);
    assert.deepEqual(
      snapshots.map((s) => s.label),
      ["2026-01-01T10-00-00-quick", "2026-01-02T09-00-00-quick", "quick #3", "other"],
    );
  });
});
