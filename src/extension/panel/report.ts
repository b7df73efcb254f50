import { promises as fsp } from "node:fs";
import { basename, join } from "node:path";
import * as vscode from "vscode";
import type { ReportData, ReportRun } from "../../panel/reportData";
import { reportFileName, reportTitle } from "../../panel/reportData";
import { reportHtml } from "../../panel/reportHtml";
import { readStoredRunIdentity } from "../../protocol/runIdentity";
import { runPaths } from "../../protocol/runlog";
import { compareSnapshots } from "./compareSnapshots";
import type { PanelRun } from "./session";
import { errorText } from "./webviewRouter";

/**
 * The report of one run or a comparison (docs/dashboard.md, "Report"): the runs as the dashboard
 * shows them now (a live run as it stands: the report says at which step it was cut), with each
 * run folder's config, tags and note, written into the HTML page around the report bundle.
 */
export async function reportOf(
  runs: readonly PanelRun[],
  generator: string,
  now: Date = new Date(),
): Promise<ReportData> {
  const snapshots = compareSnapshots(runs);
  const reportRuns = await Promise.all(
    runs.map(async (run, i): Promise<ReportRun> => {
      if (!run.runDir) return { snapshot: snapshots[i] };
      const [config, stored] = await Promise.all([
        readConfig(run.runDir),
        readStoredRunIdentity(run.runDir).catch(() => ({ tags: undefined, note: undefined })),
      ]);
      return {
        snapshot: snapshots[i],
        config,
        folder: basename(run.runDir),
        tags: stored.tags,
        note: stored.note,
      };
    }),
  );
  return { createdAt: now.toISOString(), generator, runs: reportRuns };
}

/**
 * Asks where to save the report of `runs` (beside the workspace, never inside a run folder: a
 * report is a thing to share, not part of the run) and writes it. Resolves to the path written,
 * undefined when the user cancelled; rejects naming the file when writing failed.
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

async function readConfig(runDir: string): Promise<unknown> {
  try {
    return JSON.parse(await fsp.readFile(runPaths(runDir).config, "utf8"));
  } catch {
    return undefined;
  }
}
