import * as vscode from "vscode";
import { hyperData } from "../../panel/hyperView";
import type { RunRow } from "../../panel/runRows";
import {
  type HostToRunsPage,
  type RunAction,
  RunsPageToHost,
  type RunsSection,
  refuseAction,
} from "../../panel/runsMessages";
import { renderWebviewHtml } from "../panel/html";
import { RunRowsLoader } from "./runRowsLoader";

export const RUNS_TABLE_VIEW_TYPE = "gradcraft.runsTable";

export interface RunsTableHost {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  runsFolder(): string;
  /** Fires when the runs folder may have changed (the Runs view's rescans). */
  readonly onRunsChanged: vscode.Event<unknown>;
  /** Records panel traffic for the test API (tests only). */
  record?(direction: "in" | "out", message: unknown): void;
}

/** The webview's commands for each action: the Runs view's own, so both behave alike. */
const COMMANDS: Record<RunAction, string> = {
  open: "gradcraft.openDashboard",
  compare: "gradcraft.compareRuns",
  export: "gradcraft.exportRun",
  delete: "gradcraft.deleteRun",
};

/**
 * The runs table and hyperparameter view (docs/dashboard.md): one editor panel with its own
 * webview app (dist/runs.js), fed rows computed here from the run folders. Rows are sent again
 * when the runs folder changes (at most every 2 s) while the panel is visible.
 */
export class RunsTablePanel implements vscode.Disposable {
  private panel?: vscode.WebviewPanel;
  private readonly loader = new RunRowsLoader();
  private rows: readonly RunRow[] = [];
  private pendingFocus?: RunsSection;
  private refreshTimer?: NodeJS.Timeout;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(private readonly host: RunsTableHost) {
    this.subscriptions.push(host.onRunsChanged(() => this.scheduleRefresh()));
  }

  /** Opens (or reveals) the panel, at the section asked for. */
  show(section: RunsSection = "table"): void {
    if (this.panel) {
      this.panel.reveal();
      this.post({ type: "focus", section });
      return;
    }
    const panel = vscode.window.createWebviewPanel(
      RUNS_TABLE_VIEW_TYPE,
      "GradCraft: Runs",
      vscode.ViewColumn.Active,
      {
        enableScripts: true,
        enableCommandUris: false,
        retainContextWhenHidden: true,
        localResourceRoots: [vscode.Uri.joinPath(this.host.extensionUri, "dist")],
      },
    );
    panel.iconPath = vscode.Uri.joinPath(this.host.extensionUri, "media", "gradcraft.svg");
    panel.webview.html = renderWebviewHtml({
      cspSource: panel.webview.cspSource,
      scriptUri: panel.webview
        .asWebviewUri(vscode.Uri.joinPath(this.host.extensionUri, "dist", "runs.js"))
        .toString(),
      surface: "runs",
      title: "GradCraft: Runs",
    });
    this.pendingFocus = section;
    panel.webview.onDidReceiveMessage((raw) => void this.receive(raw), undefined, this.subscriptions);
    panel.onDidChangeViewState(() => {
      if (panel.visible) this.scheduleRefresh();
    });
    panel.onDidDispose(() => {
      this.panel = undefined;
      clearTimeout(this.refreshTimer);
      this.refreshTimer = undefined;
    });
    this.panel = panel;
  }

  get visible(): boolean {
    return this.panel?.visible ?? false;
  }

  /** The rows last sent (test API). */
  shownRows(): readonly RunRow[] {
    return this.rows;
  }

  private async receive(raw: unknown): Promise<void> {
    this.host.record?.("in", raw);
    const parsed = RunsPageToHost.safeParse(raw);
    if (!parsed.success) {
      this.host.log.warn(`runs table: refused a message from the panel: ${parsed.error.issues[0]?.message}`);
      return;
    }
    const message = parsed.data;
    if (message.type === "ready" || message.type === "refresh") {
      await this.refresh();
      if (message.type === "ready" && this.pendingFocus)
        this.post({ type: "focus", section: this.pendingFocus });
      this.pendingFocus = undefined;
      return;
    }
    await this.act(message.action, message.ids);
  }

  private async act(action: RunAction, ids: readonly string[]): Promise<void> {
    const refusal = refuseAction(action, ids, new Set(this.rows.map((r) => r.id)));
    if (refusal) {
      this.post({ type: "notice", level: "error", text: refusal });
      return;
    }
    try {
      if (action === "compare") await vscode.commands.executeCommand(COMMANDS.compare, [...ids]);
      else if (action === "delete") {
        let deleted = 0;
        for (const id of ids) {
          // Each asks for confirmation (the Runs view's command); stop at the first "no".
          if (!(await vscode.commands.executeCommand<boolean>(COMMANDS.delete, id))) break;
          deleted++;
        }
        this.post({ type: "notice", level: "info", text: `Deleted ${deleted} of ${ids.length} run(s).` });
        await this.refresh();
      } else await vscode.commands.executeCommand(COMMANDS[action], ids[0]);
    } catch (error) {
      this.post({ type: "notice", level: "error", text: `Could not ${action}: ${(error as Error).message}` });
    }
  }

  private scheduleRefresh(): void {
    if (!this.panel?.visible || this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      void this.refresh();
    }, 2000);
  }

  private async refresh(): Promise<void> {
    if (!this.panel) return;
    const runsFolder = this.host.runsFolder();
    try {
      this.rows = await this.loader.rows(runsFolder);
    } catch (error) {
      this.host.log.warn(`runs table: cannot read ${runsFolder}: ${(error as Error).message}`);
      this.rows = [];
    }
    this.post({ type: "runs", rows: this.rows, hyper: hyperData(this.rows), runsFolder });
  }

  private post(message: HostToRunsPage): void {
    this.host.record?.("out", message);
    void this.panel?.webview.postMessage(message);
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    this.panel?.dispose();
    for (const s of this.subscriptions) s.dispose();
  }
}
