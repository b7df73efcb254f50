import * as vscode from "vscode";
import type { LiveRun, RunRegistry } from "../runs/liveRun";
import type { RunsNode } from "../runs/runsView";

/**
 * Commands run from the palette (no argument), a tree item (a RunsNode), the status bar or a
 * CodeLens (a run id), so each resolves its live run here the same way.
 */
export async function pickLiveRun(
  registry: RunRegistry,
  arg: unknown,
  purpose: string,
  filter: (run: LiveRun) => boolean = (run) => run.isLive,
): Promise<LiveRun | undefined> {
  const fromArg = liveRunFromArg(registry, arg);
  if (fromArg) return fromArg;
  const candidates = registry.live().filter(filter);
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`GradCraft: no live run to ${purpose}.`);
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((run) => ({
      label: run.label,
      description: `${run.strategy} · step ${run.step}${run.state === "paused" ? " · paused" : ""}`,
      run,
    })),
    { title: `GradCraft: which run to ${purpose}?` },
  );
  return picked?.run;
}

export function liveRunFromArg(registry: RunRegistry, arg: unknown): LiveRun | undefined {
  if (typeof arg === "string") return registry.get(arg) ?? registry.forRunDir(arg);
  if (arg && typeof arg === "object") {
    const node = arg as Partial<RunsNode> & { run?: LiveRun };
    if (node.kind === "live" && node.run) return node.run;
  }
  return undefined;
}

/** A finished run's folder from a tree item or a path argument. */
export function runDirFromArg(arg: unknown): string | undefined {
  if (typeof arg === "string") return arg;
  if (arg instanceof vscode.Uri) return arg.fsPath;
  if (arg && typeof arg === "object") {
    const node = arg as Partial<RunsNode>;
    if (node.kind === "finished" && node.info) return node.info.dir;
    if (node.kind === "live" && node.run?.runDir) return node.run.runDir;
  }
  return undefined;
}
