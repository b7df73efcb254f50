import * as vscode from "vscode";
import { exportFileName } from "../runs/runText";
import { errorText } from "./webviewRouter";

/**
 * Saves bytes a panel exported (a chart's PNG, a CSV) where the user picks, starting in `folder`
 * (a run's folder), else beside the workspace; the name proposed always ends in `.csv`/`.png`.
 * Resolves to the path written, or undefined when the user cancelled the dialog; rejects
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
    defaultUri: start ? vscode.Uri.joinPath(start, exportFileName(name, kind)) : undefined,
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
