import * as vscode from "vscode";

/**
 * Restricted Mode: a training config names files to read and the trainer is a program to run, so
 * in an untrusted workspace nothing is spawned. Reading configs and finished runs stays available.
 */
export function ensureTrusted(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const manage = "Manage Workspace Trust";
  void vscode.window
    .showWarningMessage(
      `GradCraft: cannot ${action} in Restricted Mode: training runs a program on this workspace's files. Trust the workspace to train.`,
      manage,
    )
    .then((choice) => {
      if (choice === manage) void vscode.commands.executeCommand("workbench.trust.manage");
    });
  return false;
}
