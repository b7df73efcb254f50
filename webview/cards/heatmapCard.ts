/**
 * The K×K cosine heatmap card: the latest step or the mean of the last N, with a step slider that
 * scrubs back through the matrices the host keeps. In compare mode one heatmap per run, side by
 * side (or the one run picked, full width).
 */
import type { HeatmapState } from "../../src/panel/snapshot";
import { HeatmapChart } from "../charts/heatmapChart";
import { heatmapAt, keptStepRange, runColor } from "../compare";
import type { RunCut } from "../cut";
import { el, lineSample, select } from "../dom";
import { type Card, type CardContext, canvasIn, cardShell, hiddenIndices, type Scene } from "./card";

const ID = "heatmap";
const TITLE = "Gradient conflicts (cosine)";

/** One run's heatmap card (the dashboard's, or the compact one of the Conflicts view). */
export class HeatmapCard implements Card {
  readonly id = ID;
  readonly element: HTMLElement;
  readonly charts: HeatmapChart[];
  private readonly caption = el("p", { class: "muted", id: "heatmap-caption" });
  private readonly slider: StepSlider | null;

  constructor(context: CardContext, compact: boolean) {
    this.element = cardShell(context, ID, TITLE, {
      extra: [windowSelect(context)],
      csv: false,
      png: !compact,
    });
    const canvas = canvasIn(this.element, "Pairwise cosine of the task gradients", true);
    this.slider = compact ? null : new StepSlider(() => context.redraw(ID));
    this.element.append(this.caption, ...(this.slider ? [this.slider.element] : []));
    this.charts = [new HeatmapChart(canvas, context.palette)];
  }

  render(scene: Scene): void {
    const run = scene.runs[0];
    if (!run) return;
    this.slider?.update([scene.cuts[0]]);
    const { state, caption } = heatmapOf(scene.cuts[0], this.slider?.step ?? null, scene.view.heatmapWindow);
    this.charts[0].setData(
      run.tasks,
      state?.cosines ?? null,
      scene.palette,
      hiddenIndices(run, scene.view.hiddenTasks),
    );
    this.caption.textContent = caption;
  }

  png(): string {
    return this.charts[0].chart.toBase64Image("image/png", 1);
  }

  destroy(): void {
    this.charts[0].destroy();
  }
}

interface Figure {
  figure: HTMLElement;
  chart: HeatmapChart;
  caption: HTMLElement;
  canvas: HTMLCanvasElement;
}

/**
 * Compare mode: one heatmap per run, side by side while they fit (they wrap under each other in
 * a narrow panel), or the one run picked, full width. The window choice and the hover tooltip
 * (which names the run) work on each.
 */
export class CompareHeatmapCard implements Card {
  readonly id = ID;
  readonly element: HTMLElement;
  private readonly figures: Figure[];
  private readonly slider: StepSlider;

  constructor(private readonly context: CardContext) {
    const runs = context.runs();
    const runSelect = select(
      "heatmap-run",
      [["all", "all runs, side by side"], ...runs.map((r, i): [string, string] => [String(i), r.label])],
      this.picked().length === 1 ? context.view.heatmapRun : "all",
      (value) => {
        context.setView({ heatmapRun: value });
        this.showPicked();
      },
    );
    runSelect.setAttribute("aria-label", "Heatmap of which run");
    this.element = cardShell(context, ID, TITLE, {
      wide: true,
      extra: [runSelect, windowSelect(context)],
      csv: false,
    });
    const row = el("div", { class: "heatmaps" });
    this.figures = runs.map((run, r) => {
      const canvas = el("canvas", {
        role: "img",
        "aria-label": `Pairwise cosine of the task gradients, ${run.label}`,
      });
      const caption = el("span", { class: "muted heatmap-caption", "data-run": String(r) });
      const figure = el(
        "figure",
        { class: "heatmap-figure", "data-run": String(r) },
        el("figcaption", {}, lineSample(runColor(context.palette, r)), el("b", {}, run.label), " ", caption),
        el("div", { class: "chart-box square" }, canvas),
      );
      row.append(figure);
      const chart = new HeatmapChart(canvas, context.palette);
      chart.runLabel = run.label;
      return { figure, chart, caption, canvas };
    });
    this.slider = new StepSlider(() => context.redraw(ID));
    this.element.append(row, this.slider.element);
    this.showPicked();
  }

  /** One per run (index = run). */
  get charts(): HeatmapChart[] {
    return this.figures.map((f) => f.chart);
  }

  render(scene: Scene): void {
    const picked = this.picked();
    this.slider.update(picked.map((r) => scene.cuts[r]));
    for (const r of picked) {
      const run = scene.runs[r];
      const { state, caption } = heatmapOf(scene.cuts[r], this.slider.step, scene.view.heatmapWindow);
      const hidden = hiddenIndices(run, scene.view.hiddenTasks);
      this.figures[r].chart.setData(run.tasks, state?.cosines ?? null, scene.palette, hidden);
      this.figures[r].caption.textContent = caption;
    }
  }

  /** The PNG holds what is on screen: every shown run's heatmap, each under its run's name. */
  png(): string {
    return sideBySidePng(
      this.picked().map((r) => this.figures[r]),
      this.context.palette.background,
      this.context.palette.foreground,
    );
  }

  destroy(): void {
    for (const f of this.figures) f.chart.destroy();
  }

  /** The run indices shown: all of them side by side, or the one picked. */
  private picked(): number[] {
    const runs = this.context.runs();
    const { heatmapRun } = this.context.view;
    const picked = Number(heatmapRun);
    if (heatmapRun !== "all" && Number.isInteger(picked) && picked >= 0 && picked < runs.length)
      return [picked];
    return runs.map((_, r) => r);
  }

  private showPicked(): void {
    const shown = new Set(this.picked());
    this.figures.forEach((f, r) => {
      f.figure.hidden = !shown.has(r);
    });
  }
}

function windowSelect(context: CardContext): HTMLSelectElement {
  const windowSelect = select(
    "heatmap-window",
    [
      ["0", "latest step"],
      ["10", "mean of 10"],
      ["50", "mean of 50"],
      ["200", "mean of 200"],
    ],
    String(context.view.heatmapWindow),
    (value) => context.setView({ heatmapWindow: Number(value) }),
  );
  windowSelect.setAttribute("aria-label", "Heatmap window");
  return windowSelect;
}

/**
 * The cosine matrix a run's heatmap shows (at `step`, null: the latest at the redraw's cut; the
 * mean over `window` steps, 0: none), with its caption.
 */
function heatmapOf(
  cut: RunCut,
  step: number | null,
  window: number,
): { state: HeatmapState | null; caption: string } {
  const recent = cut.cosines;
  const state = heatmapAt(recent, step, window);
  if (!state) return { state, caption: "No step yet." };
  if (window === 0)
    return { state, caption: `Step ${state.step}. Red: conflicting gradients (cos < 0); blue: aligned.` };
  const kept = recent.filter((m) => m.step <= state.step).length;
  return { state, caption: `Mean of the last ${Math.min(kept, window)} steps up to step ${state.step}.` };
}

/**
 * The step slider: scrubs every shown heatmap back through the matrices the host kept (the last
 * `heatmapWindowMax` steps of each run); at its right end it follows the latest step. The step
 * chosen is the card's own, not kept across reloads.
 */
class StepSlider {
  /** The step the heatmaps are scrubbed back to (null: follow the latest). */
  step: number | null = null;
  readonly element: HTMLElement;
  private readonly slider = el("input", {
    type: "range",
    id: "heatmap-step",
    min: "0",
    max: "0",
    step: "1",
    "aria-label": "Heatmap step",
  });
  private readonly value = el("output", { for: "heatmap-step" }, "latest");

  constructor(onChange: () => void) {
    this.slider.addEventListener("input", () => {
      const chosen = Number(this.slider.value);
      this.step = chosen >= Number(this.slider.max) ? null : chosen;
      this.value.textContent = this.step === null ? "latest" : String(this.step);
      onChange();
    });
    this.element = el(
      "label",
      { class: "heatmap-step", for: "heatmap-step" },
      "step ",
      this.slider,
      this.value,
    );
  }

  /** Spans the matrices the shown runs kept at their cuts. */
  update(cuts: readonly RunCut[]): void {
    const range = keptStepRange(cuts.map((c) => c.cosines));
    this.slider.disabled = !range || range.min === range.max;
    if (!range) return;
    this.slider.min = String(range.min);
    this.slider.max = String(range.max);
    if (this.step !== null) this.step = Math.min(Math.max(this.step, range.min), range.max);
    this.slider.value = String(this.step ?? range.max);
    this.value.textContent = this.step === null ? "latest" : String(this.step);
  }
}

/** Side-by-side heatmaps as one PNG, each titled with its run, on the editor background. */
function sideBySidePng(shown: readonly Figure[], background: string, foreground: string): string {
  const gap = 12;
  const titleHeight = 22;
  const ratio = window.devicePixelRatio || 1;
  const width = shown.reduce((w, f) => w + f.canvas.width, 0) + gap * ratio * (shown.length - 1);
  const height = Math.max(0, ...shown.map((f) => f.canvas.height)) + titleHeight * ratio;
  const out = document.createElement("canvas");
  out.width = Math.max(1, width);
  out.height = Math.max(1, height);
  const ctx = out.getContext("2d");
  if (!ctx) return out.toDataURL("image/png");
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = foreground;
  ctx.font = `${12 * ratio}px ${getComputedStyle(document.body).getPropertyValue("--vscode-font-family") || "sans-serif"}`;
  ctx.textBaseline = "middle";
  let x = 0;
  for (const f of shown) {
    ctx.fillText(f.chart.runLabel, x + 4 * ratio, (titleHeight * ratio) / 2);
    ctx.drawImage(f.canvas, x, titleHeight * ratio);
    x += f.canvas.width + gap * ratio;
  }
  return out.toDataURL("image/png");
}
