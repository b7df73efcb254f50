import { basename } from "node:path";
import * as vscode from "vscode";
import { parseWebviewMessage } from "./messages";
import type { RunSnapshot } from "./model";
import { type PanelRun, PanelSession, type SessionHost, setWebviewHtml, webviewOptions } from "./session";

export const DASHBOARD_VIEW_TYPE = "gradcraft.dashboard";
const OPEN_PANELS_KEY = "gradcraft.openDashboards";

/**
 * The dashboard editor panels: one per run (opening a run twice reveals its panel), a compare
 * panel for several runs, and the serializer that brings panels back on their run after a
 * window reload (from the run folder recorded for each open panel).
 */
export class Dashboards implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly open = new Map<string, { panel: vscode.WebviewPanel; session: PanelSession }>();
  private compare?: vscode.WebviewPanel;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly host: SessionHost,
    /** Resolves a run folder to the live run writing it, or its replay. */
    private readonly resolve: (runDir: string) => Promise<PanelRun | undefined>,
  ) {}

  /**
   * The open dashboards by run: each panel's run id (a live run's id, or a finished run's folder)
   * and, once known, its run folder. A test hook and the serializer's memory.
   */
  openRunIds(): string[] {
    const ids = new Set<string>();
    for (const [id, { session }] of this.open) {
      ids.add(id);
      if (session.run.runDir) ids.add(session.run.runDir);
    }
    return [...ids];
  }

  session(runId: string): PanelSession | undefined {
    return this.open.get(runId)?.session;
  }

  show(run: PanelRun, preserveFocus = false): vscode.WebviewPanel {
    // A finished live run and its replay are the same run: one panel.
    const existing =
      this.open.get(run.id) ??
      (run.runDir ? [...this.open.values()].find((o) => o.session.run.runDir === run.runDir) : undefined);
    if (existing) {
      existing.panel.reveal(undefined, preserveFocus);
      return existing.panel;
    }
    const panel = vscode.window.createWebviewPanel(
      DASHBOARD_VIEW_TYPE,
      title(run),
      { viewColumn: vscode.ViewColumn.Active, preserveFocus },
      { ...webviewOptions(this.context.extensionUri), retainContextWhenHidden: false },
    );
    this.bind(panel, run);
    return panel;
  }

  /** A live run's panel moves on to the run folder once the trainer announced it. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const remembered = this.context.workspaceState.get<string[]>(OPEN_PANELS_KEY, []);
    const claimed = new Set([...this.open.values()].map((o) => o.session.run.runDir));
    const runDir = runDirFromState(state) ?? remembered.find((dir) => !claimed.has(dir));
    const run = runDir ? await this.resolve(runDir).catch(() => undefined) : undefined;
    if (!run) {
      this.host.log.warn(`dashboard: could not restore a panel (${runDir ?? "no run recorded"})`);
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(this.context.extensionUri);
    this.bind(panel, run);
  }

  showCompare(runs: PanelRun[]): void {
    // Runs of one config share a name: the legend tells them apart by their folder.
    const names = runs.map((r) => r.label);
    const snapshots: RunSnapshot[] = runs.map((r, i) => {
      const snapshot = r.model.toSnapshot();
      const twin = names.filter((n) => n === r.label).length > 1;
      return twin ? { ...snapshot, label: r.runDir ? basename(r.runDir) : `${r.label} #${i + 1}` } : snapshot;
    });
    this.compare?.dispose();
    const panel = vscode.window.createWebviewPanel(
      `${DASHBOARD_VIEW_TYPE}.compare`,
      `Compare: ${runs.map((r) => r.label).join(" · ")}`.slice(0, 80),
      vscode.ViewColumn.Active,
      webviewOptions(this.context.extensionUri),
    );
    this.compare = panel;
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, "media", "gradcraft.svg");
    setWebviewHtml(panel.webview, this.context.extensionUri, "dashboard", "GradCraft: compare runs");
    const subscription = panel.webview.onDidReceiveMessage((raw) => {
      const parsed = parseWebviewMessage(raw);
      if (!parsed.ok) {
        this.host.log.warn(`compare: ${parsed.reason}`);
        return;
      }
      if (parsed.message.type === "ready") {
        const message = { type: "compare" as const, runs: snapshots, settings: this.host.viewSettings() };
        this.host.record?.("out", "dashboard", message);
        void panel.webview.postMessage(message);
      } else if (parsed.message.type === "export-csv" && parsed.message.csv !== undefined) {
        const csv = parsed.message.csv;
        void vscode.window.showSaveDialog({ filters: { CSV: ["csv"] } }).then((uri) => {
          if (uri) void vscode.workspace.fs.writeFile(uri, Buffer.from(csv, "utf8"));
        });
      }
    });
    panel.onDidDispose(() => {
      subscription.dispose();
      if (this.compare === panel) this.compare = undefined;
    });
  }

  /** Re-sends snapshots (settings changed). */
  refreshAll(): void {
    for (const { session } of this.open.values()) session.refresh();
  }

  private bind(panel: vscode.WebviewPanel, run: PanelRun): void {
    panel.title = title(run);
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, "media", "gradcraft.svg");
    const session = new PanelSession(panel.webview, run, "dashboard", this.host);
    setWebviewHtml(panel.webview, this.context.extensionUri, "dashboard", title(run));
    this.open.set(run.id, { panel, session });
    void this.remember();
    panel.onDidChangeViewState(({ webviewPanel }) => session.setVisible(webviewPanel.visible));
    panel.onDidDispose(() => {
      session.dispose();
      if (this.open.get(run.id)?.panel === panel) this.open.delete(run.id);
      void this.remember();
    });
  }

  private remember(): Thenable<void> {
    const dirs = [...this.open.values()].map((o) => o.session.run.runDir).filter((d): d is string => !!d);
    return this.context.workspaceState.update(OPEN_PANELS_KEY, dirs);
  }

  /** A live run learnt its folder (hello): remember it for the serializer. */
  runDirKnown(): void {
    void this.remember();
  }

  dispose(): void {
    for (const { panel } of [...this.open.values()]) panel.dispose();
    this.compare?.dispose();
  }
}

function title(run: PanelRun): string {
  return `GradCraft: ${run.label}`;
}

/** The webview may persist its run's folder (or a snapshot with a runId that is one). */
function runDirFromState(state: unknown): string | undefined {
  if (typeof state !== "object" || state === null) return undefined;
  const s = state as Record<string, unknown>;
  if (typeof s.runDir === "string") return s.runDir;
  const run = s.run as Record<string, unknown> | undefined;
  if (run && typeof run.runDir === "string") return run.runDir;
  return undefined;
}
