import * as vscode from "vscode";
import { seriesName } from "../../panel/snapshot";
import { type RunInfo, scanRuns } from "../../protocol/runlog";
import type { LiveRun, RunRegistry } from "./liveRun";
import { headlineMetric, localTime, metricText, summaryLines, tagsText } from "./runText";

/**
 * The Runs view: live runs first (strategy, step, steps/s), then the finished runs of the runs
 * folder. Items carry a contextValue the menus key on: run.live.running / run.live.paused (plus
 * ".attached"), run.finished.
 */
export type RunsNode =
  | { kind: "group"; group: "live" | "elsewhere" | "finished" }
  | { kind: "live"; run: LiveRun }
  | { kind: "finished"; info: RunInfo };

export class RunsView implements vscode.TreeDataProvider<RunsNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<RunsNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private finished: RunInfo[] = [];
  private scanning?: Promise<void>;
  /** A rescan asked for while one was running: the folder may have changed after it read it. */
  private rescanAgain = false;
  /** The folder is read when the view (or a test) first asks, never at activation. */
  private scanned = false;
  private refreshTimer?: NodeJS.Timeout;
  private readonly subscription: { dispose(): void };

  constructor(
    private readonly registry: RunRegistry,
    private readonly runsRoot: () => string,
  ) {
    // Steps arrive many times a second: redraw the tree at most twice a second.
    this.subscription = registry.onDidChange((run) => {
      if (run && !run.isLive) void this.rescan();
      this.scheduleRedraw();
    });
  }

  finishedRuns(): RunInfo[] {
    if (!this.scanned) void this.rescan();
    return this.finished;
  }

  /** The runs folder as it is now (one shared scan, for pickers). */
  async current(): Promise<RunInfo[]> {
    await this.rescan();
    return this.finished;
  }

  /** Re-reads the runs folder. */
  rescan(): Promise<void> {
    this.scanned = true;
    if (this.scanning) {
      this.rescanAgain = true;
      return this.scanning;
    }
    this.scanning = scanRuns(this.runsRoot())
      .then((runs) => {
        this.finished = runs;
      })
      .catch(() => {
        this.finished = [];
      })
      .finally(() => {
        this.scanning = undefined;
        this.changed.fire(undefined);
        if (this.rescanAgain) {
          this.rescanAgain = false;
          void this.rescan();
        }
      });
    return this.scanning;
  }

  private scheduleRedraw(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, 500);
  }

  getChildren(node?: RunsNode): RunsNode[] {
    if (!this.scanned) void this.rescan();
    const live = this.registry.live();
    const liveDirs = new Set(live.map((r) => r.runDir).filter(Boolean));
    const others = this.finished.filter((info) => !liveDirs.has(info.dir));
    // Still being written by a trainer this window does not drive (a terminal run): attachable.
    const elsewhere = others.filter((info) => info.status === "running");
    const finished = others.filter((info) => info.status !== "running");
    if (!node) {
      const groups: RunsNode[] = [];
      if (live.length > 0) groups.push({ kind: "group", group: "live" });
      if (elsewhere.length > 0) groups.push({ kind: "group", group: "elsewhere" });
      if (finished.length > 0) groups.push({ kind: "group", group: "finished" });
      return groups; // none: the welcome view shows
    }
    if (node.kind !== "group") return [];
    if (node.group === "live") return live.map((run) => ({ kind: "live", run }));
    return (node.group === "elsewhere" ? elsewhere : finished).map((info) => ({ kind: "finished", info }));
  }

  getTreeItem(node: RunsNode): vscode.TreeItem {
    if (node.kind === "group") {
      const labels = { live: "Live", elsewhere: "Running elsewhere", finished: "Finished" };
      const item = new vscode.TreeItem(labels[node.group], vscode.TreeItemCollapsibleState.Expanded);
      item.id = `group:${node.group}`;
      return item;
    }
    if (node.kind === "live") return liveItem(node.run);
    return finishedItem(node.info);
  }

  dispose(): void {
    clearTimeout(this.refreshTimer);
    this.subscription.dispose();
    this.changed.dispose();
  }
}

function liveItem(run: LiveRun): vscode.TreeItem {
  const item = new vscode.TreeItem(run.label, vscode.TreeItemCollapsibleState.None);
  item.id = `live:${run.id}`;
  const rate = run.stepsPerSecond;
  const parts = [run.configName, run.strategy || "…", `step ${run.step}`];
  if (rate > 0) parts.push(`${rate < 10 ? rate.toFixed(2) : rate.toFixed(1)} steps/s`);
  if (run.state === "paused") parts.push("paused");
  if (run.state === "starting") parts.push(run.progress?.phase ?? "starting");
  if (run.kind === "attached") parts.push("attached");
  if (run.identity?.tags.length) parts.push(tagsText(run.identity.tags));
  item.description = parts.join(" · ");
  item.contextValue = `run.live.${run.state === "paused" ? "paused" : "running"}${run.kind === "attached" ? ".attached" : ""}`;
  item.iconPath = new vscode.ThemeIcon(
    run.state === "paused" ? "debug-pause" : "sync~spin",
    new vscode.ThemeColor(run.state === "paused" ? "charts.yellow" : "charts.green"),
  );
  const best = run.model.best[seriesName.evalMean("validation", "auc")];
  item.tooltip = new vscode.MarkdownString(
    [
      `**${literal(run.label)}** (${run.kind}), config ${literal(run.configName)}`,
      run.identity?.tags.length ? tagsText(run.identity.tags) : "",
      run.identity?.note ? `_${literal(run.identity.note)}_` : "",
      `strategy: ${run.strategy || "?"}`,
      `step ${run.step}, ${rate.toFixed(2)} steps/s`,
      best ? `${metricText("validation", "AUC", best.value)} (best mean so far, step ${best.step})` : "",
      `started ${localTime(new Date(run.startedAt).toISOString())}`,
      run.hello ? `backend: ${run.hello.backend.name}` : "",
      run.runDir ? `folder: ${run.runDir}` : "",
    ]
      .filter(Boolean)
      .join("  \n"),
  );
  item.command = { command: "gradcraft.openDashboard", title: "Open Dashboard", arguments: [run.id] };
  return item;
}

function finishedItem(info: RunInfo): vscode.TreeItem {
  const item = new vscode.TreeItem(info.identity.name, vscode.TreeItemCollapsibleState.None);
  item.id = `run:${info.dir}`;
  const metric = headlineMetric(info.summary);
  const parts = [info.name, info.strategy ?? "?", `${info.steps} steps`, info.status];
  if (metric) parts.push(metric);
  if (info.identity.tags.length > 0) parts.push(tagsText(info.identity.tags));
  item.description = parts.join(" · ");
  const running = info.status === "running";
  item.contextValue = running ? "run.external" : "run.finished";
  const failed = info.status === "failed" || info.status === "interrupted" || info.problems.length > 0;
  item.iconPath = running
    ? new vscode.ThemeIcon("radio-tower")
    : new vscode.ThemeIcon(
        failed ? "warning" : "pass",
        failed ? new vscode.ThemeColor("charts.orange") : undefined,
      );
  const started = localTime(info.startedAt);
  item.tooltip = new vscode.MarkdownString(
    [
      `**${literal(info.identity.name)}**, config ${literal(info.name)}`,
      info.identity.tags.length > 0 ? tagsText(info.identity.tags) : "",
      info.identity.note ? `_${literal(info.identity.note)}_` : "",
      `${info.strategy ?? "?"} · ${info.steps} steps · ${info.status}`,
      ...summaryLines(info.summary),
      started ? `started ${started}` : "",
      `folder: ${info.dir}`,
      ...info.problems.map((p) => `⚠ ${literal(p)}`),
    ]
      .filter(Boolean)
      .join("  \n"),
  );
  item.resourceUri = vscode.Uri.file(info.dir);
  item.command = { command: "gradcraft.openDashboard", title: "Open Run", arguments: [info.dir] };
  return item;
}

/** Text a user typed (a run's name, note) shown literally in a Markdown tooltip. */
function literal(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!<>|]/g, "\\$&");
}
