/** A line chart over steps (or time) with the strategy timeline drawn on it, and the zoom they share. */
import { Chart } from "chart.js";
import type { AnnotationOptions } from "chartjs-plugin-annotation";
import type { Marker } from "../../src/panel/snapshot";
import { runDash, runLabelPosition } from "../compare";
import { type Palette, withAlpha } from "../theme";

export interface Point {
  x: number;
  y: number;
}

export interface LineSeries {
  label: string;
  color: string;
  points: Point[];
  dash?: number[];
}

export type XMode = "step" | "time";

/**
 * A marker on the time charts; in compare mode it names its run, and the run's dash pattern and
 * label place tell its switches from the other runs'.
 */
export type ChartMarker = Marker & { run?: number };

/** How a marker is drawn: its label, its line's dash, where the label sits and whether it shows. */
export interface DrawnMarker {
  label: string;
  dash: number[];
  position: "start" | "center" | "end";
  labelled: boolean;
}

export interface TimeChartOptions {
  yLabel?: string;
  log?: boolean;
  /** Called when the user zooms or pans (to keep the other charts on the same range). */
  onRangeChange?: (chart: TimeChart, min: number, max: number) => void;
  showLegend?: boolean;
}

export class TimeChart {
  readonly chart: Chart<"line", Point[]>;
  private markerKey = "";
  private log = false;
  private drawnOnce = false;
  private drawn: DrawnMarker[] = [];

  constructor(
    readonly id: string,
    canvas: HTMLCanvasElement,
    palette: Palette,
    private options: TimeChartOptions = {},
  ) {
    this.log = options.log ?? false;
    this.chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [] },
      options: {
        parsing: false,
        normalized: true,
        spanGaps: true,
        interaction: { mode: "nearest", axis: "x", intersect: false },
        elements: { point: { radius: 0, hitRadius: 4 }, line: { borderWidth: 1.5, tension: 0 } },
        scales: {
          x: {
            type: "linear",
            title: { display: true, text: "step", color: palette.foreground },
            ticks: { maxTicksLimit: 8, color: palette.foreground },
            grid: { color: palette.grid },
          },
          y: {
            type: this.log ? "logarithmic" : "linear",
            title: {
              display: Boolean(options.yLabel),
              text: options.yLabel ?? "",
              color: palette.foreground,
            },
            ticks: { maxTicksLimit: 6, color: palette.foreground },
            grid: { color: palette.grid },
          },
        },
        plugins: {
          legend: { display: options.showLegend ?? false, labels: { boxWidth: 12, boxHeight: 2 } },
          tooltip: { enabled: true },
          // The panel already hands chart.js about two points per pixel (points.ts).
          decimation: { enabled: false },
          annotation: { annotations: {} },
          zoom: {
            zoom: {
              wheel: { enabled: true, modifierKey: "ctrl" },
              pinch: { enabled: true },
              drag: { enabled: false },
              mode: "x",
              onZoomComplete: ({ chart }) => this.rangeChanged(chart),
            },
            pan: {
              enabled: true,
              mode: "x",
              modifierKey: undefined,
              onPanComplete: ({ chart }) => this.rangeChanged(chart),
            },
          },
          gcBackground: { color: palette.background },
        },
      },
    });
  }

  private rangeChanged(chart: Chart): void {
    const scale = chart.scales.x;
    this.options.onRangeChange?.(this, scale.min, scale.max);
  }

  setLog(log: boolean): void {
    if (log === this.log) return;
    this.log = log;
    this.drawnOnce = false;
    // Chart.js's options are proxies: assign into them (a copy would carry their internal keys).
    const y = this.chart.options.scales?.y;
    if (y) y.type = log ? "logarithmic" : "linear";
  }

  setData(
    series: LineSeries[],
    markers: readonly ChartMarker[],
    xMode: XMode,
    palette: Palette,
    xEnd?: number,
  ): void {
    const x = this.xAxis();
    // Every time chart spans the whole run, so their x axes line up even where a series stops.
    // The end is rounded up to a round number: axes then stay still between ticks instead of
    // crawling every frame, and a chart whose data did not change need not be redrawn.
    const end = roundUp(xEnd ?? 0);
    const datasets = this.chart.data.datasets;
    const markerKey = `${xMode}|${markers.length}|${markers.at(-1)?.step}|${palette.marker}`;
    const unchanged =
      this.drawnOnce &&
      x.suggestedMax === end &&
      datasets.length === series.length &&
      series.every((s, i) => datasets[i]?.data === s.points && datasets[i]?.borderColor === s.color) &&
      this.markerKey === markerKey;
    if (unchanged) return;
    this.drawnOnce = true;
    x.suggestedMin = 0;
    x.suggestedMax = end;
    datasets.length = series.length;
    series.forEach((s, i) => {
      const existing = datasets[i];
      if (existing && existing.label === s.label) {
        existing.data = s.points;
        existing.borderColor = s.color;
        existing.backgroundColor = s.color;
        existing.borderDash = s.dash ?? [];
      } else {
        datasets[i] = {
          label: s.label,
          data: s.points,
          borderColor: s.color,
          backgroundColor: s.color,
          borderDash: s.dash ?? [],
          pointRadius: s.points.length === 1 ? 2 : 0,
        };
      }
    });
    if (x.title) x.title.text = xMode === "step" ? "step" : "time (s)";
    const annotation = this.chart.options.plugins?.annotation;
    if (markerKey !== this.markerKey && annotation) {
      this.markerKey = markerKey;
      const drawn = markerAnnotations(markers, xMode, palette);
      annotation.annotations = drawn.annotations;
      this.drawn = drawn.markers;
    }
    this.chart.update("none");
  }

  /** The x axis title. */
  xTitle(): string | null {
    const text = this.xAxis().title?.text;
    return typeof text === "string" ? text : null;
  }

  /** The markers as drawn. */
  markers(): DrawnMarker[] {
    return this.drawn.map((m) => ({ ...m, dash: [...m.dash] }));
  }

  resetZoom(): void {
    this.chart.resetZoom("none");
    this.drawnOnce = false;
  }

  setRange(min: number, max: number): void {
    this.chart.zoomScale("x", { min, max }, "none");
  }

  destroy(): void {
    this.chart.destroy();
  }

  /** The x axis' options (linear, over steps or seconds). */
  private xAxis() {
    const x = this.chart.options.scales?.x;
    if (x?.type !== "linear") throw new Error(`time chart ${this.id}: its x axis is not linear`);
    return x;
  }
}

/**
 * The markers as line annotations. Markers of one run at one place share one label; only the
 * latest are labelled (of each run, when comparing), older ones stay as lines.
 */
function markerAnnotations(
  markers: readonly ChartMarker[],
  xMode: XMode,
  palette: Palette,
): { annotations: Record<string, AnnotationOptions>; markers: DrawnMarker[] } {
  const merged: ChartMarker[] = [];
  for (const marker of markers) {
    const same = merged.find((m) => m.step === marker.step && m.kind === marker.kind && m.run === marker.run);
    if (same) same.label = `${same.label} | ${marker.label}`;
    else merged.push({ ...marker });
  }
  const runsShown = [...new Set(merged.map((m) => m.run))];
  const perRun = Math.max(2, Math.floor(6 / runsShown.length));
  const labelled = new Set(runsShown.flatMap((run) => merged.filter((m) => m.run === run).slice(-perRun)));
  const annotations: Record<string, AnnotationOptions> = {};
  const drawn: DrawnMarker[] = [];
  merged.forEach((marker, i) => {
    const at = xMode === "step" ? marker.step : marker.time / 1000;
    // A run's switches are drawn in its own dash (as its lines); other events thinner.
    const dash = marker.run !== undefined ? runDash(marker.run) : marker.kind === "strategy" ? [] : [4, 3];
    const position = marker.run !== undefined ? runLabelPosition(marker.run) : "end";
    annotations[`m${i}`] = {
      type: "line",
      xMin: at,
      xMax: at,
      borderColor: palette.marker,
      borderWidth: marker.kind === "strategy" ? 1.5 : 1,
      borderDash: dash,
      label: {
        display: labelled.has(marker),
        content: marker.label,
        position,
        backgroundColor: withAlpha(palette.background, 0.85),
        color: palette.markerText,
        borderColor: palette.marker,
        borderWidth: 1,
        font: { size: 10 },
        padding: 3,
      },
    };
    drawn.push({ label: marker.label, dash, position, labelled: labelled.has(marker) });
  });
  return { annotations, markers: drawn };
}

/** The time charts of one page: zooming or panning one moves the others to the same range. */
export class ZoomGroup {
  private readonly charts = new Set<TimeChart>();
  /** A reset tells the others its own full range: that must not pin them to it. */
  private resetting = false;

  join(chart: TimeChart): void {
    this.charts.add(chart);
  }

  leave(chart: TimeChart): void {
    this.charts.delete(chart);
  }

  /** `source` was zoomed or panned to [min, max]. */
  moved(source: TimeChart, min: number, max: number): void {
    if (this.resetting) return;
    for (const chart of this.charts) if (chart !== source) chart.setRange(min, max);
  }

  reset(): void {
    this.resetting = true;
    try {
      for (const chart of this.charts) chart.resetZoom();
    } finally {
      this.resetting = false;
    }
  }
}

/** x rounded up to two significant digits (the x axis end: 601 → 610, 12,345 → 13,000). */
function roundUp(x: number): number {
  if (!(x > 0)) return 0;
  const unit = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Math.ceil(x / unit - 1e-9) * unit;
}
