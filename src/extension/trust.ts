import * as vscode from "vscode";

/**
 * Restricted Mode: a training config names files to read and the trainer is a program to run, and
 * a run folder's link.json decides where attaching sends the run's token, so in an untrusted
 * workspace nothing is spawned or attached. Reading configs and finished runs stays available.
 */
export function ensureTrusted(action: string, why: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = "Manage Workspace Trust";
  void vscode.window
    .showWarningMessage(
      `GradCraft: cannot ${action} in Restricted Mode: ${why}. Trust the workspace to ${action}.`,
      manage,
    )
    .then((choice) => {
      if (choice === manage) void vscode.commands.executeCommand("workbench.trust.manage");
    });
  return false;
}
