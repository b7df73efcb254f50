/** A line chart over steps (or time) with the strategy timeline drawn on it, and the zoom they share. */
import { Chart } from "chart.js";
import type { AnnotationOptions } from "chartjs-plugin-annotation";
import type { Marker } from "../../src/panel/snapshot";
import { runColor, runDash } from "../compare";
import { type Palette, withAlpha } from "../theme";
import { LANE_GAP, LANE_ROW_HEIGHT, placeLabels, shortLabel } from "./markerLane";

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
 * A marker on the time charts; in compare mode it names its run (its label starts with the run's
 * name, `short` is its lane label without it), and the run's dash and lane row tell its switches
 * from the other runs'.
 */
export type ChartMarker = Marker & { run?: number; short?: string };

/**
 * How a marker is drawn: its full label (the hover text), its lane label, its line's dash, its
 * lane row and whether its label found room there (as last drawn).
 */
export interface DrawnMarker {
  label: string;
  text: string;
  dash: number[];
  row: number | null;
  labelled: boolean;
}

/** A label box in the lane as last drawn, in the canvas' CSS pixels. */
export interface LaneBox {
  text: string;
  detail: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

/** A marker as the lane draws it. */
interface LaneMarker {
  at: number;
  /** Its run's colour when comparing, else the theme's marker colour. */
  color: string;
  text: string;
  detail: string;
  dash: number[];
  rows: number[];
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
  private lane: LaneMarker[] = [];
  private laneRows = 1;
  /** Each lane marker's row as last drawn (null: no room for its label). */
  private laneRowOf: (number | null)[] = [];
  private boxes: LaneBox[] = [];
  private palette: Palette;

  constructor(
    readonly id: string,
    canvas: HTMLCanvasElement,
    palette: Palette,
    private options: TimeChartOptions = {},
  ) {
    this.log = options.log ?? false;
    this.palette = palette;
    this.chart = new Chart(canvas, {
      type: "line",
      data: { datasets: [] },
      // The marker lane, drawn above the plot in the room the layout's top padding leaves it.
      plugins: [{ id: "gcMarkerLane", afterDraw: (chart) => this.drawLane(chart) }],
      options: {
        layout: { padding: { top: laneHeight(1) } },
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
    // A marker's full text on hover: over its lane label, or near its line.
    canvas.addEventListener("mousemove", (event) => {
      const detail = this.detailAt(event.offsetX, event.offsetY);
      if (detail) canvas.title = detail;
      else canvas.removeAttribute("title");
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
      this.palette = palette;
      const drawn = markerLines(markers, xMode, palette);
      annotation.annotations = drawn.annotations;
      this.lane = drawn.lane;
      this.laneRows = drawn.rows;
      const layout = this.chart.options.layout;
      if (layout) layout.padding = { top: laneHeight(drawn.rows) };
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
    return this.lane.map((m, i) => {
      const row = this.laneRowOf[i] ?? null;
      return { label: m.detail, text: m.text, dash: [...m.dash], row, labelled: row !== null };
    });
  }

  /** The lane's label boxes as last drawn, and the plot's area (CSS pixels of the canvas). */
  laneBoxes(): { boxes: LaneBox[]; plot: { left: number; top: number; right: number; bottom: number } } {
    const { left, top, right, bottom } = this.chart.chartArea;
    return { boxes: this.boxes.map((b) => ({ ...b })), plot: { left, top, right, bottom } };
  }

  /** Draws the lane's labels above the plot, each joined to its marker's line by a tick. */
  private drawLane(chart: Chart): void {
    const { ctx, chartArea } = chart;
    const x = chart.scales.x;
    const palette = this.palette;
    ctx.save();
    ctx.font = `10px ${Chart.defaults.font.family ?? "sans-serif"}`;
    ctx.textBaseline = "middle";
    const shown = this.lane.map((m, i) => ({ m, i })).filter(({ m }) => m.at >= x.min && m.at <= x.max);
    const requests = shown.map(({ m }) => ({
      x: x.getPixelForValue(m.at),
      width: ctx.measureText(m.text).width + 8,
      rows: m.rows,
    }));
    const placements = placeLabels(requests, chartArea.left, chartArea.right);
    this.laneRowOf = this.lane.map(() => null);
    this.boxes = [];
    placements.forEach((p, j) => {
      if (p.row === null) return;
      const { m, i } = shown[j];
      this.laneRowOf[i] = p.row;
      const height = LANE_ROW_HEIGHT - 2;
      const top = chartArea.top - LANE_GAP - (this.laneRows - p.row) * LANE_ROW_HEIGHT;
      const box = { text: m.text, detail: m.detail, left: p.left, top, width: requests[j].width, height };
      this.boxes.push(box);
      ctx.setLineDash(m.dash);
      ctx.strokeStyle = m.color;
      ctx.fillStyle = withAlpha(palette.background, 0.9);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.rect(box.left + 0.5, top + 0.5, box.width - 1, height - 1);
      ctx.fill();
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.beginPath();
      ctx.moveTo(requests[j].x, top + height);
      ctx.lineTo(requests[j].x, chartArea.top);
      ctx.stroke();
      ctx.fillStyle = palette.markerText;
      ctx.fillText(m.text, box.left + 4, top + height / 2);
    });
    ctx.restore();
  }

  /** The full text of the marker under a point: its lane label, or its line within 4 px. */
  private detailAt(px: number, py: number): string | null {
    const box = this.boxes.find(
      (b) => px >= b.left && px <= b.left + b.width && py >= b.top && py <= b.top + b.height,
    );
    if (box) return box.detail;
    const x = this.chart.scales.x;
    if (!x || py > this.chart.chartArea.bottom) return null;
    const near = this.lane.filter((m) => Math.abs(x.getPixelForValue(m.at) - px) <= 4);
    return near.length > 0 ? near.map((m) => m.detail).join("\n") : null;
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
 * The markers as line annotations across the plot (no label: their labels go in the lane above
 * it), and what the lane draws. Markers of one run at one step share one label.
 */
function markerLines(
  markers: readonly ChartMarker[],
  xMode: XMode,
  palette: Palette,
): { annotations: Record<string, AnnotationOptions>; lane: LaneMarker[]; rows: number } {
  const merged: (ChartMarker & { short: string })[] = [];
  for (const marker of markers) {
    const short = marker.short ?? shortLabel(marker);
    const same = merged.find((m) => m.step === marker.step && m.kind === marker.kind && m.run === marker.run);
    if (same) {
      same.label = `${same.label} | ${marker.label}`;
      same.short = `${same.short} +`;
    } else merged.push({ ...marker, short });
  }
  const compare = merged.some((m) => m.run !== undefined);
  // Comparing, each run has its own row (three at most); one run's labels use two rows.
  const rows = compare ? Math.min(3, Math.max(1, ...merged.map((m) => (m.run ?? 0) + 1))) : 2;
  const annotations: Record<string, AnnotationOptions> = {};
  const lane: LaneMarker[] = [];
  merged.forEach((marker, i) => {
    const at = xMode === "step" ? marker.step : marker.time / 1000;
    // A run's switches are drawn in its own dash (as its lines); other events thinner.
    const dash = marker.run !== undefined ? runDash(marker.run) : marker.kind === "strategy" ? [] : [4, 3];
    annotations[`m${i}`] = {
      type: "line",
      xMin: at,
      xMax: at,
      borderColor: marker.run !== undefined ? runColor(palette, marker.run) : palette.marker,
      borderWidth: marker.kind === "strategy" ? 1.5 : 1,
      borderDash: dash,
    };
    lane.push({
      at,
      color: marker.run !== undefined ? runColor(palette, marker.run) : palette.marker,
      text: marker.short,
      detail: marker.label,
      dash,
      rows: compare ? [(marker.run ?? 0) % 3] : [0, 1],
    });
  });
  return { annotations, lane, rows };
}

/** Room above the plot for a lane of `rows` rows. */
function laneHeight(rows: number): number {
  return rows * LANE_ROW_HEIGHT + LANE_GAP;
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
