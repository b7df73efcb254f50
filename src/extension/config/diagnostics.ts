import * as vscode from "vscode";
import { checkConfig, type Severity } from "./checks";
import { locateJson, nearestSpan } from "./jsonLocate";

export const CONFIG_GLOB = "**/*.gradcraft.json";

export function isConfigDocument(document: vscode.TextDocument): boolean {
  return document.uri.scheme === "file" && document.fileName.endsWith(".gradcraft.json");
}

/**
 * Diagnostics for what the JSON Schema cannot say (config/checks.ts), kept up to date as the
 * user types (debounced) and when files it names appear or vanish (on save and on open).
 */
export class ConfigDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection("gradcraft");
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.disposables.push(
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, 400)),
      vscode.workspace.onDidSaveTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidCloseTextDocument((d) => this.collection.delete(d.uri)),
    );
    for (const document of vscode.workspace.textDocuments) this.schedule(document, 0);
  }

  /** Checks now; resolves with the diagnostics published (tests await it). */
  async check(document: vscode.TextDocument): Promise<vscode.Diagnostic[]> {
    const text = document.getText();
    const issues = await checkConfig(text, document.uri.fsPath);
    if (document.isClosed || document.getText() !== text) return []; // superseded by a newer edit
    const spans = locateJson(text);
    const diagnostics = issues.map((issue) => {
      const span = nearestSpan(spans, issue.path);
      const range = new vscode.Range(document.positionAt(span.start), document.positionAt(span.end));
      const diagnostic = new vscode.Diagnostic(range, issue.message, severity(issue.severity));
      diagnostic.source = "gradcraft";
      diagnostic.code = issue.path || undefined;
      return diagnostic;
    });
    this.collection.set(document.uri, diagnostics);
    return diagnostics;
  }

  private schedule(document: vscode.TextDocument, delayMs: number): void {
    if (!isConfigDocument(document)) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        void this.check(document).catch(() => undefined);
      }, delayMs),
    );
  }

  dispose(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    for (const d of this.disposables) d.dispose();
    this.collection.dispose();
  }
}

function severity(value: Severity): vscode.DiagnosticSeverity {
  if (value === "error") return vscode.DiagnosticSeverity.Error;
  if (value === "warning") return vscode.DiagnosticSeverity.Warning;
  return vscode.DiagnosticSeverity.Information;
}
