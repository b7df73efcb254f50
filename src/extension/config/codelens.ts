import * as vscode from "vscode";
import type { RunRegistry } from "../runs/liveRun";

/** "Train" on every config; while its run is live, "Apply to running run" and "Dashboard" too. */
export class ConfigCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: { dispose(): void };
  private liveConfigs = "";

  constructor(private readonly registry: RunRegistry) {
    // Only a change in which configs have a live run changes the lenses (not every step).
    this.subscription = registry.onDidChange(() => {
      const key = registry
        .live()
        .map((r) => r.configPath ?? "")
        .sort()
        .join("\n");
      if (key === this.liveConfigs) return;
      this.liveConfigs = key;
      this.changed.fire();
    });
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const top = new vscode.Range(0, 0, 0, 0);
    const run = this.registry.forConfig(document.uri.fsPath);
    if (!run) {
      return [
        new vscode.CodeLens(top, {
          title: "$(play) Train",
          command: "gradcraft.startTraining",
          arguments: [document.uri],
        }),
      ];
    }
    return [
      new vscode.CodeLens(top, {
        title: `$(sync) Apply to running run (${run.label}, step ${run.step})`,
        command: "gradcraft.applyConfig",
        arguments: [document.uri],
      }),
      new vscode.CodeLens(top, {
        title: "$(graph-line) Dashboard",
        command: "gradcraft.openDashboard",
        arguments: [run.id],
      }),
      new vscode.CodeLens(top, {
        title: "$(debug-stop) Stop",
        command: "gradcraft.stop",
        arguments: [run.id],
      }),
    ];
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
