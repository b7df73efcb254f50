// Restricted mode: an untrusted folder (code-server started with workspace trust on, by
// test/vscode/run.mjs --only restricted). Nothing may be spawned there. The window opens a folder
// without any *.gradcraft.json, so the extension is not activated at startup either: that is where
// "activates on its commands" is observable.
import * as assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as vscode from "vscode";
import { TrainerLink } from "../../../src/protocol/link/trainerLink";
import { extension, trainerProcesses, UNTRUSTED_WINDOW, workspaceFolder } from "./util";

describe(`${UNTRUSTED_WINDOW} activation`, () => {
  it("is not active at startup in a folder without configs, and one of its commands activates it", async () => {
    const ext = extension();
    assert.equal(ext.isActive, false, "activated before any of its commands, views or configs was used");
    await vscode.commands.executeCommand("gradcraft.refreshRuns");
    assert.equal(ext.isActive, true, "running gradcraft.refreshRuns did not activate the extension");
  });
});

describe(`${UNTRUSTED_WINDOW} restricted mode`, () => {
  it("runs in an untrusted workspace", () => {
    assert.equal(
      vscode.workspace.isTrusted,
      false,
      "the test window's folder is trusted: restricted mode is not tested",
    );
  });

  /** Runs Start Training on `config` and watches for 3 s that `spawned()` stays empty. */
  async function startNothing(config: string, spawned: () => string[]): Promise<void> {
    // Not awaited: the command may wait on the notification that explains restricted mode.
    const command = vscode.commands.executeCommand("gradcraft.startTraining", vscode.Uri.file(config));
    let failure: unknown;
    command.then(undefined, (error) => {
      failure = error;
    });
    // Absence cannot be waited for: look for a while, in small steps, for anything appearing.
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      assert.deepEqual(spawned(), [], "restricted mode spawned a trainer");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const folder = workspaceFolder().uri.fsPath;
    assert.equal(
      existsSync(join(folder, ".gradcraft")),
      false,
      "a run folder was created in restricted mode",
    );
    assert.equal(failure, undefined, `Start Training threw in restricted mode: ${failure}`);
  }

  it("Start Training on a config spawns no trainer and creates no run folder", async () => {
    const config = join(workspaceFolder().uri.fsPath, "restricted.gradcraft.json");
    writeFileSync(config, JSON.stringify({ name: "restricted", training: { maxSteps: 5 } }));
    const before = trainerProcesses();
    await startNothing(config, () =>
      trainerProcesses()
        .filter((p) => !before.some((b) => b.pid === p.pid))
        .map((p) => p.cmdline),
    );
  });

  it("nor on a config that names its own trainer (a PyTorch script's command)", async () => {
    const folder = workspaceFolder().uri.fsPath;
    // A command whose one effect is a file: had it been spawned, the file would exist.
    const marker = join(folder, "spawned-in-restricted-mode");
    const config = join(folder, "restricted-pytorch.gradcraft.json");
    writeFileSync(
      config,
      JSON.stringify({ name: "restricted-pytorch", trainer: { command: ["touch", marker] } }),
    );
    await startNothing(config, () => (existsSync(marker) ? [marker] : []));
  });

  it("Attach connects to no trainer, not even a listening one on this machine", async () => {
    const runDir = mkdtempSync(join(tmpdir(), "gradcraft-restricted-attach-"));
    // A trainer's end of the link, in this process, listening on the run folder's socket.
    const trainer = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      const attached: number[] = [];
      trainer.onAttach(({ clientId }) => attached.push(clientId));
      // The command returns once it has attached (or declined to): a connection would have
      // completed its handshake, and so shown here, by then.
      const result = await vscode.commands.executeCommand("gradcraft.attach", runDir);
      assert.equal(result, undefined, `Attach returned ${JSON.stringify(result)} in restricted mode`);
      assert.deepEqual(attached, [], "a client attached to the trainer in restricted mode");
    } finally {
      await trainer.close();
      rmSync(runDir, { recursive: true, force: true });
    }
  });
});
