import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CommandMessage } from "../../../src/panel/messages";
import { ANSWER_TIMEOUT_MS, type CommandRecord, Commands, isLive } from "../../../webview/commands";

/** Commands on a fake clock, posting into a list, the record kept in a plain object. */
function desk(runId: string | undefined = "run-1") {
  const record: CommandRecord = { pending: {}, results: {} };
  const posted: CommandMessage[] = [];
  const clock = { now: 1_000_000 };
  let saves = 0;
  let changes = 0;
  const commands = new Commands({
    record,
    runId: () => runId,
    post: (message) => posted.push(message),
    persist: () => saves++,
    now: () => clock.now,
    changed: () => changes++,
  });
  return { commands, record, posted, clock, saves: () => saves, changes: () => changes };
}

describe("the panel's run commands", () => {
  it("a command waits for the trainer, then shows the step it took effect at", () => {
    const { commands, posted, changes } = desk();
    commands.send("pause", { type: "pause" });
    assert.equal(posted.length, 1);
    assert.deepEqual(
      { ...posted[0], id: "" },
      { type: "command", id: "", runId: "run-1", command: { type: "pause" } },
    );
    assert.ok(commands.isPending("pause"));
    assert.deepEqual(commands.result("pause"), { text: "waiting for the trainer…", level: "pending" });
    commands.resolve({ id: posted[0].id, ok: true, step: 612 });
    assert.equal(commands.isPending("pause"), false);
    assert.deepEqual(commands.result("pause"), { text: "paused at step 612", level: "ok" });
    assert.equal(changes(), 2, "the buttons are told at the send and at the answer");
  });

  it("a second press while the first command waits sends nothing", () => {
    const { commands, posted } = desk();
    commands.send("set-strategy", { type: "set-strategy", name: "pcgrad", params: {} });
    commands.send("set-strategy", { type: "set-strategy", name: "mgda", params: {} });
    assert.equal(posted.length, 1);
    commands.send("checkpoint", { type: "checkpoint" });
    assert.equal(posted.length, 2, "another control is not held back");
    assert.notEqual(posted[0].id, posted[1].id);
  });

  it("a refusal shows the trainer's reason; an answer to a command of another panel changes nothing", () => {
    const { commands, posted } = desk();
    commands.send("set-strategy", { type: "set-strategy", name: "gradcraft", params: { tau: 5 } });
    commands.resolve({ id: "someone-else", ok: true, step: 3 });
    assert.ok(commands.isPending("set-strategy"));
    commands.resolve({ id: posted[0].id, ok: false, step: 3, error: "unknown parameter" });
    assert.deepEqual(commands.result("set-strategy"), { text: "unknown parameter", level: "error" });
    commands.send("stop", { type: "stop" });
    commands.resolve({ id: posted[1].id, ok: false });
    assert.deepEqual(commands.result("stop"), { text: "refused", level: "error" });
  });

  it("a form the panel refuses shows why and sends nothing", () => {
    const { commands, posted, saves } = desk();
    commands.refuse("set-hyperparameters", "Nothing changed.");
    assert.equal(posted.length, 0);
    assert.deepEqual(commands.result("set-hyperparameters"), { text: "Nothing changed.", level: "error" });
    assert.equal(saves(), 1, "kept across a reload like any result");
  });

  it("after a minute without an answer the panel stops waiting and says so", () => {
    const { commands, clock } = desk();
    commands.send("evaluate", { type: "evaluate", split: "validation" });
    clock.now += ANSWER_TIMEOUT_MS - 1;
    commands.expireStale();
    assert.ok(commands.isPending("evaluate"), "not yet");
    clock.now += 1;
    commands.expireStale();
    assert.equal(commands.isPending("evaluate"), false);
    assert.match(commands.result("evaluate")?.text ?? "", /no answer seen/);
    assert.equal(commands.result("evaluate")?.level, "error");
  });

  it("a finished run forgets what its controls said", () => {
    const { commands, record } = desk();
    commands.send("pause", { type: "pause" });
    commands.forget();
    assert.deepEqual(record, { pending: {}, results: {} });
    assert.equal(commands.isPending("pause"), false);
  });

  it("only a starting, running or paused run takes commands", () => {
    const live = ["starting", "running", "paused"] as const;
    const finished = ["stopped", "done", "error"] as const;
    for (const state of live) assert.ok(isLive({ state }), state);
    for (const state of finished) assert.equal(isLive({ state }), false, state);
  });
});
