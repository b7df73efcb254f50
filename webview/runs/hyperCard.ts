/**
 * The hyperparameter view: the finished runs as points, a parameter across (the strategy, or any
 * parameter that differs between runs) against a result up (AV AUC, AV GAUC, RI), one colour per
 * strategy, Single as a diamond; under it the same points as the paper's table, best first.
 */
import {
  CategoryScale,
  Chart,
  type ChartDataset,
  Legend,
  LinearScale,
  LogarithmicScale,
  PointElement,
  ScatterController,
  Tooltip,
  type TooltipItem,
} from "chart.js";
import type { HyperAxis, HyperPoint } from "../../src/panel/hyperView";
import { formatValue } from "../../src/panel/runsTable";
import type { Palette } from "../theme";
import { taskColor } from "../theme";
import { type RunsCard, type RunsCardContext, type RunsState, runsCardShell } from "./card";
import { el, select } from "./dom";

type Metric = "avAuc" | "avGauc" | "riAuc" | "riGauc";
type Point = { x: number | string; y: number; point: HyperPoint };

export class HyperCard implements RunsCard {
  readonly id = "hyper";
  readonly element: HTMLElement;
  private readonly xSelect: HTMLSelectElement;
  private readonly ySelect: HTMLSelectElement;
  private readonly canvas = el("canvas", { role: "img", "aria-label": "Hyperparameter view" });
  private readonly notes = el("ul", { class: "notes muted" });
  private readonly table = el("div", { class: "runs-scroller" });
  private chart?: Chart<"scatter", Point[]>;

  constructor(context: RunsCardContext) {
    this.xSelect = select("hyper-x", [], "", (value) => context.setView({ hyperX: value }));
    this.ySelect = select("hyper-y", [], "", (value) => context.setView({ hyperY: value }));
    this.xSelect.setAttribute("aria-label", "Across");
    this.ySelect.setAttribute("aria-label", "Up");
    this.element = runsCardShell(
      this.id,
      "Hyperparameters (finished runs, test split)",
      el("label", {}, "Across ", this.xSelect),
      el("label", {}, "Up ", this.ySelect),
    );
    this.element.append(el("div", { class: "chart-box" }, this.canvas), this.notes, this.table);
  }

  render(state: RunsState): void {
    const { hyper, view, palette } = state;
    const x = hyper.parameters.find((a) => a.key === view.hyperX) ?? hyper.parameters[0];
    const y = hyper.metrics.find((a) => a.key === view.hyperY) ?? hyper.metrics[0];
    fillSelect(this.xSelect, hyper.parameters, x.key);
    fillSelect(this.ySelect, hyper.metrics, y.key);
    const metric = y.key as Metric;
    const shown = hyper.points.filter((p) => p[metric] !== null && p.values[x.key] !== undefined);
    const categories =
      x.kind === "category" ? [...new Set(shown.map((p) => String(p.values[x.key])))].sort() : [];
    const strategies = [...new Set(hyper.points.map((p) => p.strategy))];
    const datasets: ChartDataset<"scatter", Point[]>[] = strategies.map((strategy, i) => ({
      label: strategy,
      data: shown
        .filter((p) => p.strategy === strategy)
        .map((p) => ({
          x: x.kind === "category" ? String(p.values[x.key]) : Number(p.values[x.key]),
          y: p[metric] as number,
          point: p,
        })),
      backgroundColor: taskColor(palette, i),
      borderColor: taskColor(palette, i),
      pointStyle: strategy === "single" ? "rectRot" : "circle",
      pointRadius: 6,
      pointHoverRadius: 8,
    }));
    const percent = metric.startsWith("ri");
    this.chart?.destroy();
    this.chart = new Chart<"scatter", Point[]>(this.canvas, {
      type: "scatter",
      data: { datasets },
      options: {
        plugins: {
          legend: { display: true, position: "bottom" },
          tooltip: {
            callbacks: {
              label: (item: TooltipItem<"scatter">) => {
                const p = (item.raw as Point).point;
                return `${p.name}: ${y.label} ${formatMetric(p[metric], percent)}, ${x.label} ${formatValue(p.values[x.key])}`;
              },
            },
          },
        },
        scales: {
          x: xScale(x, categories),
          y: {
            title: { display: true, text: y.label },
            ticks: percent ? { callback: (v: number | string) => `${(Number(v) * 100).toFixed(1)} %` } : {},
          },
        },
      },
    });
    this.notes.replaceChildren(...hyper.notes.map((note) => el("li", {}, note)));
    if (hyper.points.length === 0)
      this.notes.prepend(el("li", {}, "No finished run with a test evaluation yet."));
    this.table.replaceChildren(methodsTable(hyper.points, metric, x));
  }

  destroy(): void {
    this.chart?.destroy();
    this.element.remove();
  }
}

/** What the scatter draws with, and the theme's colours and font (again when the theme changes). */
export function chartDefaults(palette: Palette): void {
  Chart.register(
    ScatterController,
    PointElement,
    LinearScale,
    LogarithmicScale,
    CategoryScale,
    Tooltip,
    Legend,
  );
  Chart.defaults.animation = false;
  Chart.defaults.maintainAspectRatio = false;
  Chart.defaults.color = palette.foreground;
  Chart.defaults.borderColor = palette.grid;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 11;
}

/** Across: numbers as they are (log when they span decades), categories one per tick. */
function xScale(axis: HyperAxis, categories: readonly string[]) {
  const title = { display: true, text: axis.label };
  if (axis.kind === "category")
    return { type: "category" as const, labels: [...categories], offset: true, title };
  return axis.log ? { type: "logarithmic" as const, title } : { type: "linear" as const, title };
}

/** The points as the paper's table: best first on the chosen metric. */
function methodsTable(points: readonly HyperPoint[], metric: Metric, x: HyperAxis): HTMLTableElement {
  const ordered = [...points].sort(
    (a, b) => (b[metric] ?? Number.NEGATIVE_INFINITY) - (a[metric] ?? Number.NEGATIVE_INFINITY),
  );
  const showX = x.key !== "strategy";
  const head = el(
    "tr",
    {},
    el("th", {}, "Run"),
    el("th", {}, "Strategy"),
    ...(showX ? [el("th", {}, x.label)] : []),
    el("th", {}, "AV AUC"),
    el("th", {}, "AV GAUC"),
    el("th", {}, "RI AUC"),
    el("th", {}, "RI GAUC"),
  );
  const body = el("tbody");
  for (const p of ordered) {
    const ri = (value: number | null) => {
      const td = el("td", {}, formatMetric(value, true));
      if (p.riTasks > 0 && p.riTasks < p.tasks)
        td.title = `over ${p.riTasks} of ${p.tasks} tasks (Single runs missing)`;
      return td;
    };
    body.append(
      el(
        "tr",
        { class: p.kind === "single" ? "single" : "", "data-point": p.id ?? "single" },
        el("td", {}, p.name),
        el("td", {}, p.strategy),
        ...(showX ? [el("td", {}, p.values[x.key] === undefined ? "–" : formatValue(p.values[x.key]))] : []),
        el("td", {}, formatMetric(p.avAuc, false)),
        el("td", {}, formatMetric(p.avGauc, false)),
        ri(p.riAuc),
        ri(p.riGauc),
      ),
    );
  }
  return el("table", { class: "methods", "aria-label": "Runs by result" }, el("thead", {}, head), body);
}

function formatMetric(value: number | null, percent: boolean): string {
  if (value === null) return "–";
  return percent ? `${value >= 0 ? "+" : ""}${(value * 100).toFixed(2)} %` : value.toFixed(4);
}

function fillSelect(element: HTMLSelectElement, axes: readonly HyperAxis[], value: string): void {
  const options = axes.map((a) => el("option", { value: a.key }, a.label));
  element.replaceChildren(...options);
  element.value = value;
}
