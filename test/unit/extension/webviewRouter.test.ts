import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type RouterDeps, routeWebviewMessage } from "../../../src/extension/panel/webviewRouter";
import type { CommandBody } from "../../../src/extension/runs/connection";
import type { HostToWebview } from "../../../src/panel/messages";

function harness(overrides: Partial<RouterDeps> = {}) {
  const posted: HostToWebview[] = [];
  const sent: CommandBody[] = [];
  const warnings: string[] = [];
  const saved: Array<{ name: string; kind: string; bytes: Uint8Array }> = [];
  let readyCalls = 0;
  const deps: RouterDeps = {
    runId: "live-1",
    runLabel: "tiny",
    canCommand: true,
    send: async (body) => {
      sent.push(body);
      return { v: "1.0", type: "ack", id: "vscode-1", ok: true, step: 12, result: { done: true } };
    },
    post: (m) => posted.push(m),
    ready: () => {
      readyCalls++;
    },
    save: async (bytes, name, kind) => {
      saved.push({ bytes, name, kind });
      return `/runs/r1/${name}`;
    },
    exportRun: async () => undefined,
    seriesCsv: () => "series,step,time_ms,value\n",
    openDashboard: async () => undefined,
    exportReport: async () => "/work/tiny-report.html",
    warn: (reason) => warnings.push(reason),
    ...overrides,
  };
  return { deps, posted, sent, warnings, saved, readyCalls: () => readyCalls };
}

describe("messages from a webview", () => {
  it("anything malformed is logged and never acted on", async () => {
    const h = harness();
    for (const raw of [
      null,
      "pause",
      { type: "command" },
      { type: "rm -rf" },
      { type: "command", id: "", command: { type: "stop" } },
    ]) {
      assert.equal(await routeWebviewMessage(raw, h.deps), "ignored");
    }
    assert.deepEqual(h.sent, []);
    assert.deepEqual(h.posted, []);
    assert.equal(h.warnings.length, 5);
  });

  it("a valid command reaches the trainer without the panel's id, and the ack comes back under that id", async () => {
    const h = harness();
    const raw = {
      type: "command",
      id: "panel-7",
      command: { type: "set-hyperparameters", learningRate: 0.002 },
    };
    assert.equal(await routeWebviewMessage(raw, h.deps), "sent");
    assert.deepEqual(h.sent, [{ type: "set-hyperparameters", learningRate: 0.002 }]);
    assert.deepEqual(h.posted, [
      { type: "ack", id: "panel-7", ok: true, step: 12, result: { done: true }, error: undefined },
    ]);
  });

  it("Stop goes the palette's way when the host offers it (command, then signals); other commands and an attached run's Stop are plain", async () => {
    const stops: string[] = [];
    const h = harness({
      stop: () => {
        stops.push("stop");
        return Promise.resolve({ v: "1.0", type: "ack", id: "vscode-9", ok: true, step: 40 });
      },
    });
    const stop = { type: "command", id: "panel-1", command: { type: "stop" } };
    assert.equal(await routeWebviewMessage(stop, h.deps), "sent");
    assert.deepEqual(stops, ["stop"]);
    assert.deepEqual(h.sent, [], "not sent a second time as a plain command");
    assert.equal((h.posted[0] as Extract<HostToWebview, { type: "ack" }>).step, 40);
    await routeWebviewMessage({ type: "command", id: "panel-2", command: { type: "pause" } }, h.deps);
    assert.deepEqual(h.sent, [{ type: "pause" }]);
    assert.deepEqual(stops, ["stop"]);

    const attached = harness({ stop: () => undefined });
    assert.equal(await routeWebviewMessage(stop, attached.deps), "sent");
    assert.deepEqual(attached.sent, [{ type: "stop" }]);
  });

  it("an out-of-range value is refused by the protocol's schema before the trainer sees it", async () => {
    const h = harness();
    const raw = { type: "command", id: "p1", command: { type: "set-hyperparameters", learningRate: 5 } };
    assert.equal(await routeWebviewMessage(raw, h.deps), "refused");
    assert.deepEqual(h.sent, []);
    const ack = h.posted[0] as Extract<HostToWebview, { type: "ack" }>;
    assert.equal(ack.ok, false);
    assert.match(ack.error ?? "", /learningRate/);
  });

  it("commands to a finished run are refused in place", async () => {
    const h = harness({ canCommand: false });
    const raw = { type: "command", id: "p2", command: { type: "pause" } };
    assert.equal(await routeWebviewMessage(raw, h.deps), "refused");
    assert.match((h.posted[0] as { error?: string }).error ?? "", /tiny is not a live run/);
  });

  it("a link that fails answers the panel with the reason", async () => {
    const h = harness({
      send: async () => {
        throw new Error("the trainer has exited");
      },
    });
    assert.equal(
      await routeWebviewMessage({ type: "command", id: "p3", command: { type: "checkpoint" } }, h.deps),
      "failed",
    );
    assert.deepEqual(h.posted, [{ type: "ack", id: "p3", ok: false, error: "the trainer has exited" }]);
  });

  it("ready asks for a snapshot; a PNG export is decoded to its bytes; a bad data URL is refused", async () => {
    const h = harness();
    assert.equal(await routeWebviewMessage({ type: "ready" }, h.deps), "ready");
    assert.equal(h.readyCalls(), 1);
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47]);
    const raw = {
      type: "export-png",
      chart: "loss",
      dataUrl: `data:image/png;base64,${png.toString("base64")}`,
    };
    assert.equal(await routeWebviewMessage(raw, h.deps), "saved");
    assert.deepEqual([...h.saved[0].bytes], [...png]);
    assert.equal(h.saved[0].name, "tiny-loss.png");
    const script = { type: "export-png", chart: "x", dataUrl: "javascript:alert(1)" };
    assert.equal(await routeWebviewMessage(script, h.deps), "ignored");
  });

  it("a chart's CSV button exports that chart's series; Export all CSV, the whole run", async () => {
    const exported: string[] = [];
    const asked: Array<{ runId: string; series: string[] }> = [];
    const h = harness({
      exportRun: async (runId) => {
        exported.push(runId);
      },
      seriesCsv: (runId, series) => {
        asked.push({ runId, series });
        return `series,step,time_ms,value\n${series.map((s) => `${s},1,10,0.5`).join("\n")}\n`;
      },
    });
    const chart = {
      type: "export-csv",
      runId: "live-1",
      series: ["loss/a", "loss/b"],
      suggestedName: "loss",
    };
    assert.equal(await routeWebviewMessage(chart, h.deps), "saved");
    assert.deepEqual(asked, [{ runId: "live-1", series: ["loss/a", "loss/b"] }]);
    assert.deepEqual(exported, [], "not the whole run");
    assert.equal(h.saved[0].name, "tiny-loss.csv");
    assert.equal(
      Buffer.from(h.saved[0].bytes).toString("utf8"),
      "series,step,time_ms,value\nloss/a,1,10,0.5\nloss/b,1,10,0.5\n",
    );
    assert.deepEqual(h.posted, [{ type: "notice", level: "info", text: "Saved /runs/r1/tiny-loss.csv" }]);

    assert.equal(await routeWebviewMessage({ type: "export-csv", runId: "live-1" }, h.deps), "exported");
    assert.deepEqual(exported, ["live-1"]);
  });

  it("a chart export for a run the panel does not show is refused and logged", async () => {
    const h = harness({ seriesCsv: () => undefined });
    const raw = { type: "export-csv", runId: "elsewhere", series: ["loss/a"], suggestedName: "loss" };
    assert.equal(await routeWebviewMessage(raw, h.deps), "ignored");
    assert.deepEqual(h.saved, []);
    assert.match(h.warnings[0] ?? "", /elsewhere/);
  });

  it("a saved export is answered with where it went; a cancelled dialog with nothing", async () => {
    const h = harness();
    const raw = { type: "export-csv", csv: "run,series\n", suggestedName: "loss" };
    assert.equal(await routeWebviewMessage(raw, h.deps), "saved");
    assert.deepEqual(h.posted, [{ type: "notice", level: "info", text: "Saved /runs/r1/loss" }]);
    const cancelled = harness({ save: async () => undefined });
    assert.equal(await routeWebviewMessage(raw, cancelled.deps), "cancelled");
    assert.deepEqual(cancelled.posted, []);
  });

  it("a failed save tells the panel which file and why", async () => {
    const h = harness({
      save: async () => {
        throw new Error("/readonly/x.png: EACCES: permission denied");
      },
    });
    const png = `data:image/png;base64,${Buffer.from([1, 2, 3]).toString("base64")}`;
    assert.equal(
      await routeWebviewMessage({ type: "export-png", chart: "heatmap", dataUrl: png }, h.deps),
      "failed",
    );
    assert.deepEqual(h.posted, [
      {
        type: "notice",
        level: "error",
        text: "Could not save tiny-heatmap.png: /readonly/x.png: EACCES: permission denied",
      },
    ]);
  });

  it("Export report writes the panel's runs and says where the file went, or why not", async () => {
    let asked = 0;
    const h = harness({
      exportReport: async () => {
        asked++;
        return "/work/tiny-report.html";
      },
    });
    assert.equal(await routeWebviewMessage({ type: "export-report" }, h.deps), "saved");
    assert.equal(asked, 1);
    assert.deepEqual(h.posted, [{ type: "notice", level: "info", text: "Saved /work/tiny-report.html" }]);
    const failing = harness({
      exportReport: async () => {
        throw new Error("/work/x.html: EROFS: read-only file system");
      },
    });
    assert.equal(await routeWebviewMessage({ type: "export-report" }, failing.deps), "failed");
    assert.deepEqual(failing.posted, [
      {
        type: "notice",
        level: "error",
        text: "Could not save tiny report: /work/x.html: EROFS: read-only file system",
      },
    ]);
    // A path the panel adds is not taken: where the report goes is the user's choice, in the host.
    let given: unknown[] = [];
    const extra = harness({
      exportReport: async (...args: unknown[]) => {
        given = args;
        return "/work/tiny-report.html";
      },
    });
    assert.equal(await routeWebviewMessage({ type: "export-report", path: "/etc/x" }, extra.deps), "saved");
    assert.deepEqual(given, []);
  });

  it("a panel of several runs refuses commands with its own reason", async () => {
    const h = harness({
      canCommand: false,
      send: undefined,
      commandRefusal: "open a run's own dashboard to steer it",
    });
    const raw = { type: "command", id: "p9", command: { type: "stop" } };
    assert.equal(await routeWebviewMessage(raw, h.deps), "refused");
    assert.deepEqual(h.posted, [
      { type: "ack", id: "p9", ok: false, error: "open a run's own dashboard to steer it" },
    ]);
  });
});
