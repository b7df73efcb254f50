/**
 * One latest step for every card of a redraw. Data is applied the moment it arrives, but a
 * redraw spreads its cards over several frames (the frame budget) and cards off screen are drawn
 * when they come into view: drawn from the model as it is at that moment, the loss would show one
 * step and the gradient norms or the heatmap another. So when a redraw begins, each run is cut
 * where it stands: its step, its time, the latest value of each series and its kept cosine
 * matrices, and every card of that
 * redraw draws up to that cut, whichever frame draws it. Pure (test/unit/webview/cut.test.ts).
 */
import type { RunModel } from "../src/panel/runModel";
import type { DownsampledSeries } from "../src/panel/series";
import type { HeatmapState, Marker } from "../src/panel/snapshot";
import type { LineEnd } from "./points";

/** A run as it stood when a redraw began. */
export interface RunCut {
  readonly step: number;
  /** The run's elapsed milliseconds at that step. */
  readonly elapsed: number;
  /** Each series' latest value at the cut (series whose last point is at the cut step). */
  readonly latest: ReadonlyMap<string, number>;
  /**
   * The cosine matrices the run kept at the cut, oldest first: a fast run pushes the oldest out
   * of the model's window before a later frame of the redraw draws the heatmap.
   */
  readonly cosines: readonly HeatmapState[];
}

/** Where `run` stands now. */
export function cutRun(run: RunModel): RunCut {
  const latest = new Map<string, number>();
  for (const [name, series] of run.series) if (series.lastStep === run.step) latest.set(name, series.last);
  return { step: run.step, elapsed: run.elapsed, latest, cosines: run.recentCosines() };
}

/** Where a series' line stops at a cut: at the cut step, with its latest value there if it has one. */
export function lineEnd(cut: RunCut, name: string): LineEnd {
  return { step: cut.step, timeMs: cut.elapsed, value: cut.latest.get(name) ?? null };
}

/** A series' value at the cut: its latest there, else the last kept point at or before it (NaN: none). */
export function valueAt(series: DownsampledSeries | undefined, cut: RunCut, name: string): number {
  const latest = cut.latest.get(name);
  if (latest !== undefined) return latest;
  if (!series) return Number.NaN;
  let value = Number.NaN;
  series.forEach((x, _t, y) => {
    if (x <= cut.step) value = y;
  });
  return value;
}

/** The markers up to the cut. */
export function markersAt<M extends Marker>(markers: readonly M[], cut: RunCut): M[] {
  return markers.filter((m) => m.step <= cut.step);
}
