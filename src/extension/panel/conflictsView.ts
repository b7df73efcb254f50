import { resolve } from "node:path";
import type * as vscode from "vscode";
import { type PanelRun, PanelSession, type SessionHost, setWebviewHtml, webviewOptions } from "./session";

export const CONFLICTS_VIEW_ID = "gradcraft.conflicts";

/**
 * The compact "Conflicts" view in the GradCraft container: it follows the run in focus (the
 * newest live run, else the run last opened) and shows it through the same webview app as the
 * dashboard, in its compact surface.
 */
export class ConflictsView implements vscode.WebviewViewProvider, vscode.Disposable {
  private view?: vscode.WebviewView;
  private session?: PanelSession;
  private run?: PanelRun;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly host: SessionHost,
  ) {}

  get current(): PanelRun | undefined {
    return this.run;
  }

  get visible(): boolean {
    return this.view?.visible ?? false;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    view.webview.options = webviewOptions(this.extensionUri);
    view.onDidChangeVisibility(() => this.session?.setVisible(view.visible));
    view.onDidDispose(() => {
      this.session?.dispose();
      this.session = undefined;
      this.view = undefined;
    });
    this.bind();
  }

  /** The run's name changed: the view's title follows, and the panel gets it. */
  renamed(): void {
    if (!this.view || !this.run || this.view.description === this.run.label) return;
    this.view.description = this.run.label;
    this.session?.refresh();
  }

  /** Shows this run in the view (no-op when it already does). */
  follow(run: PanelRun | undefined): void {
    if (run === this.run) return;
    this.run = run;
    this.bind();
  }

  /** A run folder was deleted: if the view shows that run, it shows none. */
  forgetRun(runDir: string): void {
    const run = this.run;
    if (run && (run.id === runDir || (run.runDir !== undefined && resolve(run.runDir) === resolve(runDir))))
      this.follow(undefined);
  }

  private bind(): void {
    const view = this.view;
    if (!view) return;
    this.session?.dispose();
    this.session = undefined;
    view.description = this.run?.label;
    if (!this.run) {
      // No run yet: the app shows its empty state; a snapshot follows once a run starts.
      view.webview.html = emptyHtml(view.webview.cspSource);
      return;
    }
    this.session = new PanelSession(view.webview, this.run, "conflicts", this.host);
    setWebviewHtml(view.webview, this.extensionUri, "conflicts", `Conflicts: ${this.run.label}`);
  }

  dispose(): void {
    this.session?.dispose();
  }
}

function emptyHtml(cspSource: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src ${cspSource} 'unsafe-inline';">
<style>body{color:var(--vscode-descriptionForeground);font-family:var(--vscode-font-family);font-size:var(--vscode-font-size);padding:8px 12px}</style>
</head><body><p>No run yet. Start training (GradCraft: Start Training) or open a finished run from the Runs view to see its gradient conflicts here.</p></body></html>`;
}
