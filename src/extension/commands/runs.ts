import { existsSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, join } from "node:path";
import * as vscode from "vscode";
import { RUN_FILES, type RunInfo, readRunInfo } from "../../protocol/runlog";
import { reportSaved, saveReport } from "../panel/report";
import type { PanelRun } from "../panel/session";
import { exportRunCsv } from "../runs/exportCsv";
import { loadReplayedRun } from "../runs/library";
import type { LiveRun } from "../runs/liveRun";
import { deletableRunFolder } from "../runs/runsFolder";
import { exportFileName, tagsText } from "../runs/runText";
import type { Services } from "../services";
import { readSettings } from "../settings";
import { liveRunFromArg, pickLiveRun, runDirFromArg } from "./pickRun";

/** Runs at hand: dashboards, replay, compare, export, attach, delete. */
export function registerRunCommands(s: Services): vscode.Disposable[] {
  const { registry, manager } = s;

  /** Every run the user could mean: live ones first, then the runs folder's. */
  const pickRuns = async (title: string, many: boolean): Promise<Array<LiveRun | RunInfo> | undefined> => {
    const live = registry.live();
    const liveDirs = new Set(live.map((r) => r.runDir));
    const finished = (await s.runsView.current()).filter((info) => !liveDirs.has(info.dir));
    type Item = vscode.QuickPickItem & { target?: LiveRun | RunInfo; browse?: boolean };
    const items: Item[] = [
      ...live.map((run) => ({
        label: `$(pulse) ${run.label}`,
        description: `live · ${run.configName} · ${run.strategy} · step ${run.step}`,
        target: run,
      })),
      ...finished.map((info) => ({
        label: `$(history) ${info.identity.name}`,
        description: [
          info.name,
          info.strategy ?? "?",
          `${info.steps} steps`,
          info.status,
          tagsText(info.identity.tags),
        ]
          .filter(Boolean)
          .join(" · "),
        detail: info.dir,
        target: info,
      })),
      { label: "$(folder-opened) Browse for a run folder...", browse: true },
    ];
    if (many) {
      const picked = await vscode.window.showQuickPick(
        items.filter((i) => !i.browse),
        { title, canPickMany: true },
      );
      return picked?.map((i) => i.target!).filter(Boolean);
    }
    const picked = await vscode.window.showQuickPick(items, { title, matchOnDetail: true });
    if (!picked) return undefined;
    if (picked.browse) {
      const folder = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        defaultUri: vscode.Uri.file(s.runsFolder()),
        openLabel: "Open Run",
      });
      if (!folder?.[0]) return undefined;
      return [{ dir: folder[0].fsPath } as RunInfo];
    }
    return picked.target ? [picked.target] : undefined;
  };

  /**
   * The runs a command was given: from the tree with several items selected VS Code passes
   * (clicked, allSelected); a panel or a test passes a list of run ids or folders.
   */
  const runsFromArgs = (arg: unknown, more: unknown): Array<LiveRun | string> | undefined => {
    const list = Array.isArray(more) && more.length > 1 ? more : Array.isArray(arg) ? arg : undefined;
    if (!list) return undefined;
    return list
      .map((node: unknown) => liveRunFromArg(registry, node) ?? runDirFromArg(node))
      .filter((t): t is LiveRun | string => !!t);
  };

  const asPanelRun = async (target: LiveRun | RunInfo | string): Promise<PanelRun> => {
    if (typeof target !== "string" && "connection" in target) return target;
    const dir = typeof target === "string" ? target : target.dir;
    return registry.forRunDir(dir) ?? loadReplayedRun(dir, readSettings().maxPointsPerSeries);
  };

  return [
    vscode.commands.registerCommand("gradcraft.openDashboard", async (arg?: unknown) => {
      const live = liveRunFromArg(registry, arg);
      if (live) return s.showRun(live);
      const dir = runDirFromArg(arg);
      if (dir) return s.showRun(dir);
      const newest = registry.live().at(-1);
      if (newest) return s.showRun(newest);
      return vscode.commands.executeCommand("gradcraft.openRun");
    }),

    vscode.commands.registerCommand("gradcraft.openRun", async (arg?: unknown) => {
      const dir = runDirFromArg(arg);
      if (dir) return s.showRun(dir);
      const picked = await pickRuns("GradCraft: open which run?", false);
      const target = picked?.[0];
      if (!target) return undefined;
      return s.showRun("connection" in target ? target : target.dir);
    }),

    vscode.commands.registerCommand("gradcraft.compareRuns", async (arg?: unknown, more?: unknown[]) => {
      const targets: Array<LiveRun | RunInfo | string> | undefined =
        runsFromArgs(arg, more) ?? (await pickRuns("GradCraft: compare which runs? (two or more)", true));
      if (!targets) return undefined;
      if (targets.length < 2) {
        void vscode.window.showInformationMessage("GradCraft: pick two or more runs to compare.");
        return undefined;
      }
      try {
        const runs = await Promise.all(targets.map(asPanelRun));
        s.dashboards.showCompare(runs);
        return runs.map((r) => r.id);
      } catch (error) {
        void vscode.window.showErrorMessage(`GradCraft: cannot compare: ${(error as Error).message}`);
        return undefined;
      }
    }),

    vscode.commands.registerCommand("gradcraft.exportReport", async (arg?: unknown, more?: unknown[]) => {
      const one =
        arg === undefined || Array.isArray(arg)
          ? undefined
          : (liveRunFromArg(registry, arg) ?? runDirFromArg(arg));
      const targets: Array<LiveRun | RunInfo | string> | undefined =
        runsFromArgs(arg, more) ??
        (one ? [one] : await pickRuns("GradCraft: report on which runs? (one, or several to compare)", true));
      if (!targets || targets.length === 0) return undefined;
      try {
        const runs = await Promise.all(targets.map(asPanelRun));
        const version = (s.context.extension?.packageJSON as { version?: string } | undefined)?.version;
        const path = await saveReport(
          runs,
          s.context.extensionUri,
          `GradCraft Studio ${version ?? ""}`.trim(),
        );
        if (path) void reportSaved(path);
        return path;
      } catch (error) {
        void vscode.window.showErrorMessage(
          `GradCraft: could not write the report: ${(error as Error).message}`,
        );
        return undefined;
      }
    }),

    vscode.commands.registerCommand("gradcraft.exportRun", async (arg?: unknown, target?: vscode.Uri) => {
      let dir = runDirFromArg(arg) ?? liveRunFromArg(registry, arg)?.runDir;
      if (!dir) {
        const picked = (await pickRuns("GradCraft: export which run as CSV?", false))?.[0];
        dir = picked ? ("connection" in picked ? picked.runDir : picked.dir) : undefined;
      }
      if (!dir) return undefined;
      const destination =
        (target instanceof vscode.Uri ? target : undefined) ??
        (await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.file(
            join(dir, exportFileName((await readRunInfo(dir))?.identity.name ?? basename(dir), "csv")),
          ),
          filters: { CSV: ["csv"] },
          title: "Export every series of the run",
        }));
      if (!destination) return undefined;
      try {
        const rows = await exportRunCsv(dir, destination.fsPath);
        const open = "Open";
        void vscode.window
          .showInformationMessage(`GradCraft: wrote ${rows} rows to ${destination.fsPath}`, open)
          .then((c) => {
            if (c === open) void vscode.window.showTextDocument(destination);
          });
        return destination.fsPath;
      } catch (error) {
        void vscode.window.showErrorMessage(`GradCraft: export failed: ${(error as Error).message}`);
        return undefined;
      }
    }),

    vscode.commands.registerCommand("gradcraft.attach", async (arg?: unknown) => {
      let dir = runDirFromArg(arg);
      if (!dir) {
        const runs = (await s.runsView.current()).filter((info) =>
          existsSync(join(info.dir, RUN_FILES.token)),
        );
        type Item = vscode.QuickPickItem & { dir?: string };
        const items: Item[] = [
          ...runs.map((info) => ({
            label: `$(plug) ${info.identity.name}`,
            description: `${info.name} · ${info.status} · step ${info.steps}`,
            detail: info.dir,
            dir: info.dir,
          })),
          { label: "$(folder-opened) Browse for the run folder..." },
        ];
        const picked = await vscode.window.showQuickPick(items, {
          title: "GradCraft: attach to a trainer started with gradcraft train --listen",
        });
        if (!picked) return undefined;
        dir = picked.dir;
        if (!dir) {
          const folder = await vscode.window.showOpenDialog({
            canSelectFolders: true,
            canSelectFiles: false,
            openLabel: "Attach",
          });
          dir = folder?.[0]?.fsPath;
        }
      }
      if (!dir) return undefined;
      const run = await manager.attach(dir);
      if (run) await s.showRun(run, { preserveFocus: true });
      return run?.id;
    }),

    vscode.commands.registerCommand("gradcraft.detach", async (arg?: unknown) => {
      const run = await pickLiveRun(registry, arg, "detach from", (r) => r.kind === "attached");
      return run && manager.stop(run);
    }),

    vscode.commands.registerCommand("gradcraft.deleteRun", async (arg?: unknown) => {
      const dir = runDirFromArg(arg);
      if (!dir) return false;
      const deletable = deletableRunFolder(s.runsFolder(), dir);
      if (!deletable.ok) {
        void vscode.window.showErrorMessage(`GradCraft: not deleting ${dir}: ${deletable.reason}.`);
        return false;
      }
      if (registry.forRunDir(dir)) {
        void vscode.window.showWarningMessage("GradCraft: stop the run before deleting it.");
        return false;
      }
      const remove = "Delete";
      const answer = await vscode.window.showWarningMessage(
        `Delete the run "${(await readRunInfo(dir))?.identity.name ?? basename(dir)}" with its event log and checkpoints?`,
        { modal: true, detail: dir },
        remove,
      );
      if (answer !== remove) return false;
      await rm(deletable.path, { recursive: true, force: true });
      // No view goes on showing a run that is gone.
      for (const path of new Set([dir, deletable.path])) {
        s.dashboards.forgetRun(path);
        s.conflicts.forgetRun(path);
      }
      s.log.info(`deleted the run folder ${deletable.path}`);
      await s.runsView.rescan();
      return true;
    }),

    vscode.commands.registerCommand("gradcraft.refreshRuns", () => s.runsView.rescan()),
    vscode.commands.registerCommand("gradcraft.showLog", () => s.log.show()),
  ];
}
