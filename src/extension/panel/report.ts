import { promises as fsp } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { reportFileName, reportTitle } from "../../panel/reportData";
import { reportHtml } from "../../panel/reportHtml";
import { reportOf } from "../../panel/reportRuns";
import type { PanelRun } from "./session";
import { errorText } from "./webviewRouter";

/**
 * The report of one run or a comparison (docs/dashboard.md, "Report"), from the dashboard, the
 * Runs view or the palette: asks where to save it (beside the workspace, never inside a run
 * folder: a report is a thing to share, not part of the run) and writes it. Resolves to the path
 * written, undefined when the user cancelled; rejects naming the file when writing failed.
 */
export async function saveReport(
  runs: readonly PanelRun[],
  extensionUri: vscode.Uri,
  generator: string,
): Promise<string | undefined> {
  const script = await fsp.readFile(join(extensionUri.fsPath, "dist", "report.js"), "utf8");
  const data = await reportOf(runs, generator);
  const labels = data.runs.map((r) => r.snapshot.label);
  const html = reportHtml({ data, script, title: reportTitle(labels) });
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  const target = await vscode.window.showSaveDialog({
    defaultUri: folder ? vscode.Uri.joinPath(folder, reportFileName(labels)) : undefined,
    filters: { "HTML report": ["html"] },
    title: runs.length > 1 ? "Save the comparison as a report" : "Save the run as a report",
  });
  if (!target) return undefined;
  try {
    await vscode.workspace.fs.writeFile(target, Buffer.from(html, "utf8"));
  } catch (error) {
    throw new Error(`${target.fsPath}: ${errorText(error)}`);
  }
  return target.fsPath;
}

/** The notice after a report was written, with what one does next with it. */
export async function reportSaved(path: string): Promise<void> {
  const open = "Open in Browser";
  const reveal = "Reveal";
  const choice = await vscode.window.showInformationMessage(`GradCraft: saved ${path}`, open, reveal);
  if (choice === open) await vscode.env.openExternal(vscode.Uri.file(path));
  if (choice === reveal) await vscode.commands.executeCommand("revealFileInOS", vscode.Uri.file(path));
}
