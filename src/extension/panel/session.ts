import * as vscode from "vscode";
import type { HostToWebview, Surface, ViewSettings } from "../../panel/messages";
import type { RunModel } from "../../panel/runModel";
import type { AckMessage, TrainerMessage } from "../../protocol/messages";
import type { CommandBody } from "../runs/connection";
import { PanelFeed } from "./feed";
import { renderWebviewHtml } from "./html";
import { saveExport } from "./saveExport";
import { routeWebviewMessage } from "./webviewRouter";

/** What a panel shows: a live run (LiveRun) or a finished one read from its event log. */
export interface PanelRun {
  readonly id: string;
  readonly label: string;
  readonly model: RunModel;
  readonly runDir?: string;
  readonly canCommand?: boolean;
  onDidMessage?(listener: (message: TrainerMessage) => void): { dispose(): void };
  /** Re-reads the run's name, tags and note from its folder (after a rename). */
  reloadIdentity?(): Promise<void>;
  send?(command: CommandBody, timeoutMs?: number): Promise<AckMessage>;
}

export interface SessionHost {
  readonly extensionUri: vscode.Uri;
  readonly log: vscode.LogOutputChannel;
  viewSettings(): ViewSettings;
  commandTimeoutMs(): number;
  /** export-csv without a CSV from the panel: the host writes every series. */
  exportRun(runId: string): Promise<void>;
  openDashboard(runId: string | undefined): Promise<void>;
  /**
   * The panel's Stop of a run this window started: the same stop as the palette's (the command,
   * then signals if the trainer does not end), answered with the command's ack. Undefined: send
   * the plain stop command (an attached run).
   */
  stop?(runId: string): Promise<AckMessage> | undefined;
  /** Writes these runs (ids or folders) as one HTML report; resolves to where it went. */
  exportReport(runIds: string[]): Promise<string | undefined>;
  /** Test hook: every message the host posted to a webview, and what it received. */
  record?(direction: "in" | "out", surface: Surface, message: unknown): void;
}

/** Options every GradCraft webview gets: scripts on, resources only from dist/ and media/. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    enableCommandUris: false,
    localResourceRoots: [
      vscode.Uri.joinPath(extensionUri, "dist"),
      vscode.Uri.joinPath(extensionUri, "media"),
    ],
  };
}

/**
 * The panel bundle: the shipped one, or where a test suite asks for it (GRADCRAFT_PANEL_HOOKS=1)
 * its twin with read-only test hooks, which the package leaves out (scripts/bundles.mjs).
 */
function panelScript(): string {
  return process.env.GRADCRAFT_PANEL_HOOKS === "1" ? "webview.test.js" : "webview.js";
}

export function setWebviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  surface: Surface,
  title: string,
): void {
  webview.html = renderWebviewHtml({
    cspSource: webview.cspSource,
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", panelScript())).toString(),
    surface,
    title,
  });
}

/**
 * Binds one webview to one run: the host sends a decimated snapshot when the webview says it is
 * ready (first open, reload, shown again) and deltas after, one at a time (PanelFeed); everything the webview posts
 * is validated (src/panel/messages.ts) before anything acts on it.
 */
export class PanelSession implements vscode.Disposable {
  private readonly feed: PanelFeed;
  private readonly disposables: vscode.Disposable[] = [];
  private disposed = false;

  constructor(
    private readonly webview: vscode.Webview,
    readonly run: PanelRun,
    private readonly surface: Surface,
    private readonly host: SessionHost,
  ) {
    this.feed = new PanelFeed(
      run.model,
      (message) =>
        this.post(message.type === "snapshot" && run.runDir ? { ...message, runDir: run.runDir } : message),
      {},
      surface,
    );
    const subscription = run.onDidMessage?.((message) => this.feed.push(message, false));
    if (subscription) this.disposables.push(subscription);
    this.disposables.push(webview.onDidReceiveMessage((raw) => void this.receive(raw)));
  }

  setVisible(visible: boolean): void {
    this.feed.setVisible(visible);
  }

  /** Sends a fresh snapshot now (settings changed, or the surface was re-shown). */
  refresh(): void {
    this.feed.ready(this.host.viewSettings());
  }

  post(message: HostToWebview): void {
    if (this.disposed) return;
    this.host.record?.("out", this.surface, message);
    void this.webview.postMessage(message);
  }

  private async receive(raw: unknown): Promise<void> {
    // Confirmations are flow control, one per delta: the record is of what the panel asked.
    if ((raw as { type?: unknown } | null)?.type !== "applied") this.host.record?.("in", this.surface, raw);
    await routeWebviewMessage(raw, {
      runId: this.run.id,
      runLabel: this.run.label,
      send: this.run.send ? (body) => this.run.send!(body, this.host.commandTimeoutMs()) : undefined,
      stop: this.host.stop ? () => this.host.stop!(this.run.id) : undefined,
      canCommand: this.run.canCommand ?? false,
      post: (message) => this.post(message),
      ready: () => this.feed.ready(this.host.viewSettings()),
      applied: () => this.feed.applied(),
      save: (bytes, name, kind) => saveExport(bytes, name, kind, this.run.runDir),
      exportRun: (runId) => this.host.exportRun(runId),
      seriesCsv: (runId, series) => (runId === this.run.id ? this.run.model.toCsv(series) : undefined),
      openDashboard: (runId) => this.host.openDashboard(runId),
      exportReport: () => this.host.exportReport([this.run.id]),
      // Never act on what was not understood; say so in the log.
      warn: (reason) => this.host.log.warn(`${this.surface}: ${reason}`),
    });
  }

  dispose(): void {
    this.disposed = true;
    this.feed.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
