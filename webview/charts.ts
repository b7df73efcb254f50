import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  type ChartDataset,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  type Plugin,
  PointElement,
  Tooltip,
} from "chart.js";
import { MatrixController, MatrixElement } from "chartjs-chart-matrix";
import annotationPlugin from "chartjs-plugin-annotation";
import zoomPlugin from "chartjs-plugin-zoom";
import type { Marker } from "../src/panel/snapshot";
import { runDash, runLabelPosition } from "./compare";
import { cosineColor, type Palette, textOn, withAlpha } from "./theme";

/** Fills the canvas with the editor background first, so exported PNGs look like the panel. */
const backgroundPlugin: Plugin = {
  id: "gcBackground",
  beforeDraw(chart) {
    const color = (chart.options.plugins as { gcBackground?: { color?: string } }).gcBackground?.color;
    if (!color) return;
    const { ctx } = chart;
    ctx.save();
    ctx.globalCompositeOperation = "destination-over";
    ctx.fillStyle = color;
    ctx.fillRect(0, 0, chart.width, chart.height);
    ctx.restore();
  },
};

/** Writes each heatmap cell's cosine in the cell, so the value is read, not guessed from a hue. */
const cellTextPlugin: Plugin<"matrix"> = {
  id: "gcCellText",
  afterDatasetsDraw(chart) {
    if ((chart.config as { type?: string }).type !== "matrix") return;
    const meta = chart.getDatasetMeta(0);
    const data = chart.data.datasets[0]?.data as HeatCell[] | undefined;
    if (!data || meta.data.length === 0) return;
    const { ctx } = chart;
    const first = meta.data[0] as unknown as { width: number; height: number };
    const size = Math.min(first.width, first.height);
    if (size < 18) return;
    ctx.save();
    ctx.font = `${Math.max(9, Math.min(13, size / 4))}px ${Chart.defaults.font.family}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    meta.data.forEach((element, i) => {
      const cell = data[i];
      if (!cell?.fill) return;
      const { x, y } = (
        element as unknown as { getCenterPoint(): { x: number; y: number } }
      ).getCenterPoint();
      ctx.fillStyle = textOn(cell.fill);
      ctx.fillText(cell.v.toFixed(2), x, y);
    });
    ctx.restore();
  },
};

/** Registers what the panel draws with (once, when the app starts). */
export function registerCharts(): void {
  Chart.register(
    LineController,
    LineElement,
    PointElement,
    BarController,
    BarElement,
    LinearScale,
    LogarithmicScale,
    CategoryScale,
    Tooltip,
    Legend,
    Decimation,
    MatrixController,
    MatrixElement,
    annotationPlugin,
    zoomPlugin,
    backgroundPlugin,
    cellTextPlugin,
  );
  // Live data: no animation, ever (each frame would otherwise start one).
  Chart.defaults.animation = false;
  Chart.defaults.responsive = true;
  Chart.defaults.maintainAspectRatio = false;
}

export function applyThemeDefaults(palette: Palette, fontFamily: string): void {
  Chart.defaults.color = palette.foreground;
  Chart.defaults.borderColor = palette.grid;
  Chart.defaults.font.family = fontFamily;
  Chart.defaults.font.size = 11;
}

export interface LineSeries {
  label: string;
  color: string;
  points: { x: number; y: number }[];
  dash?: number[];
}

export type XMode = "step" | "time";

/**
 * A marker on the time charts; in compare mode it names its run, and the run's dash pattern and
 * label place tell its switches from the other runs'.
 */
export type ChartMarker = Marker & { run?: number };

export interface TimeChartOptions {
  yLabel?: string;
  log?: boolean;
  /** Called when the user zooms or pans (to keep the other charts on the same range). */
  onRangeChange?: (chart: TimeChart, min: number, max: number) => void;
  showLegend?: boolean;
}

/** A line chart over steps (or time) with the strategy timeline drawn on it. */
export class TimeChart {
  readonly chart: Chart<"line", { x: number; y: number }[]>;
  private markerKey = "";
  private log = false;
  private drawnOnce = false;

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
          x: { type: "linear", title: { display: true, text: "step" }, ticks: { maxTicksLimit: 8 } },
          y: {
            type: this.log ? "logarithmic" : "linear",
            title: { display: Boolean(options.yLabel), text: options.yLabel ?? "" },
            ticks: { maxTicksLimit: 6 },
          },
        },
        plugins: {
          legend: { display: options.showLegend ?? false, labels: { boxWidth: 12, boxHeight: 2 } },
          tooltip: { enabled: true },
          // The panel already hands chart.js about two points per pixel (points.ts).
          decimation: { enabled: false },
          annotation: { annotations: {} },
          zoom: {
            // The callbacks belong to the zoom and pan options: chartjs-plugin-zoom reads them there.
            zoom: {
              wheel: { enabled: true, modifierKey: "ctrl" },
              pinch: { enabled: true },
              drag: { enabled: false },
              mode: "x",
              onZoomComplete: ({ chart }: { chart: Chart }) => this.rangeChanged(chart),
            },
            pan: {
              enabled: true,
              mode: "x",
              modifierKey: undefined,
              onPanComplete: ({ chart }: { chart: Chart }) => this.rangeChanged(chart),
            },
          },
          gcBackground: { color: palette.background },
        } as never,
      },
    });
    this.theme(palette);
  }

  private rangeChanged(chart: Chart): void {
    const scale = chart.scales.x;
    this.options.onRangeChange?.(this, scale.min, scale.max);
  }

  theme(palette: Palette): void {
    const plugins = this.chart.options.plugins as Record<string, unknown>;
    plugins.gcBackground = { color: palette.background };
    // Assign into chart.js's option proxies; spreading them would copy their internal keys.
    const scales = this.chart.options.scales as Record<
      string,
      { grid: { color: string }; ticks: { color: string }; title: { color: string } }
    >;
    for (const axis of ["x", "y"]) {
      const scale = scales[axis];
      scale.grid.color = palette.grid;
      scale.ticks.color = palette.foreground;
      scale.title.color = palette.foreground;
    }
    this.markerKey = "";
    this.drawnOnce = false;
  }

  setLog(log: boolean): void {
    if (log === this.log) return;
    this.log = log;
    this.drawnOnce = false;
    const y = (this.chart.options.scales as Record<string, { type?: string }>).y;
    y.type = log ? "logarithmic" : "linear";
  }

  setData(
    series: LineSeries[],
    markers: readonly ChartMarker[],
    xMode: XMode,
    palette: Palette,
    xEnd?: number,
  ): void {
    const xScale = (
      this.chart.options.scales as Record<string, { suggestedMax?: number; suggestedMin?: number }>
    ).x;
    // Every time chart spans the whole run, so their x axes line up even where a series stops.
    // The end is rounded up to a round number: axes then stay still between ticks instead of
    // crawling every frame, and a chart whose data did not change need not be redrawn.
    const end = roundUp(xEnd ?? 0);
    const datasets = this.chart.data.datasets as ChartDataset<"line", { x: number; y: number }[]>[];
    const unchanged =
      this.drawnOnce &&
      xScale.suggestedMax === end &&
      datasets.length === series.length &&
      series.every((s, i) => datasets[i]?.data === s.points && datasets[i]?.borderColor === s.color) &&
      this.markerKey === `${xMode}|${markers.length}|${markers.at(-1)?.step}|${palette.marker}`;
    if (unchanged) return;
    this.drawnOnce = true;
    xScale.suggestedMin = 0;
    xScale.suggestedMax = end;
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
    const x = (this.chart.options.scales as Record<string, { title?: { text?: string } }>).x;
    if (x.title) x.title.text = xMode === "step" ? "step" : "time (s)";
    const key = `${xMode}|${markers.length}|${markers.at(-1)?.step}|${palette.marker}`;
    if (key !== this.markerKey) {
      this.markerKey = key;
      const annotations: Record<string, unknown> = {};
      // Markers of one run at one place share one label.
      const merged: ChartMarker[] = [];
      for (const marker of markers) {
        const same = merged.find(
          (m) => m.step === marker.step && m.kind === marker.kind && m.run === marker.run,
        );
        if (same) same.label = `${same.label} | ${marker.label}`;
        else merged.push({ ...marker });
      }
      // Label the latest markers only (of each run, when comparing); older ones stay as lines.
      const runsShown = [...new Set(merged.map((m) => m.run))];
      const perRun = Math.max(2, Math.floor(6 / runsShown.length));
      const labelled = new Set(
        runsShown.flatMap((run) => merged.filter((m) => m.run === run).slice(-perRun)),
      );
      merged.forEach((marker, i) => {
        const at = xMode === "step" ? marker.step : marker.time / 1000;
        // A run's switches are drawn in its own dash (as its lines); other events thinner.
        const dash =
          marker.run !== undefined ? runDash(marker.run) : marker.kind === "strategy" ? [] : [4, 3];
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
            position: marker.run !== undefined ? runLabelPosition(marker.run) : "end",
            backgroundColor: withAlpha(palette.background, 0.85),
            color: palette.markerText,
            borderColor: palette.marker,
            borderWidth: 1,
            font: { size: 10 },
            padding: 3,
          },
        };
      });
      (this.chart.options.plugins as { annotation: { annotations: unknown } }).annotation.annotations =
        annotations;
    }
    this.chart.update("none");
  }

  /** The x axis title. */
  xTitle(): string | null {
    return (this.chart.options.scales as { x: { title: { text: string } } }).x?.title.text ?? null;
  }

  /** The markers drawn: label, dash, where the label sits and whether it shows. */
  markers(): { label: string; dash: number[]; position: string; labelled: boolean }[] {
    const annotations = (
      this.chart.options.plugins as {
        annotation: {
          annotations: Record<
            string,
            { borderDash: number[]; label: { content: string; position: string; display: boolean } }
          >;
        };
      }
    ).annotation.annotations;
    return Object.values(annotations).map((a) => ({
      label: a.label.content,
      dash: [...a.borderDash],
      position: a.label.position,
      labelled: a.label.display,
    }));
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

export interface HeatCell {
  x: string;
  y: string;
  v: number;
  fill: string;
}

/** The K×K cosine heatmap (chartjs-chart-matrix). */
export class HeatmapChart {
  readonly chart: Chart<"matrix", HeatCell[], string>;
  private k = 0;
  /** The run shown, named in the tooltip when several runs' heatmaps sit side by side. */
  runLabel = "";

  constructor(canvas: HTMLCanvasElement, palette: Palette) {
    this.chart = new Chart(canvas, {
      type: "matrix",
      data: {
        datasets: [
          {
            label: "cosine",
            data: [],
            backgroundColor: (ctx) => (ctx.raw as HeatCell | undefined)?.fill ?? "transparent",
            borderColor: palette.background,
            borderWidth: 1,
            width: ({ chart }) => (chart.chartArea?.width ?? 0) / Math.max(1, this.k) - 1,
            height: ({ chart }) => (chart.chartArea?.height ?? 0) / Math.max(1, this.k) - 1,
          },
        ],
      },
      options: {
        scales: {
          x: {
            type: "category",
            labels: [],
            offset: true,
            grid: { display: false },
            ticks: { maxRotation: 45 },
          },
          y: { type: "category", labels: [], offset: true, grid: { display: false } },
        },
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              title: () => this.runLabel,
              label: (ctx: { raw: unknown }) => {
                const cell = ctx.raw as HeatCell;
                return `cos(${cell.y}, ${cell.x}) = ${cell.v.toFixed(3)}`;
              },
            },
          },
          gcBackground: { color: palette.background },
        } as never,
      },
    });
  }

  setData(tasks: string[], cosines: number[] | null, palette: Palette, hidden: Set<number>): void {
    const visible = tasks.map((_, t) => t).filter((t) => !hidden.has(t));
    this.k = visible.length;
    const scales = this.chart.options.scales as Record<
      string,
      { labels?: string[]; ticks: { color: string } }
    >;
    scales.x.labels = visible.map((t) => tasks[t]);
    // The category y axis runs bottom-up: reversed labels put the first task on the top row.
    scales.y.labels = visible.map((t) => tasks[t]).reverse();
    scales.x.ticks.color = palette.foreground;
    scales.y.ticks.color = palette.foreground;
    const cells: HeatCell[] = [];
    const k = tasks.length;
    if (cosines && cosines.length === k * k) {
      for (const i of visible)
        for (const j of visible) {
          const v = cosines[i * k + j];
          cells.push({ x: tasks[j], y: tasks[i], v, fill: cosineColor(palette, v) });
        }
    }
    this.chart.data.datasets[0].data = cells;
    this.chart.data.datasets[0].borderColor = palette.background;
    (this.chart.options.plugins as Record<string, unknown>).gcBackground = { color: palette.background };
    this.chart.update("none");
  }

  /** Canvas (CSS pixel) centre of the cell (row i, column j) among the drawn cells, for tests. */
  cellCenter(row: number, column: number): { x: number; y: number } | null {
    const meta = this.chart.getDatasetMeta(0);
    const element = meta.data[row * this.k + column] as unknown as
      | { getCenterPoint(): { x: number; y: number } }
      | undefined;
    return element ? element.getCenterPoint() : null;
  }

  destroy(): void {
    this.chart.destroy();
  }
}

/** One bar per task (norms, weights). */
export class TaskBarChart {
  readonly chart: Chart<"bar", number[], string>;

  constructor(canvas: HTMLCanvasElement, palette: Palette, label: string) {
    this.chart = new Chart(canvas, {
      type: "bar",
      data: { labels: [], datasets: [{ label, data: [], backgroundColor: [] }] },
      options: {
        scales: { x: { grid: { display: false } }, y: { beginAtZero: true, ticks: { maxTicksLimit: 5 } } },
        plugins: { legend: { display: false }, gcBackground: { color: palette.background } } as never,
      },
    });
  }

  setData(tasks: string[], values: number[], colors: string[], palette: Palette): void {
    this.chart.data.labels = tasks;
    this.chart.data.datasets[0].data = values;
    this.chart.data.datasets[0].backgroundColor = colors;
    const scales = this.chart.options.scales as Record<
      string,
      { grid: { color: string }; ticks: { color: string } }
    >;
    scales.y.grid.color = palette.grid;
    scales.x.ticks.color = palette.foreground;
    scales.y.ticks.color = palette.foreground;
    (this.chart.options.plugins as Record<string, unknown>).gcBackground = { color: palette.background };
    this.chart.update("none");
  }

  destroy(): void {
    this.chart.destroy();
  }
}
