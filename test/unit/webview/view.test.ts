import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { restoreView } from "../../../webview/view";

describe("the panel's view state", () => {
  it("a new panel starts on the defaults, on the surface its page was made for", () => {
    const view = restoreView(undefined, "conflicts");
    assert.equal(view.surface, "conflicts");
    assert.deepEqual(view.hiddenTasks, []);
    assert.equal(view.xMode, "step");
    assert.equal(view.heatmapWindow, 0);
    assert.equal(view.heatmapRun, "all");
    assert.equal(view.evalSplit, "validation");
    assert.deepEqual(view.pending, {});
  });

  it("a reloaded panel keeps what the user set and the commands it waits for", () => {
    const saved = {
      surface: "dashboard",
      hiddenTasks: ["like"],
      smoothing: 0.6,
      xMode: "time",
      runDir: "/runs/a",
      pending: { "wv-1": { control: "pause", sentAt: 5 } },
    };
    const view = restoreView(JSON.parse(JSON.stringify(saved)), undefined);
    assert.equal(view.surface, "dashboard");
    assert.deepEqual(view.hiddenTasks, ["like"]);
    assert.equal(view.smoothing, 0.6);
    assert.equal(view.xMode, "time");
    assert.equal(view.runDir, "/runs/a");
    assert.deepEqual(view.pending, saved.pending);
    assert.equal(restoreView(saved, "conflicts").surface, "conflicts", "the page's surface wins");
  });
});
