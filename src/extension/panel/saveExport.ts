import * as vscode from "vscode";
import { errorText } from "./webviewRouter";

/**
 * Saves bytes a panel exported (a chart's PNG, a CSV) where the user picks, starting in the run's
 * folder. Resolves to the path written, or undefined when the user cancelled the dialog; rejects
 * with a message naming the file when writing failed. What the panel is told is the router's job
 * (webviewRouter.ts), so dashboards and the compare panel say it the same way.
 */
export async function saveExport(
  bytes: Uint8Array,
  name: string,
  kind: "csv" | "png",
  folder?: string,
): Promise<string | undefined> {
  const start = folder ? vscode.Uri.file(folder) : vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: start ? vscode.Uri.joinPath(start, safeFileName(name)) : undefined,
    filters: kind === "csv" ? { CSV: ["csv"] } : { "PNG image": ["png"] },
  });
  if (!target) return undefined;
  try {
    await vscode.workspace.fs.writeFile(target, bytes);
  } catch (error) {
    throw new Error(`${target.fsPath}: ${errorText(error)}`);
  }
  return target.fsPath;
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 120) || "export";
}
