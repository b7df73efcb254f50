// The extension as VS Code sees it: activation and every contributed command.
import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as vscode from "vscode";
import { EXTENSION_ID, extension, waitFor } from "./util";

describe("extension", () => {
  it("declares activation only on its own commands, views and config files", () => {
    const events: string[] = extension().packageJSON.activationEvents ?? [];
    for (const eager of ["*", "onStartupFinished"]) {
      assert.ok(!events.includes(eager), `activationEvents must not contain "${eager}" (got ${events})`);
    }
  });

  it("activates on its own in a workspace that holds a *.gradcraft.json, in under 100 ms", async () => {
    // The sample workspace has tiny.gradcraft.json: no command is run here. (Activation by a
    // command is checked in the untrusted window, whose folder has no config.)
    const ext = extension();
    const events: string[] = ext.packageJSON.activationEvents ?? [];
    assert.ok(
      events.some((e) => e.startsWith("workspaceContains:") && e.includes(".gradcraft.json")),
      `no workspaceContains activation for configs: ${events}`,
    );
    await waitFor(`${EXTENSION_ID} to activate by itself`, () => ext.isActive, { timeoutMs: 30_000 });
    const api = (await ext.activate()) as { activationMs?: number } | undefined;
    assert.ok(api && typeof api.activationMs === "number", "activate() returned no activationMs");
    assert.ok(api.activationMs < 100, `activate() took ${api.activationMs.toFixed(1)} ms (goal: under 100)`);
  });

  it("registers every command it contributes", async () => {
    const contributed: { command: string }[] = extension().packageJSON.contributes?.commands ?? [];
    assert.ok(contributed.length > 0, "package.json contributes no commands");
    await extension().activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(", ")}`);
  });

  it("Delete Run refuses a folder outside the runs folder and leaves it whole, without asking", async () => {
    await extension().activate();
    const outside = mkdtempSync(join(tmpdir(), "gradcraft-not-a-run-"));
    try {
      writeFileSync(join(outside, "events.ndjson"), "");
      // A confirmation dialog would keep the command waiting: the refusal comes before any.
      const deleted = await vscode.commands.executeCommand("gradcraft.deleteRun", outside);
      assert.equal(deleted, false, "Delete Run did not refuse a folder outside the runs folder");
      assert.ok(existsSync(join(outside, "events.ndjson")), "the folder outside the runs folder was touched");
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});
