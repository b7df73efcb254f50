import * as vscode from "vscode";
import type { AckMessage, TrainerMessage } from "../../protocol/messages";
import type { CommandBody } from "../runs/connection";
import { renderWebviewHtml } from "./html";
import {
  type HostToWebview,
  PanelFeed,
  parseWebviewMessage,
  type Surface,
  toHostCommand,
  type ViewSettings,
  type WebviewToHost,
} from "./messages";
import type { RunModel } from "./model";

/** What a panel shows: a live run (LiveRun) or a finished one read from its event log. */
export interface PanelRun {
  readonly id: string;
  readonly label: string;
  readonly model: RunModel;
  readonly runDir?: string;
  readonly canCommand?: boolean;
  onDidMessage?(listener: (message: TrainerMessage) => void): { dispose(): void };
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

export function setWebviewHtml(
  webview: vscode.Webview,
  extensionUri: vscode.Uri,
  surface: Surface,
  title: string,
): void {
  webview.html = renderWebviewHtml({
    cspSource: webview.cspSource,
    scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, "dist", "webview.js")).toString(),
    surface,
    title,
  });
}

/**
 * Binds one webview to one run: the host sends a decimated snapshot when the webview says it is
 * ready (first open, reload, shown again) and batched deltas after; everything the webview posts
 * is validated (panel/messages.ts) before anything acts on it.
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
    this.feed = new PanelFeed(run.model, (message) => this.post(message), {}, surface);
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
    this.host.record?.("in", this.surface, raw);
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      // Never act on what was not understood; say so once in the log.
      this.host.log.warn(`${this.surface}: ${parsed.reason}`);
      return;
    }
    await this.act(parsed.message);
  }

  private async act(message: WebviewToHost): Promise<void> {
    switch (message.type) {
      case "ready":
        this.feed.ready(this.host.viewSettings());
        return;
      case "command": {
        const command = toHostCommand(message);
        if (!command.ok) {
          this.post({ type: "ack", id: message.id, ok: false, error: command.reason });
          return;
        }
        if (!this.run.send || !this.run.canCommand) {
          this.post({ type: "ack", id: message.id, ok: false, error: `${this.run.label} is not a live run` });
          return;
        }
        const { v: _v, id: _id, ...body } = command.message;
        try {
          const ack = await this.run.send(body as CommandBody, this.host.commandTimeoutMs());
          this.post({
            type: "ack",
            id: message.id,
            ok: ack.ok,
            step: ack.step,
            result: ack.result,
            error: ack.error,
          });
        } catch (error) {
          this.post({ type: "ack", id: message.id, ok: false, error: errorText(error) });
        }
        return;
      }
      case "export-csv":
        if (message.csv !== undefined)
          await this.saveText(message.csv, message.suggestedName ?? `${this.run.label}.csv`);
        else await this.host.exportRun(message.runId ?? this.run.id);
        return;
      case "export-png": {
        const base64 = message.dataUrl.slice(message.dataUrl.indexOf(",") + 1);
        await this.saveBytes(Buffer.from(base64, "base64"), `${this.run.label}-${message.chart}.png`, {
          "PNG image": ["png"],
        });
        return;
      }
      case "open-dashboard":
        await this.host.openDashboard(message.runId ?? this.run.id);
        return;
    }
  }

  private async saveText(text: string, name: string): Promise<void> {
    await this.saveBytes(Buffer.from(text, "utf8"), name, { CSV: ["csv"] });
  }

  private async saveBytes(bytes: Uint8Array, name: string, filters: Record<string, string[]>): Promise<void> {
    const folder = this.run.runDir
      ? vscode.Uri.file(this.run.runDir)
      : vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, safeFileName(name)) : undefined,
      filters,
    });
    if (!target) return;
    try {
      await vscode.workspace.fs.writeFile(target, bytes);
      this.post({ type: "notice", level: "info", text: `Saved ${target.fsPath}` });
    } catch (error) {
      this.post({
        type: "notice",
        level: "error",
        text: `Could not save ${target.fsPath}: ${errorText(error)}`,
      });
    }
  }

  dispose(): void {
    this.disposed = true;
    this.feed.dispose();
    for (const d of this.disposables) d.dispose();
  }
}

export function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120) || "export";
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
