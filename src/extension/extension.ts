import { existsSync } from "node:fs";
import * as vscode from "vscode";
import type { ViewSettings } from "../panel/messages";
import { runPaths } from "../protocol/runlog";
import { registerConfigCommands } from "./commands/configs";
import { registerIdentityCommands } from "./commands/identity";
import { registerRunCommands } from "./commands/runs";
import { registerRunsTableCommands } from "./commands/runsTable";
import { registerTerminalCommand } from "./commands/terminal";
import { registerTrainingCommands } from "./commands/training";
import { ConfigCodeLens } from "./config/codelens";
import { ConfigDiagnostics } from "./config/diagnostics";
import type { ApplyResult } from "./config/liveApply";
import { CONFLICTS_VIEW_ID, ConflictsView } from "./panel/conflictsView";
import { DASHBOARD_VIEW_TYPE, Dashboards } from "./panel/dashboard";
import type { PanelRun, SessionHost } from "./panel/session";
import { loadReplayedRun } from "./runs/library";
import { type LiveRun, RunRegistry } from "./runs/liveRun";
import { RunManager } from "./runs/runManager";
import { RunsTablePanel } from "./runs/runsTablePanel";
import { RunsView } from "./runs/runsView";
import type { Services } from "./services";
import { readSettings, runsFolder } from "./settings";
import { RunStatusBar } from "./status/statusBar";
import { type GradCraftTestApi, type PanelRecord, summarize, waitFor } from "./testApi";

/**
 * GradCraft Studio's extension host side. activate only registers things (every one a
 * disposable on context.subscriptions) and returns: no trainer, no scan that blocks, no tfjs.
 * State lives in one RunRegistry; the status bar, the Runs view, the CodeLens, the context keys
 * and the panels observe it.
 */
let manager: RunManager | undefined;

export function activate(context: vscode.ExtensionContext): GradCraftTestApi | undefined {
  const activationStart = performance.now();
  const log = vscode.window.createOutputChannel("GradCraft", { log: true });
  const registry = new RunRegistry();
  const traffic: PanelRecord[] = [];
  const applies: { runId: string; result: ApplyResult; at: number }[] = [];
  let lastCompare: ReturnType<GradCraftTestApi["lastCompare"]>;
  const testing = process.env.GRADCRAFT_TEST === "1";
  const resolveRunsFolder = () => runsFolder(context);

  const sessionHost: SessionHost = {
    extensionUri: context.extensionUri,
    log,
    viewSettings: (): ViewSettings => ({ maxPoints: readSettings().maxPointsPerSeries, theme: themeKind() }),
    commandTimeoutMs: () => readSettings().commandTimeoutMs,
    exportRun: async (runId) => {
      await vscode.commands.executeCommand("gradcraft.exportRun", registry.get(runId)?.runDir ?? runId);
    },
    openDashboard: async (runId) => {
      await vscode.commands.executeCommand("gradcraft.openDashboard", runId);
    },
    stop: (runId) => {
      const run = registry.get(runId);
      return run && manager?.stopFromPanel(run);
    },
    exportReport: async (runIds) =>
      vscode.commands.executeCommand<string | undefined>("gradcraft.exportReport", runIds),
    record: testing
      ? (direction, surface, message) => {
          const type = (message as { type?: unknown })?.type;
          traffic.push({ direction, surface, type: typeof type === "string" ? type : "?", at: Date.now() });
          if (traffic.length > 500) traffic.shift();
          if (direction === "out" && type === "compare") {
            const runs = (message as { runs: { runId: string; label: string; step: number }[] }).runs;
            lastCompare = {
              runIds: runs.map((r) => r.runId),
              labels: runs.map((r) => r.label),
              steps: runs.map((r) => r.step),
              at: Date.now(),
            };
          }
        }
      : undefined,
  };

  const resolvePanelRun = async (runDir: string): Promise<PanelRun | undefined> =>
    registry.forRunDir(runDir) ?? loadReplayedRun(runDir, readSettings().maxPointsPerSeries);

  // After a window reload a dashboard comes back on its run folder. A terminal run the window was
  // attached to still serves its link (a reload detaches, it does not stop): attach again, so the
  // panel stays live; otherwise the folder's replay.
  const restorePanelRun = async (runDir: string): Promise<PanelRun | undefined> => {
    const link = runPaths(runDir);
    if (manager && !registry.forRunDir(runDir) && existsSync(link.socket) && existsSync(link.token)) {
      const attached = await manager.attach(runDir);
      if (attached) return attached;
    }
    return resolvePanelRun(runDir);
  };

  const dashboards = new Dashboards(context, sessionHost, restorePanelRun);
  /** The name each run was last shown under (see the registry hook below). */
  const shownLabels = new Map<string, string>();
  const conflicts = new ConflictsView(context.extensionUri, sessionHost);
  const runsView = new RunsView(registry, resolveRunsFolder);
  const runsTable = new RunsTablePanel({
    extensionUri: context.extensionUri,
    log,
    runsFolder: resolveRunsFolder,
    onRunsChanged: runsView.onDidChangeTreeData,
  });
  const statusBar = new RunStatusBar(registry);
  const diagnostics = new ConfigDiagnostics();

  const showRun = async (target: LiveRun | string, options: { preserveFocus?: boolean } = {}) => {
    try {
      const run = typeof target === "string" ? await resolvePanelRun(target) : target;
      if (!run) return;
      dashboards.show(run, options.preserveFocus);
      conflicts.follow(run);
    } catch (error) {
      void vscode.window.showErrorMessage(
        `GradCraft: cannot open ${typeof target === "string" ? target : target.label}: ${(error as Error).message}`,
      );
    }
  };

  manager = new RunManager(context, registry, log, (run) => {
    conflicts.follow(run);
    // The serializer remembers run folders: tell it once the trainer has named its folder.
    const subscription = run.onDidMessage((message) => {
      if (message.type === "hello") {
        dashboards.runDirKnown();
        subscription.dispose();
      }
    });
  });

  const services: Services = {
    context,
    log,
    registry,
    manager,
    dashboards,
    conflicts,
    runsView,
    statusBar,
    diagnostics,
    runsFolder: resolveRunsFolder,
    showRun,
    identityChanged: async (runDir) => {
      await registry.forRunDir(runDir)?.reloadIdentity();
      await runsView.rescan();
      await dashboards.renamed(runDir);
      conflicts.renamed();
    },
    onApplied: (run, result) => {
      if (!testing) return;
      applies.push({ runId: run.id, result, at: Date.now() });
      if (applies.length > 100) applies.shift();
    },
  };

  context.subscriptions.push(
    log,
    { dispose: () => registry.dispose() },
    manager,
    dashboards,
    conflicts,
    runsView,
    runsTable,
    statusBar,
    diagnostics,
    vscode.window.registerWebviewPanelSerializer(DASHBOARD_VIEW_TYPE, dashboards),
    vscode.window.registerWebviewViewProvider(CONFLICTS_VIEW_ID, conflicts),
    vscode.window.createTreeView("gradcraft.runs", {
      treeDataProvider: runsView,
      canSelectMany: true,
      showCollapseAll: false,
    }),
    vscode.languages.registerCodeLensProvider(
      { pattern: "**/*.gradcraft.json" },
      new ConfigCodeLens(registry),
    ),
    ...registerTrainingCommands(services),
    ...registerRunCommands(services),
    ...registerRunsTableCommands(runsTable),
    ...registerConfigCommands(),
    ...registerIdentityCommands(services),
    registerTerminalCommand(context),
    contextKeys(registry),
    // A live run is named once its folder is known (runIdentity.ts): tabs and views follow. Only
    // a change of name acts: the registry fires on every step, and a panel refresh per step would
    // keep the extension host (and the file search it runs in a remote window) busy.
    registry.onDidChange((run) => {
      if (!run || shownLabels.get(run.id) === run.label) return;
      shownLabels.set(run.id, run.label);
      void dashboards.renamed();
      conflicts.renamed();
    }),
    vscode.workspace.onDidChangeConfiguration((event) => {
      if (event.affectsConfiguration("gradcraft.runsFolder")) {
        watchRunsFolder();
        void runsView.rescan();
      }
      if (event.affectsConfiguration("gradcraft.dashboard")) {
        // A new point budget reshapes the kept histories (extremes survive), then panels redraw.
        const maxPoints = readSettings().maxPointsPerSeries;
        for (const run of registry.all()) run.model.applySettings({ maxPoints });
        dashboards.refreshAll();
      }
    }),
    vscode.window.onDidChangeActiveColorTheme(() => dashboards.refreshAll()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => log.info("workspace trusted: training is enabled")),
  );
  // A run folder written by a terminal run appears in the view without a manual refresh; the
  // watcher follows the runs-folder setting (re-created when it changes).
  let runsWatcher: vscode.FileSystemWatcher | undefined;
  const watchRunsFolder = () => {
    runsWatcher?.dispose();
    runsWatcher = vscode.workspace.createFileSystemWatcher(
      new vscode.RelativePattern(vscode.Uri.file(resolveRunsFolder()), "*/summary.json"),
    );
    runsWatcher.onDidCreate(() => void runsView.rescan());
    runsWatcher.onDidDelete(() => void runsView.rescan());
  };
  watchRunsFolder();
  context.subscriptions.push({ dispose: () => runsWatcher?.dispose() });

  if (!vscode.workspace.isTrusted)
    log.info("Restricted Mode: GradCraft shows configs and runs but starts no trainer.");

  const activationMs = performance.now() - activationStart;
  log.info(`activated in ${activationMs.toFixed(1)} ms`);
  if (!testing) return undefined;
  return {
    activationMs,
    registry,
    runs: () => registry.all().map(summarize),
    run: (id) => {
      const run = registry.get(id);
      return run ? summarize(run) : undefined;
    },
    waitFor,
    dashboards: () => dashboards.openRunIds(),
    panelTitles: () => dashboards.titles(),
    conflictsView: () => ({ runId: conflicts.current?.id, visible: conflicts.visible }),
    statusBarText: () => (registry.live().length > 0 ? statusBar.text : ""),
    panelTraffic: () => [...traffic],
    lastApply: () => applies.at(-1),
    applies: () => [...applies],
    lastCompare: () => lastCompare,
    runsFolder: resolveRunsFolder,
    finishedRuns: () => runsView.finishedRuns(),
    trainerPids: () =>
      registry
        .all()
        .filter((r) => r.kind === "spawned" && r.exit === undefined && r.connection.pid !== undefined)
        .map((r) => r.connection.pid!),
  };
}

/** Stops the trainers this window spawned (graceful, then forced) and detaches attached runs. */
export async function deactivate(): Promise<void> {
  await manager?.stopAll();
  manager = undefined;
}

/** Keeps the when-clause keys in step with the registry (set only when a value changes). */
function contextKeys(registry: RunRegistry): vscode.Disposable {
  const current = new Map<string, boolean>();
  const set = (key: string, value: boolean) => {
    if (current.get(key) === value) return;
    current.set(key, value);
    void vscode.commands.executeCommand("setContext", key, value);
  };
  const update = () => {
    const live = registry.live();
    set("gradcraft.hasLiveRun", live.length > 0);
    set(
      "gradcraft.hasRunningRun",
      live.some((r) => r.state === "running" && r.connection.canWrite),
    );
    set(
      "gradcraft.runPaused",
      live.some((r) => r.state === "paused" && r.connection.canWrite),
    );
    set(
      "gradcraft.hasAttachedRun",
      live.some((r) => r.kind === "attached"),
    );
  };
  update();
  return registry.onDidChange(update);
}

function themeKind(): ViewSettings["theme"] {
  switch (vscode.window.activeColorTheme.kind) {
    case vscode.ColorThemeKind.Light:
      return "light";
    case vscode.ColorThemeKind.HighContrast:
      return "high-contrast";
    case vscode.ColorThemeKind.HighContrastLight:
      return "high-contrast-light";
    default:
      return "dark";
  }
}
