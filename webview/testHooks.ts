/**
 * Read-only views of the panel's state for the test suites and benchmarks (window.__gradcraft):
 * the Chromium suites in test/webview/, the real-VS-Code e2e suites, bench/panel.ts. Only the
 * test bundle (dist/webview.test.js) holds this module; the shipped one is built without it.
 */
import type { DashboardApp } from "./app";
import { CompareHeatmapCard, HeatmapCard } from "./cards/heatmapCard";
import { TimeCard } from "./cards/timeCard";
import type { HeatmapChart } from "./charts/heatmapChart";

/** The heatmaps on screen: one, or in compare mode one per run (index = run). */
function heatmaps(app: DashboardApp): readonly HeatmapChart[] {
  const card = app.deck.get("heatmap");
  return card instanceof HeatmapCard || card instanceof CompareHeatmapCard ? card.charts : [];
}

function timeCard(app: DashboardApp, id: string): TimeCard | null {
  const card = app.deck.get(id);
  return card instanceof TimeCard ? card : null;
}

export function exposeTestHooks(app: DashboardApp): void {
  const hooks = {
    perf: { frames: app.scheduler.frames },
    view: app.view,
    cards: () => app.deck.ids(),
    /** Milliseconds each card takes to redraw now (benchmark aid); `split` times a time chart's points apart. */
    profile: (split = false) => {
      const out: Record<string, number> = {};
      const scene = { ...app.scene(), xEnd: app.runs[0]?.step ?? 0 };
      for (const card of app.deck.cards()) {
        const t = performance.now();
        if (split && card instanceof TimeCard) {
          card.lineSeries(scene);
          out[`${card.id}:points`] = performance.now() - t;
        }
        app.deck.drawNow(card.id, scene);
        out[card.id] = performance.now() - t;
      }
      return out;
    },
    /**
     * The last step each time chart on screen draws (`per-step`: the series every step message
     * has, not the evaluations), and whether some card on screen still waits for this redraw.
     */
    latestSteps: (ids: readonly string[]) => {
      const charts: Record<string, number> = {};
      for (const id of ids) {
        const card = timeCard(app, id);
        const box = card?.element.getBoundingClientRect();
        if (!card || !box || box.bottom < 0 || box.top > window.innerHeight) continue;
        const xs = card.chart.chart.data.datasets.flatMap((d) => d.data.map((p) => p.x));
        if (xs.length > 0) charts[id] = Math.max(...xs);
      }
      return { pending: app.deck.pending, charts };
    },
    /** True while some chart on screen still waits for its redraw. */
    drawing: () => app.scheduler.busy || app.deck.pending,
    runs: () => app.runs,
    /** Page coordinates of a heatmap cell's centre; `run` picks the heatmap in compare mode. */
    heatmapCellCenter: (row: number, column: number, run = 0) => {
      const chart = heatmaps(app)[run];
      const center = chart?.cellCenter(row, column);
      if (!center || !chart) return null;
      const rect = chart.chart.canvas.getBoundingClientRect();
      return { x: rect.left + center.x, y: rect.top + center.y };
    },
    /** The cells a heatmap draws (row task, column task, cosine), and whether it is on screen. */
    heatmapCells: (run = 0) => {
      const chart = heatmaps(app)[run];
      if (!chart) return null;
      const shown = chart.chart.canvas.offsetParent !== null;
      return { shown, cells: chart.chart.data.datasets[0].data.map(({ x, y, v }) => ({ x, y, v })) };
    },
    /** What a heatmap's tooltip says now (hover), or null when it shows none. */
    heatmapTooltip: (run = 0) => {
      const tooltip = heatmaps(app)[run]?.chart.tooltip;
      if (!tooltip || tooltip.opacity === 0 || tooltip.getActiveElements().length === 0) return null;
      return { title: tooltip.title.join(" "), lines: tooltip.body.flatMap((b) => b.lines) };
    },
    canvasOf: (id: string) => app.deck.get(id)?.element.querySelector("canvas") ?? null,
    /** The x range a time chart shows now. */
    xRange: (id: string) => {
      const x = timeCard(app, id)?.chart.chart.scales.x;
      return x ? { min: x.min, max: x.max } : null;
    },
    xTitle: (id: string) => timeCard(app, id)?.chart.xTitle() ?? null,
    datasetLabels: (id: string) => timeCard(app, id)?.chart.chart.data.datasets.map((d) => d.label) ?? [],
    markerCount: (id: string) =>
      timeCard(app, id)
        ?.chart.markers()
        .map((m) => m.label) ?? [],
    /** A time chart's marker labels as drawn (page pixels) and its plot area. */
    laneBoxes: (id: string) => {
      const card = timeCard(app, id);
      if (!card) return null;
      const rect = card.chart.chart.canvas.getBoundingClientRect();
      const { boxes, plot } = card.chart.laneBoxes();
      return {
        boxes: boxes.map((b) => ({ ...b, left: b.left + rect.left, top: b.top + rect.top })),
        plot: {
          left: plot.left + rect.left,
          top: plot.top + rect.top,
          right: plot.right + rect.left,
          bottom: plot.bottom + rect.top,
        },
      };
    },
    /** How a time chart draws its markers: label, lane text, dash, lane row and whether it shows. */
    markerStyles: (id: string) => timeCard(app, id)?.chart.markers() ?? [],
  };
  (window as unknown as { __gradcraft: typeof hooks }).__gradcraft = hooks;
}
