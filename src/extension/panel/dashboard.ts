import { resolve } from "node:path";
import * as vscode from "vscode";
import { compareSnapshots } from "../../panel/compareSnapshots";
import type { HostToWebview } from "../../panel/messages";
import { saveExport } from "./saveExport";
import { type PanelRun, PanelSession, type SessionHost, setWebviewHtml, webviewOptions } from "./session";
import { type RouterDeps, routeWebviewMessage } from "./webviewRouter";

export const DASHBOARD_VIEW_TYPE = "gradcraft.dashboard";
const OPEN_PANELS_KEY = "gradcraft.openDashboards";

/**
 * The dashboard editor panels: one per run (opening a run twice reveals its panel), a compare
 * panel for several runs, and the serializer that brings panels back on their run after a
 * window reload (from the run folder recorded for each open panel).
 */
export class Dashboards implements vscode.WebviewPanelSerializer, vscode.Disposable {
  private readonly open = new Map<string, OpenPanel>();
  private compare?: { panel: vscode.WebviewPanel; runs: PanelRun[]; refresh: () => void };
  private unrestored?: RememberedPanel[];

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

  /** The open tabs' titles (a test hook). */
  titles(): string[] {
    return [
      ...[...this.open.values()].map((o) => o.panel.title),
      ...(this.compare ? [this.compare.panel.title] : []),
    ];
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
      // A finished run resumed: its tab now follows the live run (the model keeps the history).
      if (existing.session.run !== run) this.rebind(existing, run);
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

  /**
   * Brings a panel saved by the last window back on its run: the one its webview state names
   * (the snapshot's runDir), or, for a panel saved without one, the remembered panel with its tab
   * title. The match is claimed before the first await, so two panels revived together never take
   * the same run.
   */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown): Promise<void> {
    const pending = this.pendingRestores();
    const fromState = runDirFromState(state);
    // By title; failing that (a title changed), the first one still unclaimed.
    const byTitle = Math.max(
      pending.findIndex((p) => p.title === panel.title),
      0,
    );
    const index = fromState !== undefined ? pending.findIndex((p) => p.runDir === fromState) : byTitle;
    const claimed = index >= 0 ? pending.splice(index, 1)[0] : undefined;
    const runDir = fromState ?? claimed?.runDir;
    const run = runDir ? await this.resolve(runDir).catch(() => undefined) : undefined;
    if (!run) {
      this.host.log.warn(`dashboard: could not restore a panel (${runDir ?? "no run recorded"})`);
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(this.context.extensionUri);
    this.bind(panel, run);
  }

  /**
   * The panels the last window saved that are not revived yet: VS Code revives a background tab
   * only when it is shown, so they stay remembered until then.
   */
  private pendingRestores(): RememberedPanel[] {
    this.unrestored ??= readRemembered(this.context.workspaceState.get<unknown>(OPEN_PANELS_KEY));
    return this.unrestored;
  }

  /**
   * One panel for several runs. It goes through the same router as a run's dashboard (exports,
   * save notices, refused commands); its runs are snapshotted whenever the panel asks (first
   * open, reload, settings or theme changed), so a run still live when compared is shown as it
   * is then.
   */
  showCompare(compared: PanelRun[]): void {
    this.compare?.panel.dispose();
    // The panel's runs: a deleted run leaves the list (forgetRun).
    const runs = [...compared];
    const labels = runs.map((r) => r.label);
    const panel = vscode.window.createWebviewPanel(
      `${DASHBOARD_VIEW_TYPE}.compare`,
      compareTitle(runs),
      vscode.ViewColumn.Active,
      webviewOptions(this.context.extensionUri),
    );
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, "media", "gradcraft.svg");
    setWebviewHtml(panel.webview, this.context.extensionUri, "dashboard", "GradCraft: compare runs");
    const post = (message: HostToWebview) => {
      this.host.record?.("out", "dashboard", message);
      void panel.webview.postMessage(message);
    };
    const sendRuns = () =>
      post({ type: "compare", runs: compareSnapshots(runs), settings: this.host.viewSettings() });
    const deps: RouterDeps = {
      runId: runs[0].id,
      runLabel: `compare-${labels.join("-vs-")}`.slice(0, 100),
      canCommand: false,
      commandRefusal: "commands go to one run: open its own dashboard",
      post,
      ready: sendRuns,
      // A comparison belongs to no one run: its exports start beside the workspace.
      save: (bytes, name, kind) => saveExport(bytes, name, kind),
      exportRun: (runId) => this.host.exportRun(runId),
      seriesCsv: (runId, series) => runs.find((r) => r.id === runId)?.model.toCsv(series),
      openDashboard: (runId) => this.host.openDashboard(runId),
      exportReport: () => this.host.exportReport(runs.map((r) => r.id)),
      warn: (reason) => this.host.log.warn(`compare: ${reason}`),
    };
    const subscription = panel.webview.onDidReceiveMessage((raw) => {
      this.host.record?.("in", "dashboard", raw);
      void routeWebviewMessage(raw, deps);
    });
    this.compare = { panel, runs, refresh: sendRuns };
    panel.onDidDispose(() => {
      subscription.dispose();
      if (this.compare?.panel === panel) this.compare = undefined;
    });
  }

  /**
   * A run folder was deleted: its dashboard closes, and the compare panel goes on without it
   * (it closes when fewer than two runs are left to compare).
   */
  forgetRun(runDir: string): void {
    const shows = (run: PanelRun) =>
      run.id === runDir || (run.runDir !== undefined && samePath(run.runDir, runDir));
    for (const { panel, session } of [...this.open.values()]) if (shows(session.run)) panel.dispose();
    if (this.unrestored) this.unrestored = this.unrestored.filter((p) => !samePath(p.runDir, runDir));
    void this.remember();
    const compare = this.compare;
    if (!compare?.runs.some(shows)) return;
    const left = compare.runs.filter((run) => !shows(run));
    if (left.length < 2) {
      compare.panel.dispose();
      return;
    }
    compare.runs.splice(0, compare.runs.length, ...left);
    compare.panel.title = compareTitle(left);
    compare.refresh();
  }

  /**
   * A run's name changed (its identity arrived, or the user renamed it): tabs follow, and panels
   * showing it get a fresh snapshot with the new name. `runDir`: that run's replays re-read it.
   */
  async renamed(runDir?: string): Promise<void> {
    for (const { panel, session } of this.open.values()) {
      if (runDir !== undefined && session.run.runDir === runDir) await session.run.reloadIdentity?.();
      if (panel.title === title(session.run)) continue;
      panel.title = title(session.run);
      session.refresh();
    }
    const compare = this.compare;
    if (!compare) return;
    const before = compare.runs.map((r) => r.label).join("\n");
    for (const run of compare.runs)
      if (runDir !== undefined && run.runDir === runDir) await run.reloadIdentity?.();
    if (
      compare.runs.map((r) => r.label).join("\n") === before &&
      compare.panel.title === compareTitle(compare.runs)
    )
      return;
    compare.panel.title = compareTitle(compare.runs);
    compare.refresh();
  }

  /** Re-sends snapshots (settings changed). */
  refreshAll(): void {
    for (const { session } of this.open.values()) session.refresh();
    this.compare?.refresh();
  }

  /** Moves an open tab onto another run of the same folder (a replay, then its resumed run). */
  private rebind(open: OpenPanel, run: PanelRun): void {
    for (const [id, entry] of this.open) if (entry === open) this.open.delete(id);
    open.session.dispose();
    open.session = new PanelSession(open.panel.webview, run, "dashboard", this.host);
    open.panel.title = title(run);
    this.open.set(run.id, open);
    open.session.refresh();
    void this.remember();
  }

  private bind(panel: vscode.WebviewPanel, run: PanelRun): void {
    panel.title = title(run);
    panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, "media", "gradcraft.svg");
    // The entry's session may be replaced (rebind): the handlers read it when they run.
    const entry = { panel, session: new PanelSession(panel.webview, run, "dashboard", this.host) };
    setWebviewHtml(panel.webview, this.context.extensionUri, "dashboard", title(run));
    this.open.set(run.id, entry);
    void this.remember();
    panel.onDidChangeViewState(({ webviewPanel }) => entry.session.setVisible(webviewPanel.visible));
    panel.onDidDispose(() => {
      entry.session.dispose();
      for (const [id, open] of this.open) if (open === entry) this.open.delete(id);
      void this.remember();
    });
  }

  private remember(): Thenable<void> {
    const open: RememberedPanel[] = [...this.open.values()].flatMap(({ panel, session }) =>
      session.run.runDir ? [{ runDir: session.run.runDir, title: panel.title }] : [],
    );
    return this.context.workspaceState.update(OPEN_PANELS_KEY, [...open, ...this.pendingRestores()]);
  }

  /** A live run learnt its folder (hello): remember it for the serializer. */
  runDirKnown(): void {
    void this.remember();
  }

  dispose(): void {
    for (const { panel } of [...this.open.values()]) panel.dispose();
    this.compare?.panel.dispose();
  }
}

function title(run: PanelRun): string {
  return `GradCraft: ${run.label}`;
}

function compareTitle(runs: readonly PanelRun[]): string {
  return `Compare: ${runs.map((r) => r.label).join(" · ")}`.slice(0, 80);
}

function samePath(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}

/** One open dashboard tab and the session binding it to its run (replaced when the run resumes). */
type OpenPanel = { readonly panel: vscode.WebviewPanel; session: PanelSession };

/** What the serializer keeps for each open dashboard: its run folder and its tab's title. */
type RememberedPanel = { runDir: string; title: string };

/** The remembered panels; a plain list of folders is what earlier versions kept. */
function readRemembered(value: unknown): RememberedPanel[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry === "string") return [{ runDir: entry, title: "" }];
    const e = entry as Partial<RememberedPanel> | null;
    return typeof e?.runDir === "string"
      ? [{ runDir: e.runDir, title: typeof e.title === "string" ? e.title : "" }]
      : [];
  });
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
