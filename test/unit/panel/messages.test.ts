import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PanelFeed } from "../../../src/extension/panel/feed";
import { type HostToWebview, parseWebviewMessage, toHostCommand } from "../../../src/panel/messages";
import { RunModel } from "../../../src/panel/runModel";
import { seriesName } from "../../../src/panel/snapshot";
import { PROTOCOL_VERSION, type TrainerMessage } from "../../../src/protocol/messages";
import { checkValue } from "../../../webview/forms";
import { fakeRun, mulberry32 } from "../../webview/fakeRun";

/**
 * A feed on a fake timer and clock. `confirm`: the panel answers `applied` to everything at once
 * (else the test calls `feed.applied()` itself).
 */
function manualFeed({ confirm = true } = {}) {
  const posted: HostToWebview[] = [];
  let timer: { run: () => void; ms: number } | null = null;
  const clock = { now: 0 };
  const feed: PanelFeed = new PanelFeed(
    new RunModel("r"),
    (m) => {
      posted.push(m);
      if (confirm) feed.applied();
    },
    {
      setTimer: (run, ms) => {
        timer = { run, ms };
        return 1;
      },
      clearTimer: () => {
        timer = null;
      },
      now: () => clock.now,
    },
  );
  /** Runs the pending timer, the clock moved on by its delay. */
  const tick = () => {
    const due = timer;
    timer = null;
    if (!due) return;
    clock.now += due.ms;
    due.run();
  };
  return { feed, posted, tick, clock };
}

/** What the webview does: a mirror from the snapshot, each delta's patch applied (through JSON, as postMessage copies). */
function mirrorOf(posted: HostToWebview[]): RunModel {
  const messages = JSON.parse(JSON.stringify(posted)) as HostToWebview[];
  let mirror: RunModel | null = null;
  for (const m of messages) {
    if (m.type === "snapshot") mirror = RunModel.fromSnapshot(m.run);
    else if (m.type === "delta") mirror?.applyPatch(m.patch);
  }
  assert.ok(mirror, "no snapshot was posted");
  return mirror;
}

const sizeOf = (message: HostToWebview) => JSON.stringify(message).length;

describe("PanelFeed", () => {
  it("sends a snapshot on ready, then what changed since as one delta per tick", () => {
    const { feed, posted, tick } = manualFeed();
    const stream = [...fakeRun({ tasks: ["a", "b"], steps: 30 })];
    for (const m of stream.slice(0, 10)) feed.push(m);
    assert.equal(posted.length, 0, "nothing before the panel is ready");
    feed.ready();
    assert.equal(posted.length, 1);
    assert.equal(posted[0].type, "snapshot");
    for (const m of stream.slice(10)) feed.push(m);
    assert.equal(posted.length, 1, "batched until the timer fires");
    tick();
    assert.equal(posted.length, 2);
    const delta = posted[1];
    assert.ok(delta.type === "delta");
    assert.equal(delta.patch.step, 30);
    assert.deepEqual(mirrorOf(posted).toSnapshot(), feed.model.toSnapshot());
    tick();
    assert.equal(posted.length, 2, "no change, no delta");
  });

  it("a mirror fed the snapshot and the deltas equals the host's model, merges and switches included", () => {
    const { feed, posted, tick } = manualFeed();
    feed.model.applySettings({ maxPoints: 40, heatmapWindowMax: 7, maxEvals: 5, maxMarkers: 3 });
    const stream = [
      ...fakeRun({
        tasks: ["a", "b", "c"],
        steps: 3000,
        evalEvery: 70,
        switches: { 200: { name: "ew", params: {} }, 900: { name: "pcgrad", params: { seed: 1 } } },
      }),
    ];
    for (const m of stream.slice(0, 150)) feed.push(m);
    feed.ready();
    // Flushes at uneven intervals (seeded), from every message to hundreds of steps apart.
    const random = mulberry32(3);
    for (const m of stream.slice(150)) {
      feed.push(m);
      if (random() < 0.02) {
        tick();
        if (random() < 0.1) assert.deepEqual(mirrorOf(posted).toSnapshot(), feed.model.toSnapshot());
      }
    }
    tick();
    assert.deepEqual(mirrorOf(posted).toSnapshot(), feed.model.toSnapshot());
  });

  it("10,000 steps in a burst arrive as one delta no bigger than the history it patches, every step's extremes in it", () => {
    const { feed, posted, tick } = manualFeed();
    const stream = [...fakeRun({ tasks: ["a", "b", "c", "d", "e", "f"], steps: 12_000, spikeAt: 7_777 })];
    const firstBurst = stream.findIndex((m) => m.type === "step" && m.step === 2000);
    for (const m of stream.slice(0, firstBurst + 1)) feed.push(m);
    feed.ready();
    for (const m of stream.slice(firstBurst + 1)) feed.push(m);
    tick();
    assert.deepEqual(
      posted.map((m) => m.type),
      ["snapshot", "delta"],
    );
    const delta = posted[1];
    assert.ok(delta.type === "delta");
    assert.equal(delta.patch.step, 12_000);
    // Bounded by the kept history (a snapshot's worth), not by the 10,000 steps behind it.
    assert.ok(
      sizeOf(delta) < JSON.stringify(feed.model.toSnapshot()).length,
      `delta of ${sizeOf(delta)} characters`,
    );
    const mirror = mirrorOf(posted);
    assert.deepEqual(mirror.toSnapshot(), feed.model.toSnapshot());
    // The spike sent mid-burst survives in the panel's history with its exact step.
    const spike = mirror.series
      .get("loss/a")
      ?.points()
      .find((p) => p.y === 50);
    assert.equal(spike?.x, 7_777);
  });

  it("a steady run's deltas stay small: a merge of the history costs no resend of it", () => {
    const { feed, posted, tick } = manualFeed();
    feed.ready();
    let steps = 0;
    for (const m of fakeRun({ tasks: ["a", "b"], steps: 20_000, evalEvery: 1_000_000 })) {
      feed.push(m);
      if (m.type === "step" && ++steps % 100 === 0) tick();
    }
    const deltas = posted.filter((m) => m.type === "delta");
    assert.equal(deltas.length, 200);
    // The buckets merged 5 times over this run (2000 points kept): the mirror merged its own,
    // so a delta across a merge is no bigger than the one before it.
    const merging = deltas.flatMap((m, i) =>
      Object.values(m.patch.series).some((tail) => tail.merged > 0) ? [i] : [],
    );
    assert.equal(merging.length, 5);
    for (const i of merging)
      assert.ok(
        sizeOf(deltas[i]) <= 1.2 * sizeOf(deltas[i - 1]),
        `delta ${i}: ${sizeOf(deltas[i])} characters, the one before ${sizeOf(deltas[i - 1])}`,
      );
    assert.deepEqual(mirrorOf(posted).toSnapshot(), feed.model.toSnapshot());
  });

  it("a strategy switch, an evaluation and the end of the run reach the panel in the very next delta", () => {
    const { feed, posted, tick } = manualFeed();
    const stream = [...fakeRun({ tasks: ["a", "b"], steps: 5000, evalEvery: 5000 })];
    feed.ready();
    for (const m of stream) feed.push(m);
    feed.push({
      v: PROTOCOL_VERSION,
      type: "strategy-changed",
      step: 5000,
      name: "ew",
      params: {},
      previous: { name: "gradcraft", params: { tau: 1, epsilon: 0 } },
      reason: "command",
    });
    feed.push({ v: PROTOCOL_VERSION, type: "ack", id: "c1", command: "stop", ok: true, step: 5000 });
    feed.push({
      v: PROTOCOL_VERSION,
      type: "done",
      reason: "stopped",
      summary: { steps: 5000, wallMs: 200_000, splits: {} },
    });
    tick();
    assert.equal(posted.length, 2);
    const delta = posted[1];
    assert.ok(delta.type === "delta");
    assert.equal(delta.patch.state, "stopped");
    assert.equal(delta.patch.strategy?.name, "ew");
    assert.equal(delta.patch.evals?.at(-1)?.step, 5000);
    assert.ok(delta.patch.markers?.some((m) => m.kind === "strategy" && m.step === 5000));
    assert.deepEqual(
      delta.acks.map((a) => a.id),
      ["c1"],
    );
  });

  it("with two deltas unconfirmed the next waits for the panel's applied, then carries everything since", () => {
    const { feed, posted, tick } = manualFeed({ confirm: false });
    const stream = [...fakeRun({ tasks: ["a", "b"], steps: 3000 })];
    feed.ready();
    for (const m of stream.slice(0, 1000)) feed.push(m);
    tick();
    assert.deepEqual(
      posted.map((m) => m.type),
      ["snapshot", "delta"],
    );
    for (const m of stream.slice(1000, 2000)) feed.push(m);
    tick();
    assert.equal(posted.length, 2, "snapshot and delta unconfirmed: nothing more behind them");
    feed.applied();
    tick();
    assert.equal(posted.length, 3);
    const delta = posted[2];
    assert.ok(delta.type === "delta" && delta.patch.step === feed.model.step);
    assert.deepEqual(mirrorOf(posted).toSnapshot(), feed.model.toSnapshot());
  });

  it("a panel that never answers still gets a delta every appliedTimeoutMs", () => {
    const { feed, posted, tick, clock } = manualFeed({ confirm: false });
    const stream = [...fakeRun({ tasks: ["a"], steps: 200 })];
    feed.ready();
    for (const m of stream.slice(0, 100)) feed.push(m);
    tick();
    assert.equal(posted.length, 2);
    const start = clock.now;
    for (const m of stream.slice(100)) feed.push(m);
    tick();
    assert.equal(posted.length, 2, "the flush interval is not the timeout");
    tick();
    assert.equal(posted.length, 3);
    assert.ok(clock.now - start >= 1900, `sent after ${clock.now - start} ms`);
  });

  it("a reloaded panel gets its snapshot at once, unconfirmed deltas or not", () => {
    const { feed, posted, tick } = manualFeed({ confirm: false });
    feed.ready();
    for (const m of fakeRun({ tasks: ["a"], steps: 100 })) feed.push(m);
    tick();
    feed.ready();
    assert.deepEqual(posted.map((m) => m.type).slice(-1), ["snapshot"]);
    const last = posted.at(-1);
    assert.ok(last?.type === "snapshot" && last.run.step === 100);
  });

  it("a hidden panel receives nothing until it is ready again", () => {
    const { feed, posted, tick } = manualFeed();
    feed.ready();
    feed.setVisible(false);
    for (const m of fakeRun({ tasks: ["a"], steps: 20 })) feed.push(m);
    tick();
    assert.equal(posted.length, 1);
    feed.ready();
    assert.equal(posted.length, 2);
    assert.equal(posted[1].type, "snapshot");
  });

  it("a panel shown again gets what changed while it was hidden in one delta", () => {
    const { feed, posted, tick } = manualFeed();
    const stream = [...fakeRun({ tasks: ["a", "b"], steps: 3000 })];
    for (const m of stream.slice(0, 500)) feed.push(m);
    feed.ready();
    feed.setVisible(false);
    for (const m of stream.slice(500)) feed.push(m);
    tick();
    assert.equal(posted.length, 1);
    feed.setVisible(true);
    tick();
    assert.deepEqual(
      posted.map((m) => m.type),
      ["snapshot", "delta"],
    );
    assert.deepEqual(mirrorOf(posted).toSnapshot(), feed.model.toSnapshot());
  });

  it("a resumed trainer's redone steps replace the ones after its checkpoint: the panel gets a snapshot, steps never go backwards", () => {
    const { feed, posted, tick } = manualFeed();
    const tasks = ["a", "b"];
    const CHECKPOINT = 100;
    // Session 1 reached step 150 (a switch at 120) and was killed; its last checkpoint is step 100.
    const first = [
      ...fakeRun({
        tasks,
        steps: 150,
        evalEvery: 25,
        seed: 1,
        switches: { 120: { name: "pcgrad", params: { seed: 0 } } },
      }),
    ];
    // Session 2 starts from the checkpoint: hello with resumedFrom, then steps 101.. again.
    const second = [...fakeRun({ tasks, steps: 150, evalEvery: 25, seed: 2 })].flatMap(
      (m): TrainerMessage[] => {
        if (m.type === "hello") return [{ ...m, resumedFrom: { runDir: "/runs/r", step: CHECKPOINT } }];
        return (m.type === "step" || m.type === "eval") && m.step <= CHECKPOINT ? [] : [m];
      },
    );
    for (const m of first) feed.push(m);
    feed.ready();
    const before = posted.length;
    for (const m of second) {
      feed.push(m);
      tick();
    }
    const snapshots = posted.slice(before).filter((m) => m.type === "snapshot");
    assert.equal(snapshots.length, 1, "one snapshot, when the resumed hello came");
    const mirror = mirrorOf(posted);
    assert.deepEqual(mirror.toSnapshot(), feed.model.toSnapshot());

    const loss = mirror.series.get(seriesName.loss("a"))?.points() ?? [];
    assert.deepEqual(
      loss.map((p) => p.x),
      Array.from({ length: 150 }, (_, i) => i + 1),
      "each step once, in order",
    );
    const lossAt = (stream: TrainerMessage[], step: number) =>
      (stream.find((m) => m.type === "step" && m.step === step) as { losses: number[] }).losses[0];
    assert.equal(loss[99].y, lossAt(first, 100), "up to the checkpoint: the first session's");
    assert.equal(loss[129].y, lossAt(second, 130), "after it: the resumed session's");
    assert.deepEqual(
      mirror.markers.map((m) => m.step),
      [],
      "the first session's switch at 120 was superseded",
    );
    assert.deepEqual(
      mirror.evals.map((e) => e.step),
      [25, 50, 75, 100, 125, 150],
    );
    const meanAucs = [...first, ...second]
      .filter((m) => m.type === "eval")
      .filter((m, i, all) => all.findLastIndex((n) => n.step === m.step) === i)
      .map((m) => ({ step: m.step, value: (m as { mean: { auc: number } }).mean.auc }));
    const best = meanAucs.reduce((a, b) => (b.value > a.value ? b : a));
    assert.deepEqual(mirror.best[seriesName.evalMean("validation", "auc")], best);
    assert.equal(mirror.latestEval[seriesName.evalMean("validation", "auc")], meanAucs.at(-1)?.value);
  });
});

describe("messages from the webview", () => {
  it("accepts a valid command and turns it into the protocol's command", () => {
    const parsed = parseWebviewMessage({
      type: "command",
      id: "wv-1",
      command: { type: "set-strategy", name: "gradcraft", params: { tau: 0.5 } },
    });
    assert.ok(parsed.ok && parsed.message.type === "command");
    const command = toHostCommand(parsed.message);
    assert.ok(command.ok);
    assert.equal(command.message.type, "set-strategy");
    assert.equal(command.message.id, "wv-1");
  });

  it("refuses what the protocol refuses, saying where", () => {
    const outOfRange = parseWebviewMessage({
      type: "command",
      id: "wv-2",
      command: { type: "set-hyperparameters", learningRate: 5 },
    });
    assert.ok(outOfRange.ok && outOfRange.message.type === "command");
    const refused = toHostCommand(outOfRange.message);
    assert.ok(!refused.ok);
    assert.match(refused.reason, /learningRate/);
    const unknown = parseWebviewMessage({ type: "command", id: "x", command: { type: "format-disk" } });
    assert.ok(!unknown.ok);
    assert.match(unknown.reason, /command\.type/);
    const notPng = parseWebviewMessage({ type: "export-png", chart: "loss", dataUrl: "javascript:alert(1)" });
    assert.ok(!notPng.ok);
    assert.match(notPng.reason, /dataUrl: expected a base64 PNG data URL/);
  });
});

describe("strategy form checks (from the parameter JSON Schema)", () => {
  const tau = { type: "number", minimum: 0, maximum: 1 };
  it("parses numbers within range", () => {
    assert.deepEqual(checkValue("tau", "0.25", tau), { ok: true, value: 0.25 });
  });
  it("says why a value is refused", () => {
    assert.deepEqual(checkValue("tau", "2", tau), { ok: false, error: "tau must be at most 1" });
    assert.deepEqual(checkValue("tau", "", tau), { ok: false, error: "tau needs a value" });
    assert.deepEqual(checkValue("tau", "abc", tau), { ok: false, error: "tau must be a number" });
    assert.deepEqual(checkValue("seed", "1.5", { type: "integer" }), {
      ok: false,
      error: "seed must be a whole number",
    });
    assert.deepEqual(checkValue("lr", "0", { type: "number", exclusiveMinimum: 0 }), {
      ok: false,
      error: "lr must be greater than 0",
    });
  });
  it("reads enums, booleans and zod's nullable wrappers", () => {
    assert.deepEqual(checkValue("mode", "b", { enum: ["a", "b"] }), { ok: true, value: "b" });
    assert.deepEqual(checkValue("flag", true, { type: "boolean" }), { ok: true, value: true });
    assert.deepEqual(checkValue("x", "3", { anyOf: [{ type: "integer", maximum: 2 }, { type: "null" }] }), {
      ok: false,
      error: "x must be at most 2",
    });
  });
  it("takes lists as JSON and leaves an empty one unset (PCGrad's recorded orders)", () => {
    const orders = { type: "array", items: { type: "array", items: { type: "integer" } } };
    assert.deepEqual(checkValue("orders", "", orders), { ok: true, value: undefined });
    assert.deepEqual(checkValue("orders", "[[1, 0], [0, 1]]", orders), {
      ok: true,
      value: [
        [1, 0],
        [0, 1],
      ],
    });
    assert.deepEqual(checkValue("orders", "[[1, 0]", orders), {
      ok: false,
      error: "orders must be JSON (e.g. [[0, 1], [1, 0]]), or empty",
    });
  });
});
