import { chmod, mkdir, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import * as vscode from "vscode";
import { cliLauncher } from "../cliLauncher";
import { readSettings } from "../settings";

/** GradCraft: Open Terminal with the gradcraft CLI (the launcher: cliLauncher.ts). */
export function registerTerminalCommand(context: vscode.ExtensionContext): vscode.Disposable {
  return vscode.commands.registerCommand("gradcraft.openTerminal", async () => {
    const bin = join(context.globalStorageUri.fsPath, "bin");
    const nodePath = readSettings().trainer.nodePath.trim();
    const launcher = cliLauncher(
      { command: nodePath || process.execPath, electronAsNode: !nodePath },
      vscode.Uri.joinPath(context.extensionUri, "dist", "cli.js").fsPath,
    );
    try {
      await mkdir(bin, { recursive: true });
      const file = join(bin, launcher.fileName);
      await writeFile(file, launcher.text);
      await chmod(file, 0o755);
    } catch (error) {
      void vscode.window.showErrorMessage(
        `GradCraft: cannot write the CLI launcher in ${bin}: ${(error as Error).message}`,
      );
      return undefined;
    }
    const collection = context.environmentVariableCollection;
    collection.description = "Puts the gradcraft CLI bundled with GradCraft Studio on PATH.";
    collection.prepend("PATH", `${bin}${delimiter}`);
    const terminal = vscode.window.createTerminal({
      name: "gradcraft",
      cwd: vscode.workspace.workspaceFolders?.[0]?.uri,
      message:
        "gradcraft is on this terminal's PATH: try gradcraft --help, or gradcraft train --preset quick --listen.",
    });
    terminal.show();
    return terminal;
  });
}
