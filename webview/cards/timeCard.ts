/**
 * A time chart card: some series of every run shown over steps (or time), with the strategy
 * switches and other markers drawn on it; zooming or panning it moves every time chart.
 */
import type { RunModel } from "../../src/panel/runModel";
import { type LineSeries, TimeChart } from "../charts/timeChart";
import { lineStyle } from "../compare";
import { lineEnd } from "../cut";
import { el } from "../dom";
import { type Card, type CardContext, canvasIn, cardShell, type Scene } from "./card";

/** A series of a run a chart shows: its name in the model, its task (null: not per task), its label. */
export interface SeriesRef {
  name: string;
  task: number | null;
  label: string;
}

export interface TimeCardOptions {
  yLabel?: string;
  /** Whether the toolbar's smoothing applies (default yes; not to counts or evaluations). */
  smooth?: boolean;
  log?: () => boolean;
  /** Controls in the card's header. */
  extra?: Node[];
  legend?: boolean;
  /** A line under the title when the runs' data says why a chart is empty or partial (null: none). */
  note?: (runs: readonly RunModel[]) => string | null;
}

/** Each of a run's tasks, one series per task. */
export const perTask =
  (name: (task: string) => string) =>
  (run: RunModel): SeriesRef[] =>
    run.tasks.map((task, t) => ({ name: name(task), task: t, label: task }));

/** One series of the run, not per task. */
export const single =
  (name: string, label: string) =>
  (_run: RunModel): SeriesRef[] => [{ name, task: null, label }];

export class TimeCard implements Card {
  readonly element: HTMLElement;
  readonly chart: TimeChart;
  private readonly note = el("p", { class: "muted card-note", hidden: "" });

  constructor(
    private readonly context: CardContext,
    readonly id: string,
    title: string,
    private readonly series: (run: RunModel) => SeriesRef[],
    private readonly options: TimeCardOptions = {},
  ) {
    this.element = cardShell(context, id, title, { extra: options.extra });
    const canvas = canvasIn(
      this.element,
      `${title} over ${context.view.xMode === "step" ? "steps" : "time"}`,
    );
    canvas.parentElement?.classList.add("with-lane");
    canvas.parentElement?.before(this.note);
    this.chart = new TimeChart(id, canvas, context.palette, {
      yLabel: options.yLabel,
      log: options.log?.(),
      // Task colours are in the toolbar's task toggles and runs in its run legend: chart legends
      // would crowd out the data (six tasks × runs).
      showLegend: options.legend ?? false,
      onRangeChange: (source, min, max) => context.zoom.moved(source, min, max),
    });
    context.zoom.join(this.chart);
  }

  render(scene: Scene): void {
    const note = this.options.note?.(scene.runs) ?? null;
    if (note !== this.note.textContent || this.note.hidden !== (note === null)) {
      this.note.textContent = note;
      this.note.hidden = note === null;
    }
    this.chart.setLog(this.options.log?.() ?? false);
    this.chart.setData(this.lineSeries(scene), scene.markers, scene.view.xMode, scene.palette, scene.xEnd);
  }

  /** The lines to draw: each run's series of this chart, hidden tasks left out. */
  lineSeries(scene: Scene): LineSeries[] {
    const { runs, view, palette } = scene;
    const out: LineSeries[] = [];
    // Zoomed in, the chart needs the detail the host kept; otherwise about two points per pixel.
    const chart = this.chart.chart;
    const limit = chart.isZoomedOrPanned()
      ? Number.POSITIVE_INFINITY
      : Math.max(200, Math.round(chart.width * 1.5));
    const compare = runs.length > 1;
    const smoothing = (this.options.smooth ?? true) ? view.smoothing : 0;
    runs.forEach((run, r) => {
      for (const s of this.series(run)) {
        const task = s.task === null ? null : run.tasks[s.task];
        if (task !== null && view.hiddenTasks.includes(task)) continue;
        const series = run.series.get(s.name);
        if (!series) continue;
        out.push({
          label: compare ? `${run.label} · ${s.label}` : s.label,
          ...lineStyle(palette, scene.tasks, runs.length, r, task),
          points: this.context.points.of(
            series,
            view.xMode,
            smoothing,
            limit,
            lineEnd(scene.cuts[r], s.name),
          ),
        });
      }
    });
    return out;
  }

  png(): string {
    return this.chart.chart.toBase64Image("image/png", 1);
  }

  csvSeries(run: RunModel): string[] {
    return this.series(run).map((s) => s.name);
  }

  destroy(): void {
    this.context.zoom.leave(this.chart);
    this.chart.destroy();
  }
}
