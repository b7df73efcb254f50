import type * as vscode from "vscode";
import type { ConfigDiagnostics } from "./config/diagnostics";
import type { ApplyResult } from "./config/liveApply";
import type { ConflictsView } from "./panel/conflictsView";
import type { Dashboards } from "./panel/dashboard";
import type { LiveRun, RunRegistry } from "./runs/liveRun";
import type { RunManager } from "./runs/runManager";
import type { RunsView } from "./runs/runsView";
import type { RunStatusBar } from "./status/statusBar";

/** What the features share; built once in activate, passed to each feature's registrar. */
export interface Services {
  readonly context: vscode.ExtensionContext;
  readonly log: vscode.LogOutputChannel;
  readonly registry: RunRegistry;
  readonly manager: RunManager;
  readonly dashboards: Dashboards;
  readonly conflicts: ConflictsView;
  readonly runsView: RunsView;
  readonly statusBar: RunStatusBar;
  readonly diagnostics: ConfigDiagnostics;
  /** The runs folder now (settings may change). */
  runsFolder(): string;
  /** Shows a run in the dashboard and the conflicts view. */
  showRun(target: LiveRun | string, options?: { preserveFocus?: boolean }): Promise<void>;
  /** Observers of applies (the test API records the last one). */
  onApplied(run: LiveRun, result: ApplyResult): void;
  /** A run folder's run.json changed (rename, tags, note): every view that names the run follows. */
  identityChanged(runDir: string): Promise<void>;
}
