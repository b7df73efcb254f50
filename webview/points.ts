/**
 * From a kept series to the points a chart draws: smoothing, the x axis by step or by time, and
 * min/max buckets down to about the chart's pixel width. Pure (test/unit/webview/points.test.ts).
 */
import type { DownsampledSeries } from "../src/panel/series";
import type { Point, XMode } from "./charts/timeChart";

/** Where a chart's line stops: its kept points up to `step`, then `value` at `step` (cut.ts). */
export interface LineEnd {
  step: number;
  timeMs: number;
  /** The series' latest value at `step` (null: it has none there; the line ends at its last kept point). */
  value: number | null;
}

/**
 * The points a chart draws: debiased EMA smoothing (as Adam's bias correction: early points are
 * not dragged toward zero) over the kept history up to `end`, then min/max buckets down to
 * `limit` points or so, so a redraw costs the same however many points the host keeps (and no
 * spike is lost). The kept history holds each bucket's extremes, not its latest point: `end`'s
 * value closes the line at the step every chart of the redraw ends at.
 */
export function chartPoints(
  series: DownsampledSeries,
  xMode: XMode,
  smoothing: number,
  limit: number,
  end: LineEnd | null = null,
): Point[] {
  const xs: number[] = [];
  const ys: number[] = [];
  const beta = smoothing;
  let ema = 0;
  let correction = 1;
  const byStep = xMode === "step";
  const upTo = end?.step ?? Number.POSITIVE_INFINITY;
  let lastX = Number.NEGATIVE_INFINITY;
  const visit = (x: number, t: number, y: number) => {
    if (x > upTo) return;
    lastX = x;
    let value = y;
    if (beta > 0) {
      ema = beta * ema + (1 - beta) * y;
      correction *= beta;
      value = ema / (1 - correction);
    }
    xs.push(byStep ? x : t / 1000);
    ys.push(value);
  };
  series.forEach(visit);
  if (end && end.value !== null && lastX < end.step) visit(end.step, end.timeMs, end.value);
  const points: Point[] = [];
  const n = xs.length;
  if (n <= limit) {
    for (let i = 0; i < n; i++) points.push({ x: xs[i], y: ys[i] });
    return points;
  }
  const width = Math.ceil(n / Math.max(1, Math.floor(limit / 2)));
  for (let start = 0; start < n; start += width) {
    const end = Math.min(n, start + width);
    let lo = start;
    let hi = start;
    for (let i = start + 1; i < end; i++) {
      if (ys[i] < ys[lo]) lo = i;
      if (ys[i] > ys[hi]) hi = i;
    }
    const first = Math.min(lo, hi);
    const second = Math.max(lo, hi);
    points.push({ x: xs[first], y: ys[first] });
    if (second !== first) points.push({ x: xs[second], y: ys[second] });
  }
  return points;
}

/**
 * `chartPoints` remembered per series until the series or the way it is drawn changes: a chart
 * whose data did not change gets the very same array back (and need not redraw).
 */
export class SeriesPoints {
  private readonly cache = new WeakMap<DownsampledSeries, { key: string; points: Point[] }>();

  of(
    series: DownsampledSeries,
    xMode: XMode,
    smoothing: number,
    limit: number,
    end: LineEnd | null = null,
  ): Point[] {
    const key = `${series.appended}|${xMode}|${smoothing}|${series.length}|${limit}|${end?.step}|${end?.value}`;
    const cached = this.cache.get(series);
    if (cached && cached.key === key) return cached.points;
    const points = chartPoints(series, xMode, smoothing, limit, end);
    this.cache.set(series, { key, points });
    return points;
  }
}
