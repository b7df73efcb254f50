import * as vscode from "vscode";
import type { RunRegistry } from "../runs/liveRun";

/** How often the lens's step number follows a live run (a step is many times a second). */
export const LENS_REFRESH_MS = 1000;

/** "Train" on every config; while its run is live, "Apply to running run" and "Dashboard" too. */
export class ConfigCodeLens implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private readonly subscription: { dispose(): void };
  private liveConfigs = "";
  private timer?: NodeJS.Timeout;

  constructor(private readonly registry: RunRegistry) {
    // A config gaining or losing its live run (or the run its name) redraws the lenses at once;
    // a new step, at most once a second, so the step shown stays current.
    this.subscription = registry.onDidChange(() => {
      const withConfig = registry.live().filter((r) => r.configPath !== undefined);
      const key = withConfig
        .map((r) => `${r.configPath}\t${r.label}`)
        .sort()
        .join("\n");
      if (key !== this.liveConfigs) {
        this.liveConfigs = key;
        this.fire();
      } else if (withConfig.length > 0) {
        this.timer ??= setTimeout(() => this.fire(), LENS_REFRESH_MS);
      }
    });
  }

  private fire(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.changed.fire();
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
    clearTimeout(this.timer);
    this.subscription.dispose();
    this.changed.dispose();
  }
}
