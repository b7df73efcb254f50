import * as vscode from "vscode";
import type { LiveRun } from "../runs/liveRun";
import type { ApplyResult } from "./apply";

export { type ApplyResult, applyConfigToRun } from "./apply";

export function showApplyResult(run: LiveRun, result: ApplyResult): void {
  const text = `GradCraft (${run.label}): ${result.text}`;
  if (result.level === "error") void vscode.window.showErrorMessage(text);
  else if (result.level === "warning") {
    const restart = "Restart Run";
    void vscode.window.showWarningMessage(text, restart).then((choice) => {
      if (choice === restart && run.configPath)
        void vscode.commands.executeCommand("gradcraft.restartRun", run.id, vscode.Uri.file(run.configPath));
    });
  } else void vscode.window.showInformationMessage(text);
}
