import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { AUTO_SAVE_IDLE_MS, SaveApplier, saveDecision } from "../../../src/extension/config/saveApply";

function recorder() {
  const calls: string[] = [];
  const applier = new SaveApplier({
    apply: (key, text, auto) => calls.push(`apply ${key} ${text}${auto ? " (auto)" : ""}`),
    noteInvalid: (key, reason) => calls.push(`note ${key}: ${reason}`),
  });
  return { calls, applier };
}

describe("apply on save", () => {
  it("applies an explicit save at once, and only notes an invalid one", () => {
    assert.equal(saveDecision("explicit", true), "apply");
    assert.equal(saveDecision("explicit", false), "note-invalid");
    assert.equal(saveDecision("auto", true), "apply-when-idle");
    assert.equal(saveDecision("auto", false), "ignore");
    const { calls, applier } = recorder();
    applier.saved("a", "explicit", "lr=2");
    applier.saved("a", "explicit", "lr=", "not valid JSON");
    assert.deepEqual(calls, ["apply a lr=2", "note a: not valid JSON"]);
  });

  it("applies a learning rate typed slowly under auto-save once, as its final value", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { calls, applier } = recorder();
    // "0." (invalid JSON), "0" (too small), "0.004" then "0.0045": each auto-saved as typed.
    applier.saved("a", "auto", '"lr": 0.', "not valid JSON");
    applier.changed("a");
    applier.saved("a", "auto", '"lr": 0', "Too small: expected >0");
    applier.changed("a");
    applier.saved("a", "auto", '"lr": 0.004');
    t.mock.timers.tick(AUTO_SAVE_IDLE_MS / 2);
    applier.changed("a"); // still typing: the 0.004 is not final
    applier.saved("a", "auto", '"lr": 0.0045');
    t.mock.timers.tick(AUTO_SAVE_IDLE_MS - 1);
    assert.deepEqual(calls, [], "nothing applied or reported while typing");
    t.mock.timers.tick(1);
    assert.deepEqual(calls, ['apply a "lr": 0.0045 (auto)']);
  });

  it("keeps documents apart, and an explicit save replaces a pending auto-save", (t) => {
    t.mock.timers.enable({ apis: ["setTimeout"] });
    const { calls, applier } = recorder();
    applier.saved("a", "auto", "a1");
    applier.saved("b", "auto", "b1");
    applier.changed("a");
    t.mock.timers.tick(AUTO_SAVE_IDLE_MS);
    assert.deepEqual(calls, ["apply b b1 (auto)"]);
    applier.saved("a", "auto", "a2");
    applier.saved("a", "explicit", "a3");
    t.mock.timers.tick(AUTO_SAVE_IDLE_MS);
    assert.deepEqual(calls, ["apply b b1 (auto)", "apply a a3"]);
  });

  it("forgets pending applies when disposed", () => {
    mock.timers.enable({ apis: ["setTimeout"] });
    try {
      const { calls, applier } = recorder();
      applier.saved("a", "auto", "a1");
      applier.dispose();
      mock.timers.tick(AUTO_SAVE_IDLE_MS);
      assert.deepEqual(calls, []);
    } finally {
      mock.timers.reset();
    }
  });
});
