/**
 * The dashboard's toolbar: task toggles (each task has one colour everywhere; comparing runs,
 * one dash), smoothing, the x axis by step or by time, reset zoom, Export all CSV, Export report, and in compare
 * mode the run legend (each run's colour).
 */
import type { RunModel } from "../src/panel/runModel";
import type { ZoomGroup } from "./charts/timeChart";
import { runColor, taskDash, taskUnion } from "./compare";
import { el, lineSample, select } from "./dom";
import { type Palette, taskColor } from "./theme";
import type { ViewOptions, ViewState } from "./view";

export interface ToolbarContext {
  readonly view: Readonly<ViewState>;
  readonly palette: Palette;
  readonly zoom: ZoomGroup;
  runs(): readonly RunModel[];
  setView(change: Partial<ViewOptions>): void;
  exportAll(): void;
  /** Writes the runs shown as one HTML report (absent in a report itself). */
  exportReport?: () => void;
}

export function buildToolbar(toolbar: HTMLElement, context: ToolbarContext): void {
  const { view, palette, zoom } = context;
  const runs = context.runs();
  const tasks = el("fieldset", {}, el("legend", {}, "Tasks"));
  taskUnion(runs).forEach((task, t) => {
    const id = `task-toggle-${t}`;
    const box = el("input", { type: "checkbox", id });
    box.checked = !view.hiddenTasks.includes(task);
    box.addEventListener("change", () =>
      context.setView({
        hiddenTasks: box.checked ? view.hiddenTasks.filter((x) => x !== task) : [...view.hiddenTasks, task],
      }),
    );
    let swatch: Element;
    if (runs.length > 1) swatch = lineSample(null, taskDash(t));
    else {
      swatch = el("span", { class: "swatch", "aria-hidden": "true" });
      (swatch as HTMLElement).style.background = taskColor(palette, t);
    }
    tasks.append(el("span", { class: "task-toggle" }, box, el("label", { for: id }, swatch, ` ${task}`)));
  });

  const smoothing = el("input", {
    type: "range",
    min: "0",
    max: "0.99",
    step: "0.01",
    id: "smoothing",
    "aria-label": "Smoothing",
  });
  smoothing.value = String(view.smoothing);
  const smoothingValue = el("output", { for: "smoothing" }, view.smoothing.toFixed(2));
  smoothing.addEventListener("input", () => {
    const value = Number(smoothing.value);
    smoothingValue.textContent = value.toFixed(2);
    context.setView({ smoothing: value });
  });

  const xMode = select(
    "x-mode",
    [
      ["step", "step"],
      ["time", "time"],
    ],
    view.xMode,
    (value) => {
      zoom.reset();
      context.setView({ xMode: value === "time" ? "time" : "step" });
    },
  );
  const reset = el("button", { type: "button", class: "secondary" }, "Reset zoom");
  reset.addEventListener("click", () => zoom.reset());
  const exportAll = el("button", { type: "button", class: "secondary" }, "Export all CSV");
  exportAll.addEventListener("click", () => context.exportAll());
  toolbar.append(
    tasks,
    el("label", { for: "smoothing" }, "Smoothing ", smoothing, smoothingValue),
    el("label", { for: "x-mode" }, "X axis ", xMode),
    reset,
    exportAll,
  );
  if (context.exportReport) {
    const exportReport = context.exportReport;
    const report = el(
      "button",
      {
        type: "button",
        class: "secondary",
        "data-action": "export-report",
        title: "One HTML file any browser opens",
      },
      "Export report",
    );
    report.addEventListener("click", () => exportReport());
    toolbar.append(report);
  }
  toolbar.append(el("span", { class: "muted" }, "Ctrl+wheel zooms, drag pans."));
  if (runs.length > 1) toolbar.append(runLegend(runs, palette));
}

/** Compare mode: each run's name with a line in its colour. */
function runLegend(runs: readonly RunModel[], palette: Palette): HTMLElement {
  const legend = el("div", { class: "run-legends", role: "list", "aria-label": "Runs" });
  runs.forEach((r, i) => {
    legend.append(
      el("span", { class: "run-legend", role: "listitem" }, lineSample(runColor(palette, i)), r.label),
    );
  });
  return legend;
}
