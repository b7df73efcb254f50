/**
 * The panel's view state: the options the user set (hidden tasks, smoothing, x axis, heatmap
 * window...) and the record of its commands, kept in the webview's state so that a reloaded panel
 * comes back as it was. The app owns the one instance.
 */
import type { Surface } from "../src/panel/messages";
import type { XMode } from "./charts/timeChart";
import type { CommandRecord } from "./commands";

export interface ViewOptions {
  hiddenTasks: string[];
  smoothing: number;
  xMode: XMode;
  normLog: boolean;
  /** 0: the latest step; N: mean of the last N steps. */
  heatmapWindow: number;
  /** Compare mode: the run whose heatmap is shown, by index, or "all" side by side. */
  heatmapRun: string;
  evalSplit: string;
}

export interface ViewState extends ViewOptions, CommandRecord {
  surface: Surface;
  /** The run's folder (from the host): the host's panel serializer reopens it after a reload. */
  runDir?: string;
}

/**
 * The view state a panel starts with: what it saved before a reload, the surface its page was
 * made for (the host knows whether it is a view or an editor tab), defaults for the rest.
 */
export function restoreView(saved: unknown, pageSurface: Surface | undefined): ViewState {
  const s = (saved ?? {}) as Partial<ViewState>;
  return {
    surface: pageSurface ?? s.surface ?? "dashboard",
    hiddenTasks: s.hiddenTasks ?? [],
    smoothing: s.smoothing ?? 0,
    xMode: s.xMode ?? "step",
    normLog: s.normLog ?? false,
    heatmapWindow: s.heatmapWindow ?? 0,
    heatmapRun: s.heatmapRun ?? "all",
    evalSplit: s.evalSplit ?? "validation",
    runDir: s.runDir,
    pending: s.pending ?? {},
    results: s.results ?? {},
  };
}
