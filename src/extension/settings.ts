import * as vscode from "vscode";
import { resolveRunsFolder } from "./runs/runsFolder";
import type { TrainerSettings } from "./runs/spawn";

/** Every `gradcraft.*` setting, read fresh each time (the user may change them at any moment). */
export interface Settings {
  readonly trainer: TrainerSettings;
  readonly runsFolderSetting: string;
  readonly maxPointsPerSeries: number;
  readonly openDashboardOnStart: boolean;
  readonly applyOnSave: boolean;
  readonly stopTimeoutMs: number;
  readonly commandTimeoutMs: number;
  /** Hosts besides this machine that a run's link.json may name for attaching. */
  readonly attachAllowedHosts: readonly string[];
}

export function readSettings(scope?: vscode.Uri): Settings {
  const config = vscode.workspace.getConfiguration("gradcraft", scope);
  return {
    trainer: {
      nodePath: config.get<string>("trainer.nodePath", ""),
      command: config.get<string[]>("trainer.command", []),
      backend: config.get<string>("trainer.backend", "config"),
      listen: config.get<boolean>("trainer.listen", false),
      extraArgs: config.get<string[]>("trainer.extraArgs", []),
      python: config.get<string>("trainer.python", ""),
    },
    runsFolderSetting: config.get<string>("runsFolder", ""),
    maxPointsPerSeries: clamp(config.get<number>("dashboard.maxPointsPerSeries", 2000), 100, 100_000),
    openDashboardOnStart: config.get<boolean>("dashboard.openOnStart", true),
    applyOnSave: config.get<boolean>("applyOnSave", true),
    stopTimeoutMs: clamp(config.get<number>("stopTimeoutSeconds", 20), 1, 600) * 1000,
    commandTimeoutMs: clamp(config.get<number>("commandTimeoutSeconds", 60), 1, 3600) * 1000,
    attachAllowedHosts: config.get<string[]>("attach.allowedHosts", []),
  };
}

/**
 * Where run folders live: the setting (relative to the first workspace folder), else
 * `.gradcraft/runs` in the first workspace folder, else the extension's global storage.
 */
export function runsFolder(context: vscode.ExtensionContext, settings: Settings = readSettings()): string {
  return resolveRunsFolder(
    settings.runsFolderSetting,
    vscode.workspace.workspaceFolders?.[0]?.uri.fsPath,
    context.globalStorageUri.fsPath,
  );
}

function clamp(value: number, min: number, max: number): number {
  return Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : min;
}
