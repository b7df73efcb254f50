import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  type HostToWebview,
  PanelFeed,
  parseWebviewMessage,
  toHostCommand,
} from "../../../src/extension/panel/messages";
import { RunModel } from "../../../src/extension/panel/model";
import { checkValue } from "../../../webview/forms";
import { fakeRun } from "../../webview/fakeRun";

function manualFeed(options: { maxPendingSteps?: number } = {}) {
  const posted: HostToWebview[] = [];
  let timer: (() => void) | null = null;
  const feed = new PanelFeed(new RunModel("r"), (m) => posted.push(m), {
    ...options,
    setTimer: (callback) => {
      timer = callback;
      return 1;
    },
    clearTimer: () => {
      timer = null;
    },
  });
  const tick = () => {
    const run = timer;
    timer = null;
    run?.();
  };
  return { feed, posted, tick };
}

describe("PanelFeed", () => {
  it("sends a snapshot on ready, then the messages since as one batched delta per tick", () => {
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
    assert.deepEqual(delta.messages, stream.slice(10));
  });

  it("a mirror fed the snapshot and the deltas equals the host's model", () => {
    const { feed, posted, tick } = manualFeed();
    const stream = [
      ...fakeRun({ tasks: ["a", "b", "c"], steps: 400, switches: { 200: { name: "ew", params: {} } } }),
    ];
    for (const m of stream.slice(0, 150)) feed.push(m);
    feed.ready();
    for (const [i, m] of stream.slice(150).entries()) {
      feed.push(m);
      if (i % 37 === 0) tick();
    }
    tick();
    const messages = JSON.parse(JSON.stringify(posted)) as HostToWebview[];
    assert.ok(messages[0].type === "snapshot");
    const mirror = RunModel.fromSnapshot(messages[0].run);
    for (const m of messages.slice(1)) if (m.type === "delta") for (const t of m.messages) mirror.ingest(t);
    assert.deepEqual(mirror.toSnapshot(), feed.model.toSnapshot());
  });

  it("replaces a backlog beyond its bound with a fresh snapshot", () => {
    const { feed, posted, tick } = manualFeed({ maxPendingSteps: 50 });
    feed.ready();
    for (const m of fakeRun({ tasks: ["a"], steps: 500 })) feed.push(m);
    tick();
    assert.deepEqual(
      posted.map((m) => m.type),
      ["snapshot", "snapshot"],
    );
    const last = posted[1];
    assert.ok(last.type === "snapshot" && last.run.step === 500);
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
