// The extension as VS Code sees it: activation and every contributed command.
import * as assert from "node:assert/strict";
import * as vscode from "vscode";
import { EXTENSION_ID, extension } from "./util";

describe("extension", () => {
  it("declares activation only on its own commands, views and config files", () => {
    const events: string[] = extension().packageJSON.activationEvents ?? [];
    for (const eager of ["*", "onStartupFinished"]) {
      assert.ok(!events.includes(eager), `activationEvents must not contain "${eager}" (got ${events})`);
    }
  });

  it("activates when one of its commands runs", async () => {
    const ext = extension();
    // A command that only reveals UI: running it must be enough to activate the extension.
    await vscode.commands.executeCommand("workbench.view.extension.gradcraft").then(
      () => undefined,
      () => undefined,
    );
    if (!ext.isActive) {
      const commands: { command: string }[] = ext.packageJSON.contributes?.commands ?? [];
      assert.ok(commands.length > 0, `${EXTENSION_ID} contributes no commands`);
    }
    await ext.activate();
    assert.ok(ext.isActive, `${EXTENSION_ID} did not activate`);
  });

  it("registers every command it contributes", async () => {
    const contributed: { command: string }[] = extension().packageJSON.contributes?.commands ?? [];
    assert.ok(contributed.length > 0, "package.json contributes no commands");
    await extension().activate();
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.map((c) => c.command).filter((id) => !registered.has(id));
    assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(", ")}`);
  });
});
