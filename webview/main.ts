/**
 * The dashboard webview: two surfaces (the compact conflicts view and the full dashboard) drawn
 * from a mirror of the host's run model. The host sends a snapshot on (re)open and, at most every
 * 50 ms, a patch of what changed (bounded, whatever the trainer's speed); the panel applies it at
 * once and redraws once per animation frame, only the charts on screen.
 */

import { csvField } from "../src/panel/csv";
import type { CommandMessage, HostToWebview, Surface, WebviewToHost } from "../src/panel/messages";
import { RunModel } from "../src/panel/runModel";
import type { DownsampledSeries } from "../src/panel/series";
import { EVAL_METRICS, type HeatmapState, type Marker, seriesName } from "../src/panel/snapshot";
import {
  applyThemeDefaults,
  type ChartMarker,
  HeatmapChart,
  type LineSeries,
  registerCharts,
  TaskBarChart,
  TimeChart,
  type XMode,
} from "./charts";
import { compareEval, type EvalCell, heatmapAt, keptStepRange, runDash, taskUnion } from "./compare";
import { buildFields, HYPERPARAMETER_SCHEMA, type ObjectSchema } from "./forms";
import css from "./styles.css";
import { type Palette, readPalette, taskColor } from "./theme";

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

type ControlKey =
  | "pause"
  | "resume"
  | "stop"
  | "checkpoint"
  | "evaluate"
  | "set-strategy"
  | "set-hyperparameters";

interface ViewState {
  surface: Surface;
  hiddenTasks: string[];
  smoothing: number;
  xMode: XMode;
  normLog: boolean;
  /** 0: the latest step; N: mean of the last N steps. */
  heatmapWindow: number;
  /** Compare mode: the run whose heatmap is shown, by index, or "all" side by side. */
  heatmapRun: string;
  evalSplit: string;
  /** The run's folder (from the host): the host's panel serializer reopens it after a reload. */
  runDir?: string;
  pending: Record<string, { control: ControlKey; sentAt: number }>;
  results: Partial<Record<ControlKey, { text: string; level: "ok" | "error" | "pending" }>>;
}

// Captured while this script runs: the host's CSP nonce also admits the injected stylesheet.
const scriptNonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? "";
const vscode = acquireVsCodeApi();
const saved = (vscode.getState() ?? {}) as Partial<ViewState>;
const view: ViewState = {
  surface: (document.body.dataset.surface as Surface | undefined) ?? saved.surface ?? "dashboard",
  hiddenTasks: saved.hiddenTasks ?? [],
  smoothing: saved.smoothing ?? 0,
  xMode: saved.xMode ?? "step",
  normLog: saved.normLog ?? false,
  heatmapWindow: saved.heatmapWindow ?? 0,
  heatmapRun: saved.heatmapRun ?? "all",
  evalSplit: saved.evalSplit ?? "validation",
  runDir: saved.runDir,
  pending: saved.pending ?? {},
  results: saved.results ?? {},
};
const persist = () => vscode.setState(view);

let runs: RunModel[] = [];
let palette: Palette;
let layoutKey = "";
let notice: { text: string; level: string } | null = null;

// ---------------------------------------------------------------------------------------------
// Chart registry and frame loop

interface TimeCard {
  kind: "time";
  chart: TimeChart;
  /** Series names of one run this chart shows, with their task index (null: not per task). */
  series: (run: RunModel) => { name: string; task: number | null; label: string }[];
  smooth: boolean;
  log?: () => boolean;
}
interface OtherCard {
  kind: "heatmap" | "bars" | "table";
  render: () => void;
  series?: (run: RunModel) => { name: string; task: number | null; label: string }[];
  chartObject?: { chart: { toBase64Image(type?: string, quality?: number): string } };
}
type Card = (TimeCard | OtherCard) & {
  id: string;
  title: string;
  element: HTMLElement;
  visible: boolean;
  stale: boolean;
};

const cards = new Map<string, Card>();
/** The heatmaps on screen: one, or in compare mode one per run (index = run). */
let heatmaps: HeatmapChart[] = [];
let dirty = false;
let ingestMs = 0;
const perf = { frames: [] as number[], max: 5000 };

function invalidate(): void {
  for (const card of cards.values()) card.stale = true;
  schedule();
}

function schedule(): void {
  if (dirty) return;
  dirty = true;
  requestAnimationFrame(frame);
}

function frame(): void {
  dirty = false;
  const started = performance.now();
  render(started);
  const spent = performance.now() - started + ingestMs;
  ingestMs = 0;
  perf.frames.push(spent);
  if (perf.frames.length > perf.max) perf.frames.splice(0, perf.frames.length - perf.max);
}

const observer = new IntersectionObserver((entries) => {
  for (const entry of entries) {
    const card = cards.get((entry.target as HTMLElement).dataset.card ?? "");
    if (!card) continue;
    card.visible = entry.isIntersecting;
    if (card.visible && card.stale) schedule();
  }
});

// ---------------------------------------------------------------------------------------------
// Series to points: smoothing and x mode, cached per series version

const pointCache = new WeakMap<DownsampledSeries, { key: string; points: { x: number; y: number }[] }>();

/**
 * The points a chart draws: debiased EMA smoothing (as Adam's bias correction: early points are
 * not dragged toward zero) over the kept history, then min/max buckets down to about the chart's
 * pixel width, so a redraw costs the same however many points the host keeps (and no spike is
 * lost). Cached per series version.
 */
function pointsOf(series: DownsampledSeries, smoothing: number, limit: number): { x: number; y: number }[] {
  const key = `${series.appended}|${view.xMode}|${smoothing}|${series.length}|${limit}`;
  const cached = pointCache.get(series);
  if (cached && cached.key === key) return cached.points;
  const xs: number[] = [];
  const ys: number[] = [];
  const beta = smoothing;
  let ema = 0;
  let correction = 1;
  const byStep = view.xMode === "step";
  series.forEach((x, t, y) => {
    let value = y;
    if (beta > 0) {
      ema = beta * ema + (1 - beta) * y;
      correction *= beta;
      value = ema / (1 - correction);
    }
    xs.push(byStep ? x : t / 1000);
    ys.push(value);
  });
  const points: { x: number; y: number }[] = [];
  const n = xs.length;
  if (n <= limit) {
    for (let i = 0; i < n; i++) points.push({ x: xs[i], y: ys[i] });
  } else {
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
  }
  pointCache.set(series, { key, points });
  return points;
}

function primary(): RunModel | undefined {
  return runs[0];
}

function hiddenIndices(run: RunModel): Set<number> {
  const hidden = new Set<number>();
  run.tasks.forEach((task, t) => {
    if (view.hiddenTasks.includes(task)) hidden.add(t);
  });
  return hidden;
}

function lineSeriesFor(card: TimeCard): LineSeries[] {
  const out: LineSeries[] = [];
  // Zoomed in, the chart needs the detail the host kept; otherwise about two points per pixel.
  const chart = card.chart.chart;
  const limit = chart.isZoomedOrPanned()
    ? Number.POSITIVE_INFINITY
    : Math.max(200, Math.round(chart.width * 1.5));
  const compare = runs.length > 1;
  runs.forEach((run, r) => {
    for (const s of card.series(run)) {
      if (s.task !== null && view.hiddenTasks.includes(run.tasks[s.task])) continue;
      const series = run.series.get(s.name);
      if (!series) continue;
      const color =
        s.task === null
          ? palette.tasks[r % palette.tasks.length]
          : taskColor(palette, allTasks().indexOf(run.tasks[s.task]));
      out.push({
        label: compare ? `${run.label} · ${s.label}` : s.label,
        color,
        points: pointsOf(series, card.smooth ? view.smoothing : 0, limit),
        dash: compare ? runDash(r) : [],
      });
    }
  });
  return out;
}

function allMarkers(): ChartMarker[] {
  if (runs.length <= 1) return primary()?.markers ?? [];
  // Each run's markers carry its index: drawn in its dash, labelled with its name.
  return runs.flatMap((run, r) =>
    run.markers.map((m) => ({ ...m, run: r, label: `${run.label}: ${m.label}` })),
  );
}

/** Work per frame: charts past this budget wait for the next frame (round robin), so a frame stays short. */
const FRAME_BUDGET_MS = 8;
let nextCard = 0;

function render(started: number): void {
  renderHeader();
  const markers = allMarkers();
  const xEnd = Math.max(0, ...runs.map((r) => (view.xMode === "step" ? r.step : r.elapsed / 1000)));
  const list = [...cards.values()];
  for (let i = 0; i < list.length; i++) {
    const card = list[(nextCard + i) % list.length];
    if (!card.stale || !card.visible) continue;
    if (performance.now() - started > FRAME_BUDGET_MS) {
      nextCard = (nextCard + i) % list.length;
      schedule();
      return;
    }
    renderCard(card, markers, xEnd);
  }
}

function renderCard(card: Card, markers: Marker[], xEnd: number): void {
  card.stale = false;
  if (card.kind === "time") {
    card.chart.setLog(card.log?.() ?? false);
    card.chart.setData(lineSeriesFor(card), markers, view.xMode, palette, xEnd);
  } else {
    card.render();
  }
}

// ---------------------------------------------------------------------------------------------
// Layout

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") element.className = value;
    else element.setAttribute(key, value);
  }
  element.append(...children);
  return element;
}

const perTask =
  (name: (task: string) => string) =>
  (run: RunModel): { name: string; task: number | null; label: string }[] =>
    run.tasks.map((task, t) => ({ name: name(task), task: t, label: task }));
const single =
  (name: string, label: string) =>
  (_run: RunModel): { name: string; task: number | null; label: string }[] => [{ name, task: null, label }];

function cardShell(
  id: string,
  title: string,
  options: { wide?: boolean; square?: boolean; csv?: boolean; png?: boolean; extra?: Node[] } = {},
) {
  const heading = el("h2", { id: `${id}-title` }, title);
  const actions = el("div", { class: "card-actions" }, ...(options.extra ?? []));
  if (options.png !== false) {
    const png = el(
      "button",
      { class: "icon", type: "button", "aria-label": `Export ${title} as PNG`, title: "Export as PNG" },
      "PNG",
    );
    png.addEventListener("click", () => exportPng(id));
    actions.append(png);
  }
  if (options.csv !== false) {
    const csvButton = el(
      "button",
      {
        class: "icon",
        type: "button",
        "aria-label": `Export ${title} series as CSV`,
        title: "Export series as CSV",
      },
      "CSV",
    );
    csvButton.addEventListener("click", () => exportCsv(id));
    actions.append(csvButton);
  }
  const element = el(
    "section",
    { class: `card${options.wide ? " wide" : ""}`, "aria-labelledby": `${id}-title`, "data-card": id },
    el("header", {}, heading, actions),
  );
  return element;
}

function canvasIn(card: HTMLElement, label: string, square = false): HTMLCanvasElement {
  const canvas = el("canvas", { role: "img", "aria-label": label });
  card.append(el("div", { class: `chart-box${square ? " square" : ""}` }, canvas));
  return canvas;
}

function addTimeCard(
  grid: HTMLElement,
  id: string,
  title: string,
  series: TimeCard["series"],
  options: { yLabel?: string; smooth?: boolean; log?: () => boolean; extra?: Node[]; legend?: boolean } = {},
): void {
  const element = cardShell(id, title, { extra: options.extra });
  const canvas = canvasIn(element, `${title} over ${view.xMode === "step" ? "steps" : "time"}`);
  grid.append(element);
  const chart = new TimeChart(id, canvas, palette, {
    yLabel: options.yLabel,
    log: options.log?.(),
    // Task colours are in the toolbar's task toggles and runs in its run legend: chart legends
    // would crowd out the data (six tasks × runs).
    showLegend: options.legend ?? false,
    onRangeChange: (source, min, max) => {
      for (const card of cards.values())
        if (card.kind === "time" && card.chart !== source) card.chart.setRange(min, max);
    },
  });
  cards.set(id, {
    kind: "time",
    id,
    title,
    element,
    chart,
    series,
    smooth: options.smooth ?? true,
    log: options.log,
    visible: true,
    stale: true,
  });
  observer.observe(element);
}

function addOtherCard(grid: HTMLElement, card: Omit<Card, "visible" | "stale"> & OtherCard): void {
  grid.append(card.element);
  cards.set(card.id, { ...card, visible: true, stale: true } as Card);
  observer.observe(card.element);
}

function destroyCards(): void {
  for (const card of cards.values()) {
    observer.unobserve(card.element);
    if (card.kind === "time") card.chart.destroy();
    else (card.chartObject as { destroy?: () => void } | undefined)?.destroy?.();
  }
  cards.clear();
  heatmaps = [];
}

const app = el("div", { id: "app" });
const header = el("header", { class: "bar" });
const toolbar = el("section", { class: "toolbar", "aria-label": "View options" });
const grid = el("main", { class: "grid" });

function build(): void {
  destroyCards();
  for (const name of [...document.body.classList])
    if (name.startsWith("surface-") && name !== `surface-${view.surface}`)
      document.body.classList.remove(name);
  if (!document.body.classList.contains(`surface-${view.surface}`))
    document.body.classList.add(`surface-${view.surface}`);
  header.replaceChildren();
  toolbar.replaceChildren();
  grid.replaceChildren();
  const run = primary();
  if (!run) {
    grid.append(
      el("p", { class: "empty muted" }, "Waiting for a run… Start training or open a finished run."),
    );
    return;
  }
  buildHeader();
  if (view.surface === "conflicts") buildConflicts();
  else buildDashboard();
}

// ----- header: facts and run controls

// Not a live region: the step count changes many times a second and would flood a screen reader.
const facts = el("div", { class: "facts" });
let factsKey = "";
const controlButtons = new Map<ControlKey, HTMLButtonElement>();
const controlStatus = new Map<ControlKey, HTMLElement>();

function controlButton(
  control: ControlKey,
  label: string,
  onClick: () => void,
  className = "secondary",
): HTMLElement {
  const button = el("button", { type: "button", class: className, "data-control": control }, label);
  button.addEventListener("click", onClick);
  const status = el("span", { class: "status", role: "status", "data-status": control });
  controlButtons.set(control, button);
  controlStatus.set(control, status);
  return el("span", { class: "control" }, button, status);
}

function buildHeader(): void {
  controlButtons.clear();
  controlStatus.clear();
  const titleText = runs.length > 1 ? `Comparing ${runs.length} runs` : (primary()?.label ?? "");
  const title = el("h1", {}, titleText);
  const noticeLine = el(
    "span",
    { class: `notice ${notice?.level ?? ""}`, role: "status", id: "notice" },
    notice?.text ?? "",
  );
  const controls = el("div", { class: "controls", role: "group", "aria-label": "Run controls" });
  if (runs.length === 1) {
    controls.append(
      controlButton("pause", "Pause", () => send("pause", { type: "pause" })),
      controlButton("resume", "Resume", () => send("resume", { type: "resume" })),
      controlButton("checkpoint", "Checkpoint", () => send("checkpoint", { type: "checkpoint" })),
      controlButton("evaluate", "Evaluate", () =>
        send("evaluate", { type: "evaluate", split: "validation" }),
      ),
      controlButton("stop", "Stop", () => armStop(), "secondary danger"),
    );
  }
  if (view.surface === "conflicts") {
    const open = el(
      "button",
      { type: "button", class: "secondary", "data-control": "open-dashboard" },
      "Open Dashboard",
    );
    open.addEventListener("click", () => post({ type: "open-dashboard", runId: primary()?.runId }));
    controls.append(open);
  }
  header.append(title, facts, noticeLine, controls);
  renderHeader();
}

let stopArmedUntil = 0;
function armStop(): void {
  const button = controlButtons.get("stop");
  if (!button) return;
  // Stopping ends the run: ask for a second press instead of a modal dialog.
  if (Date.now() < stopArmedUntil) {
    stopArmedUntil = 0;
    button.dataset.armed = "false";
    send("stop", { type: "stop" });
    return;
  }
  stopArmedUntil = Date.now() + 4000;
  button.dataset.armed = "true";
  button.textContent = "Confirm stop";
  setTimeout(() => {
    if (Date.now() >= stopArmedUntil) {
      button.dataset.armed = "false";
      renderHeader();
    }
  }, 4100);
}

const CONTROL_LABELS: Record<ControlKey, [string, string]> = {
  pause: ["Pause", "Pausing…"],
  resume: ["Resume", "Resuming…"],
  stop: ["Stop", "Stopping…"],
  checkpoint: ["Checkpoint", "Checkpointing…"],
  evaluate: ["Evaluate", "Evaluating…"],
  "set-strategy": ["Switch", "Switching…"],
  "set-hyperparameters": ["Apply", "Applying…"],
};

function isPending(control: ControlKey): boolean {
  return Object.values(view.pending).some((p) => p.control === control);
}

function renderHeader(): void {
  const run = primary();
  if (!run) return;
  const { stepsPerSecond, stepTimeMs } = run.throughput();
  const fact = (label: string, value: string) =>
    el("span", { class: "fact" }, `${label} `, el("b", {}, value));
  if (runs.length > 1) {
    renderCompareFacts();
    renderControls(run);
    return;
  }
  const key = `${run.state}|${run.step}|${run.strategy?.name}|${stepsPerSecond}|${stepTimeMs}|${view.surface}`;
  if (key !== factsKey) {
    factsKey = key;
    facts.replaceChildren(
      el("span", { class: "badge", "data-state": run.state, title: run.stateDetail ?? "" }, run.state),
      fact("step", String(run.step)),
      fact("epoch", run.epoch.toFixed(2)),
      fact("strategy", run.strategy?.name ?? "–"),
      fact(
        "steps/s",
        Number.isFinite(stepsPerSecond) ? stepsPerSecond.toFixed(stepsPerSecond < 10 ? 2 : 0) : "–",
      ),
      ...(view.surface === "dashboard"
        ? [
            fact("step time", Number.isFinite(stepTimeMs) ? `${stepTimeMs.toFixed(0)} ms` : "–"),
            fact("backend", run.backend ?? "–"),
          ]
        : []),
    );
  }
  renderControls(run);
}

/** Compare mode: each run's state, steps and the strategies it ran, named with its dash sample. */
function renderCompareFacts(): void {
  const key = runs.map((r) => `${r.label}|${r.state}|${r.step}|${r.markers.length}`).join(";");
  if (key === factsKey) return;
  factsKey = key;
  facts.replaceChildren(
    ...runs.map((r, i) => {
      const switches = r.markers.filter((m) => m.kind === "strategy").length;
      const ran = `${r.strategy?.name ?? "–"}${switches ? ` (${switches} switch${switches > 1 ? "es" : ""})` : ""}`;
      return el(
        "span",
        { class: "fact run-fact", "data-run": String(i) },
        dashSample(i),
        el("b", {}, r.label),
        ` ${r.state}, step ${r.step}, ${ran}`,
      );
    }),
  );
}

function renderControls(run: RunModel): void {
  const live = isLive(run);
  for (const [control, button] of controlButtons) {
    const pending = isPending(control);
    const [idle, busy] = CONTROL_LABELS[control];
    if (control !== "stop" || button.dataset.armed !== "true") button.textContent = pending ? busy : idle;
    button.setAttribute("aria-busy", String(pending));
    let enabled = live && !pending;
    if (control === "pause") enabled &&= run.state !== "paused";
    if (control === "resume") enabled &&= run.state === "paused";
    button.disabled = !enabled;
    const status = controlStatus.get(control);
    const result = view.results[control];
    if (status) {
      status.textContent = result?.text ?? "";
      status.className = `status ${result?.level ?? ""}`;
    }
  }
  const noticeLine = header.querySelector("#notice");
  if (noticeLine) {
    noticeLine.textContent = notice?.text ?? "";
    noticeLine.className = `notice ${notice?.level ?? ""}`;
  }
}

// ----- toolbar (dashboard)

/** Every task of the runs shown (compare mode: a task keeps its colour in every run). */
function allTasks(): string[] {
  return taskUnion(runs);
}

function buildToolbar(_run: RunModel): void {
  const tasks = el("fieldset", {}, el("legend", {}, "Tasks"));
  allTasks().forEach((task, t) => {
    const id = `task-toggle-${t}`;
    const box = el("input", { type: "checkbox", id });
    box.checked = !view.hiddenTasks.includes(task);
    box.addEventListener("change", () => {
      view.hiddenTasks = box.checked
        ? view.hiddenTasks.filter((x) => x !== task)
        : [...view.hiddenTasks, task];
      persist();
      invalidate();
    });
    const swatch = el("span", { class: "swatch", "aria-hidden": "true" });
    swatch.style.background = taskColor(palette, t);
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
    view.smoothing = Number(smoothing.value);
    smoothingValue.textContent = view.smoothing.toFixed(2);
    persist();
    invalidate();
  });

  const xMode = select(
    "x-mode",
    [
      ["step", "step"],
      ["time", "time"],
    ],
    view.xMode,
    (value) => {
      view.xMode = value as XMode;
      persist();
      for (const card of cards.values()) if (card.kind === "time") card.chart.resetZoom();
      invalidate();
    },
  );
  const reset = el("button", { type: "button", class: "secondary" }, "Reset zoom");
  reset.addEventListener("click", () => {
    for (const card of cards.values()) if (card.kind === "time") card.chart.resetZoom();
  });
  const exportAll = el("button", { type: "button", class: "secondary" }, "Export all CSV");
  exportAll.addEventListener("click", () => exportCsv(null));
  toolbar.append(
    tasks,
    el("label", { for: "smoothing" }, "Smoothing ", smoothing, smoothingValue),
    el("label", { for: "x-mode" }, "X axis ", xMode),
    reset,
    exportAll,
    el("span", { class: "muted" }, "Ctrl+wheel zooms, drag pans."),
  );
  if (runs.length > 1) {
    const legend = el("div", { class: "run-legends", role: "list", "aria-label": "Runs" });
    runs.forEach((r, i) => {
      legend.append(el("span", { class: "run-legend", role: "listitem" }, dashSample(i), r.label));
    });
    toolbar.append(legend);
  }
}

/** A short line in run i's dash: the legend, the table and the heatmap captions name runs with it. */
function dashSample(run: number): SVGSVGElement {
  const sample = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  sample.setAttribute("width", "28");
  sample.setAttribute("height", "8");
  sample.setAttribute("aria-hidden", "true");
  sample.classList.add("dash-sample");
  sample.innerHTML = `<line x1="0" y1="4" x2="28" y2="4" stroke-dasharray="${runDash(run).join(" ")}"></line>`;
  return sample;
}

function select(
  id: string,
  options: [string, string][],
  value: string,
  onChange: (value: string) => void,
): HTMLSelectElement {
  const element = el("select", { id });
  for (const [v, label] of options) element.append(el("option", { value: v }, label));
  element.value = value;
  element.addEventListener("change", () => onChange(element.value));
  return element;
}

// ----- the cards

function heatmapWindowSelect(): HTMLSelectElement {
  const windowSelect = select(
    "heatmap-window",
    [
      ["0", "latest step"],
      ["10", "mean of 10"],
      ["50", "mean of 50"],
      ["200", "mean of 200"],
    ],
    String(view.heatmapWindow),
    (value) => {
      view.heatmapWindow = Number(value);
      persist();
      invalidate();
    },
  );
  windowSelect.setAttribute("aria-label", "Heatmap window");
  return windowSelect;
}

/** The cosine matrix a run's heatmap shows now (latest step, or the mean over the window), with its caption. */
/** The step the heatmaps are scrubbed back to (null: follow the latest). Not kept across reloads. */
let heatmapStep: number | null = null;

function heatmapOf(run: RunModel): { state: HeatmapState | null; caption: string } {
  // The latest step, no window (the live default): the model's own matrix, no copy of the ring.
  const latest = heatmapStep === null && view.heatmapWindow === 0;
  const recent = latest ? [] : run.recentCosines();
  const state = latest ? run.heatmap : heatmapAt(recent, heatmapStep, view.heatmapWindow);
  if (!state) return { state, caption: "No step yet." };
  if (view.heatmapWindow === 0)
    return { state, caption: `Step ${state.step}. Red: conflicting gradients (cos < 0); blue: aligned.` };
  const kept = recent.filter((m) => m.step <= state.step).length;
  return {
    state,
    caption: `Mean of the last ${Math.min(kept, view.heatmapWindow)} steps up to step ${state.step}.`,
  };
}

/**
 * The step slider of the heatmap card: scrubs every shown heatmap back through the matrices the
 * host kept (the last `heatmapWindowMax` steps of each run); at its right end it follows the
 * latest step.
 */
function heatmapStepSlider(shownRuns: () => RunModel[]): { element: HTMLElement; update: () => void } {
  const slider = el("input", {
    type: "range",
    id: "heatmap-step",
    min: "0",
    max: "0",
    step: "1",
    "aria-label": "Heatmap step",
  });
  const value = el("output", { for: "heatmap-step" }, "latest");
  const update = () => {
    const range = keptStepRange(shownRuns().map((r) => r.recentCosines()));
    slider.disabled = !range || range.min === range.max;
    if (!range) return;
    slider.min = String(range.min);
    slider.max = String(range.max);
    if (heatmapStep !== null) heatmapStep = Math.min(Math.max(heatmapStep, range.min), range.max);
    slider.value = String(heatmapStep ?? range.max);
    value.textContent = heatmapStep === null ? "latest" : String(heatmapStep);
  };
  slider.addEventListener("input", () => {
    const chosen = Number(slider.value);
    heatmapStep = chosen >= Number(slider.max) ? null : chosen;
    value.textContent = heatmapStep === null ? "latest" : String(heatmapStep);
    const card = cards.get("heatmap");
    if (card) card.stale = true;
    schedule();
  });
  return {
    element: el("label", { class: "heatmap-step", for: "heatmap-step" }, "step ", slider, value),
    update,
  };
}

function heatmapCard(container: HTMLElement, compact: boolean): void {
  heatmapStep = null;
  if (runs.length > 1 && !compact) {
    compareHeatmapCard(container);
    return;
  }
  const id = "heatmap";
  const element = cardShell(id, "Gradient conflicts (cosine)", {
    extra: [heatmapWindowSelect()],
    csv: false,
    png: !compact,
  });
  const caption = el("p", { class: "muted", id: "heatmap-caption" });
  const canvas = canvasIn(element, "Pairwise cosine of the task gradients", true);
  const slider = compact ? null : heatmapStepSlider(() => runs.slice(0, 1));
  element.append(caption, ...(slider ? [slider.element] : []));
  const chart = new HeatmapChart(canvas, palette);
  heatmaps = [chart];
  addOtherCard(container, {
    kind: "heatmap",
    id,
    title: "Gradient conflicts",
    element,
    chartObject: chart,
    render: () => {
      const run = primary();
      if (!run) return;
      slider?.update();
      const { state, caption: text } = heatmapOf(run);
      chart.setData(run.tasks, state?.cosines ?? null, palette, hiddenIndices(run));
      caption.textContent = text;
    },
  });
}

/** The run indices the compare heatmap shows: all of them side by side, or the one picked. */
function pickedHeatmapRuns(): number[] {
  const picked = Number(view.heatmapRun);
  if (view.heatmapRun !== "all" && Number.isInteger(picked) && picked >= 0 && picked < runs.length)
    return [picked];
  return runs.map((_, r) => r);
}

/**
 * Compare mode: one heatmap per run, side by side while they fit (they wrap under each other in
 * a narrow panel), or the one run picked, full width. The window choice and the hover tooltip
 * (which names the run) work on each.
 */
function compareHeatmapCard(container: HTMLElement): void {
  const id = "heatmap";
  const runSelect = select(
    "heatmap-run",
    [["all", "all runs, side by side"], ...runs.map((r, i): [string, string] => [String(i), r.label])],
    pickedHeatmapRuns().length === 1 ? view.heatmapRun : "all",
    (value) => {
      view.heatmapRun = value;
      persist();
      showPicked();
      invalidate();
    },
  );
  runSelect.setAttribute("aria-label", "Heatmap of which run");
  const element = cardShell(id, "Gradient conflicts (cosine)", {
    wide: true,
    extra: [runSelect, heatmapWindowSelect()],
    csv: false,
  });
  const row = el("div", { class: "heatmaps" });
  const figures = runs.map((run, r) => {
    const canvas = el("canvas", {
      role: "img",
      "aria-label": `Pairwise cosine of the task gradients, ${run.label}`,
    });
    const caption = el("span", { class: "muted heatmap-caption", "data-run": String(r) });
    const figure = el(
      "figure",
      { class: "heatmap-figure", "data-run": String(r) },
      el("figcaption", {}, dashSample(r), el("b", {}, run.label), " ", caption),
      el("div", { class: "chart-box square" }, canvas),
    );
    row.append(figure);
    const chart = new HeatmapChart(canvas, palette);
    chart.runLabel = run.label;
    return { figure, chart, caption, canvas };
  });
  const slider = heatmapStepSlider(() => pickedHeatmapRuns().map((r) => runs[r]));
  element.append(row, slider.element);
  heatmaps = figures.map((f) => f.chart);
  const showPicked = () => {
    const shown = new Set(pickedHeatmapRuns());
    figures.forEach((f, r) => {
      f.figure.hidden = !shown.has(r);
    });
  };
  showPicked();
  addOtherCard(container, {
    kind: "heatmap",
    id,
    title: "Gradient conflicts",
    element,
    chartObject: {
      // The PNG holds what is on screen: every shown run's heatmap, each under its name.
      chart: { toBase64Image: () => heatmapsPng(pickedHeatmapRuns().map((r) => figures[r])) },
      destroy: () => {
        for (const f of figures) f.chart.destroy();
      },
    } as OtherCard["chartObject"],
    render: () => {
      slider.update();
      for (const r of pickedHeatmapRuns()) {
        const run = runs[r];
        const { state, caption } = heatmapOf(run);
        figures[r].chart.setData(run.tasks, state?.cosines ?? null, palette, hiddenIndices(run));
        figures[r].caption.textContent = caption;
      }
    },
  });
}

/** Side-by-side heatmaps as one PNG, each titled with its run, on the editor background. */
function heatmapsPng(shown: { canvas: HTMLCanvasElement; chart: HeatmapChart }[]): string {
  const gap = 12;
  const titleHeight = 22;
  const ratio = window.devicePixelRatio || 1;
  const width = shown.reduce((w, f) => w + f.canvas.width, 0) + gap * ratio * (shown.length - 1);
  const height = Math.max(0, ...shown.map((f) => f.canvas.height)) + titleHeight * ratio;
  const out = document.createElement("canvas");
  out.width = Math.max(1, width);
  out.height = Math.max(1, height);
  const ctx = out.getContext("2d")!;
  ctx.fillStyle = palette.background;
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.fillStyle = palette.foreground;
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

function barsCard(container: HTMLElement, id: string, title: string, name: (task: string) => string): void {
  const element = cardShell(id, title, { csv: false });
  const canvas = canvasIn(element, `${title} per task, latest step`);
  const chart = new TaskBarChart(canvas, palette, title);
  addOtherCard(container, {
    kind: "bars",
    id,
    title,
    element,
    chartObject: chart,
    render: () => {
      const run = primary();
      if (!run) return;
      const hidden = hiddenIndices(run);
      const shown = run.tasks.map((_, t) => t).filter((t) => !hidden.has(t));
      chart.setData(
        shown.map((t) => run.tasks[t]),
        shown.map((t) => run.latest(name(run.tasks[t]))),
        shown.map((t) => taskColor(palette, t)),
        palette,
      );
    },
  });
}

function evalTableCard(container: HTMLElement): void {
  const id = "eval-table";
  const splitSelect = select(
    "eval-split",
    [
      ["validation", "validation"],
      ["test", "test"],
      ["train", "train"],
    ],
    view.evalSplit,
    (value) => {
      view.evalSplit = value;
      persist();
      invalidate();
    },
  );
  splitSelect.setAttribute("aria-label", "Evaluation split");
  const element = cardShell(id, "Evaluation: latest and best", {
    wide: runs.length > 1,
    png: false,
    extra: [splitSelect],
  });
  const body = el("div", {});
  element.append(body);
  // Live runs redraw ten times a second; the table changes only with an evaluation (or a view
  // option), so it is rebuilt only then (keeping a selection or hover in it meanwhile).
  let shown: { models: RunModel[]; key: string; palette: Palette } | null = null;
  addOtherCard(container, {
    kind: "table",
    id,
    title: "Evaluation",
    element,
    series: (run) =>
      EVAL_METRICS.flatMap((metric) => [
        ...run.tasks.map((task, t) => ({
          name: seriesName.evalMetric(view.evalSplit, metric, task),
          task: t,
          label: `${metric} ${task}`,
        })),
        { name: seriesName.evalMean(view.evalSplit, metric), task: null, label: `${metric} mean` },
      ]),
    render: () => {
      const run = primary();
      if (!run) return;
      const key = `${runs.map((r) => `${r.evalsAdded}:${r.tasks.join(",")}`).join("|")}|${view.evalSplit}|${view.hiddenTasks.join(",")}`;
      const same =
        shown?.key === key &&
        shown.palette === palette &&
        shown.models.length === runs.length &&
        shown.models.every((m, i) => m === runs[i]);
      if (same) return;
      shown = { models: [...runs], key, palette };
      if (runs.length > 1) {
        renderCompareEval(body);
        return;
      }
      const metrics = EVAL_METRICS;
      const head = el(
        "tr",
        {},
        el("th", { scope: "col" }, "task"),
        ...metrics.map((m) => el("th", { scope: "col" }, METRIC_TITLES[m])),
      );
      const cell = (name: string) => {
        const latest = run.latestEval[name];
        const best = run.best[name];
        if (latest === undefined) return el("td", {}, "–");
        return el(
          "td",
          {},
          formatMetric(latest),
          el(
            "span",
            { class: "best", title: best ? `best at step ${best.step}` : "" },
            best ? `best ${formatMetric(best.value)} @${best.step}` : "",
          ),
        );
      };
      const rows = run.tasks
        .filter((task) => !view.hiddenTasks.includes(task))
        .map((task) =>
          el(
            "tr",
            {},
            el("th", { scope: "row" }, task),
            ...metrics.map((m) => cell(seriesName.evalMetric(view.evalSplit, m, task))),
          ),
        );
      const mean = el(
        "tr",
        { class: "mean" },
        el("th", { scope: "row" }, "mean"),
        ...metrics.map((m) => cell(seriesName.evalMean(view.evalSplit, m))),
      );
      const hasAny = Object.keys(run.latestEval).some((k) => k.startsWith(`eval/${view.evalSplit}/`));
      body.replaceChildren(
        hasAny
          ? el(
              "table",
              {},
              el("caption", { class: "visually-hidden" }, `Evaluation on ${view.evalSplit}`),
              el("thead", {}, head),
              el("tbody", {}, ...rows, mean),
            )
          : el("p", { class: "muted" }, `No ${view.evalSplit} evaluation yet.`),
      );
    },
  });
}

const METRIC_TITLES: Record<string, string> = { auc: "AUC", gauc: "GAUC", logloss: "log loss" };

/**
 * Compare mode's table: under each task one row per run (named with its dash sample), each
 * metric's latest figure with the run's best below it; the best run per task and metric is
 * marked. A run without the task, or not evaluated yet, says so in its cells.
 */
function renderCompareEval(body: HTMLElement): void {
  const table = compareEval(runs, view.evalSplit, view.hiddenTasks);
  if (!table.hasAny) {
    body.replaceChildren(el("p", { class: "muted" }, `No ${view.evalSplit} evaluation in any run yet.`));
    return;
  }
  const cell = (c: EvalCell, run: string) => {
    if (c.state === "no-task")
      return el("td", { class: "missing", title: `${run} has no such task` }, "not in this run");
    if (c.state === "no-eval" || c.latest === undefined)
      return el("td", { class: "missing", title: `${run} has no ${view.evalSplit} evaluation` }, "–");
    const delta = c.delta
      ? el(
          "span",
          {
            class: `delta ${c.delta.better ? "better" : "worse"}`,
            title: `${c.delta.better ? "better" : "not better"} than ${runs[0].label}`,
          },
          ` Δ ${c.delta.value >= 0 ? "+" : "−"}${formatMetric(Math.abs(c.delta.value))}`,
        )
      : "";
    const best = c.best
      ? el(
          "span",
          { class: "best", title: `${run}'s best, at step ${c.best.step}` },
          `best ${formatMetric(c.best.value)} @${c.best.step}`,
          delta,
        )
      : "";
    const td = el("td", { class: c.winner ? "winner" : "" }, formatMetric(c.latest), best);
    if (c.winner) {
      td.prepend(
        el("span", { class: "winner-mark", "aria-hidden": "true", title: "best of the compared runs" }, "★ "),
      );
      td.append(el("span", { class: "visually-hidden" }, " (best of the compared runs)"));
    }
    return td;
  };
  const rows = table.groups.flatMap((group) =>
    group.rows.map((row, i) => {
      const run = runs[row.run];
      const tr = el("tr", {
        class: `${group.task === null ? "mean" : ""}${i === 0 ? " group-start" : ""}`.trim(),
        "data-run": String(row.run),
      });
      if (i === 0)
        tr.append(el("th", { scope: "rowgroup", rowspan: String(group.rows.length) }, group.task ?? "mean"));
      tr.append(
        el("th", { scope: "row", class: "run-name" }, dashSample(row.run), run.label),
        ...EVAL_METRICS.map((m) => cell(row.cells[m], run.label)),
      );
      return tr;
    }),
  );
  const head = el(
    "tr",
    {},
    el("th", { scope: "col" }, "task"),
    el("th", { scope: "col" }, "run"),
    ...EVAL_METRICS.map((m) => el("th", { scope: "col" }, METRIC_TITLES[m])),
  );
  body.replaceChildren(
    el(
      "table",
      { class: "compare-eval" },
      el("caption", { class: "visually-hidden" }, `Evaluation on ${view.evalSplit}, ${runs.length} runs`),
      el("thead", {}, head),
      el("tbody", {}, ...rows),
    ),
    el(
      "p",
      { class: "muted note" },
      table.sameTasks
        ? `★ best of the runs (by each run's best evaluation; higher AUC and GAUC, lower log loss). Δ: against ${runs[0].label}.`
        : `★ best of the runs per task; Δ: against ${runs[0].label}. The runs have different tasks, so their means are not ranked.`,
    ),
  );
}

function formatMetric(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : "–";
}

/** The strategy switcher and the hyperparameter form, built from hello's JSON Schemas. */
function controlsCard(container: HTMLElement, compact: boolean): void {
  const run = primary();
  if (!run || runs.length > 1) return;
  const id = "controls";
  const element = cardShell(id, compact ? "Strategy" : "Strategy and hyperparameters", {
    csv: false,
    png: false,
  });
  element.classList.add("controls-card");
  // The forms follow the run (a switch made elsewhere, a config saved) until the user edits them.
  let touched = false;
  element.addEventListener("input", () => {
    touched = true;
  });
  const strategyId = "strategy-select";
  const choices = run.strategies.length ? run.strategies : run.strategy ? [{ name: run.strategy.name }] : [];
  const strategySelect = select(
    strategyId,
    choices.map((s) => [s.name, s.title ? `${s.title} (${s.name})` : s.name]),
    run.strategy?.name ?? choices[0]?.name ?? "",
    () => rebuildFields(),
  );
  const summary = el("p", { class: "strategy-summary muted" });
  const fieldsHolder = el("div", {});
  let fields = buildFields(undefined);
  const rebuildFields = () => {
    const current = primary();
    const info = current?.strategies.find((s) => s.name === strategySelect.value);
    summary.textContent = info?.summary ?? "";
    const values =
      current?.strategy?.name === strategySelect.value ? current.strategy.params : (info?.defaults ?? {});
    fields = buildFields(info?.paramsSchema as ObjectSchema | undefined, values, { idPrefix: "param" });
    fieldsHolder.replaceChildren(fields.element);
  };
  rebuildFields();
  const switchButton = el("button", { type: "button", "data-control": "set-strategy" }, "Switch");
  const switchStatus = el("span", { class: "status", role: "status", "data-status": "set-strategy" });
  controlButtons.set("set-strategy", switchButton);
  controlStatus.set("set-strategy", switchStatus);
  switchButton.addEventListener("click", () => {
    const params = fields.read();
    if (params === null) {
      setResult("set-strategy", "Fix the highlighted parameters first.", "error");
      return;
    }
    touched = false;
    send("set-strategy", { type: "set-strategy", name: strategySelect.value, params });
  });
  element.append(
    el("div", { class: "form-row" }, el("label", { for: strategyId }, "Strategy"), strategySelect),
    summary,
    fieldsHolder,
    el("div", { class: "form-row" }, switchButton, switchStatus),
  );
  const hyperHolder = el("div", {});
  let hyper = buildFields(undefined);
  const rebuildHyper = () => {
    hyper = buildFields(HYPERPARAMETER_SCHEMA, primary()?.hyperparameters ?? {}, {
      onlyChanged: true,
      idPrefix: "hyper",
    });
    hyperHolder.replaceChildren(hyper.element);
  };
  if (!compact) {
    rebuildHyper();
    const apply = el("button", { type: "button", "data-control": "set-hyperparameters" }, "Apply");
    const applyStatus = el("span", { class: "status", role: "status", "data-status": "set-hyperparameters" });
    controlButtons.set("set-hyperparameters", apply);
    controlStatus.set("set-hyperparameters", applyStatus);
    apply.addEventListener("click", () => {
      const values = hyper.read();
      if (values === null)
        return setResult("set-hyperparameters", "Fix the highlighted values first.", "error");
      if (Object.keys(values).length === 0)
        return setResult("set-hyperparameters", "Nothing changed.", "error");
      touched = false;
      send("set-hyperparameters", { type: "set-hyperparameters", ...values });
    });
    element.append(
      el("h2", {}, "Hyperparameters"),
      hyperHolder,
      el("div", { class: "form-row" }, apply, applyStatus),
    );
  }
  let strategyKey = JSON.stringify(run.strategy);
  let hyperKey = JSON.stringify(run.hyperparameters);
  addOtherCard(container, {
    kind: "table",
    id,
    title: "Controls",
    element,
    render: () => {
      const current = primary();
      if (!current || touched || element.contains(document.activeElement)) return;
      const nextStrategy = JSON.stringify(current.strategy);
      if (nextStrategy !== strategyKey && current.strategy) {
        strategyKey = nextStrategy;
        strategySelect.value = current.strategy.name;
        rebuildFields();
      }
      const nextHyper = JSON.stringify(current.hyperparameters);
      if (!compact && nextHyper !== hyperKey) {
        hyperKey = nextHyper;
        rebuildHyper();
      }
    },
  });
  renderHeader();
}

function buildConflicts(): void {
  heatmapCard(grid, true);
  barsCard(grid, "norm-bars", "Gradient norm", seriesName.norm);
  barsCard(grid, "weight-bars", "Weight in the update", seriesName.weight);
  controlsCard(grid, true);
}

function buildDashboard(): void {
  const run = primary()!;
  buildToolbar(run);
  const normScale = select(
    "norm-scale",
    [
      ["linear", "linear"],
      ["log", "log"],
    ],
    view.normLog ? "log" : "linear",
    (value) => {
      view.normLog = value === "log";
      persist();
      invalidate();
    },
  );
  normScale.setAttribute("aria-label", "Gradient norm scale");
  addTimeCard(grid, "loss", "Loss per task", perTask(seriesName.loss));
  addTimeCard(grid, "norm", "Gradient norm per task", perTask(seriesName.norm), {
    log: () => view.normLog,
    extra: [normScale],
  });
  addTimeCard(grid, "weight", "Weight in the update", perTask(seriesName.weight));
  heatmapCard(grid, false);
  addTimeCard(grid, "conflicting-pairs", "Conflicting pairs", single(seriesName.conflictingPairs, "pairs"), {
    smooth: false,
  });
  addTimeCard(grid, "update-cosine", "cos(update, task gradient)", perTask(seriesName.updateCosine));
  addTimeCard(grid, "conflict-set", "Conflict set size", perTask(seriesName.conflictSet), { smooth: false });
  addTimeCard(grid, "correction", "Correction norm", perTask(seriesName.correction));
  addTimeCard(grid, "scale", "Magnitude scale", perTask(seriesName.scale));
  const evalSeries = (metric: string) => (r: RunModel) =>
    r.tasks.map((task, t) => ({
      name: seriesName.evalMetric(view.evalSplit, metric, task),
      task: t,
      label: task,
    }));
  addTimeCard(grid, "auc", "AUC", evalSeries("auc"), { smooth: false });
  addTimeCard(grid, "gauc", "GAUC", evalSeries("gauc"), { smooth: false });
  addTimeCard(grid, "logloss", "Log loss", evalSeries("logloss"), { smooth: false });
  evalTableCard(grid);
  addTimeCard(grid, "step-time", "Step time (ms)", single(seriesName.stepTime, "step time"));
  addTimeCard(grid, "steps-per-second", "Steps per second", single(seriesName.stepsPerSecond, "steps/s"));
  controlsCard(grid, false);
}

function ensureLayout(): void {
  const run = primary();
  const key = `${view.surface}|${runs.map((r) => `${r.runId}:${r.tasks.join(",")}:${r.strategies.length}`).join(";")}`;
  if (key === layoutKey) return;
  layoutKey = key;
  build();
  if (run) invalidate();
}

// ---------------------------------------------------------------------------------------------
// Commands and acks

let sequence = 0;

function post(message: WebviewToHost): void {
  vscode.postMessage(message);
}

function send(control: ControlKey, command: CommandMessage["command"]): void {
  if (isPending(control)) return;
  const id = `wv-${Date.now().toString(36)}-${++sequence}`;
  view.pending[id] = { control, sentAt: Date.now() };
  view.results[control] = { text: "waiting for the trainer…", level: "pending" };
  persist();
  post({ type: "command", id, runId: primary()?.runId, command });
  renderHeader();
}

function setResult(control: ControlKey, text: string, level: "ok" | "error"): void {
  view.results[control] = { text, level };
  persist();
  renderHeader();
}

const DONE_TEXT: Record<ControlKey, string> = {
  pause: "paused",
  resume: "resumed",
  stop: "stopping",
  checkpoint: "checkpoint requested",
  evaluate: "evaluation started",
  "set-strategy": "switched",
  "set-hyperparameters": "applied",
};

function isLive(run: RunModel): boolean {
  return run.state === "running" || run.state === "paused" || run.state === "starting";
}

/** A finished run takes no commands: what the controls said while it was live is history. */
function forgetControls(): void {
  view.pending = {};
  view.results = {};
}

/**
 * A command sent before a reload whose ack came while the panel was gone stays pending forever:
 * after a minute without an answer, say so instead of spinning.
 */
function expireStalePending(): void {
  const now = Date.now();
  for (const [id, pending] of Object.entries(view.pending)) {
    if (now - pending.sentAt < 60_000) continue;
    delete view.pending[id];
    view.results[pending.control] = {
      text: "no answer seen (the panel was closed meanwhile?)",
      level: "error",
    };
  }
  persist();
}

function resolveAck(ack: { id: string; ok: boolean; step?: number; error?: string }): void {
  const pending = view.pending[ack.id];
  if (!pending) return;
  delete view.pending[ack.id];
  const at = ack.step !== undefined ? ` at step ${ack.step}` : "";
  if (ack.ok) setResult(pending.control, `${DONE_TEXT[pending.control]}${at}`, "ok");
  else setResult(pending.control, ack.error ?? "refused", "error");
}

// ---------------------------------------------------------------------------------------------
// Export

function chartOf(id: string): { toBase64Image(type?: string, quality?: number): string } | null {
  const card = cards.get(id);
  if (!card) return null;
  if (card.kind === "time") return card.chart.chart;
  return card.chartObject?.chart ?? null;
}

function exportPng(id: string): void {
  const chart = chartOf(id);
  if (!chart) return;
  post({ type: "export-png", chart: id, dataUrl: chart.toBase64Image("image/png", 1) });
}

function exportCsv(id: string | null): void {
  const card = id ? cards.get(id) : null;
  const seriesOf = (run: RunModel) => {
    if (!card) return [...run.series.keys()].sort();
    const list = card.kind === "time" ? card.series(run) : (card.series?.(run) ?? []);
    return list.map((s) => s.name);
  };
  if (runs.length === 1) {
    post({
      type: "export-csv",
      runId: primary()?.runId,
      series: seriesOf(primary()!),
      suggestedName: id ?? "all",
    });
    return;
  }
  // Compare mode: the panel holds every run; one long-form file with a run column.
  const rows = ["run,series,step,time_ms,value"];
  for (const run of runs) {
    const body = run.toCsv(seriesOf(run)).trim().split("\n").slice(1);
    const label = csvField(run.label);
    for (const line of body) rows.push(`${label},${line}`);
  }
  post({ type: "export-csv", csv: `${rows.join("\n")}\n`, suggestedName: id ?? "compare" });
}

// ---------------------------------------------------------------------------------------------
// Host messages

/**
 * One delta: the host's changes since the previous one, applied at once (its size follows the
 * buckets touched, not the steps behind it); the redraw waits for the next frame, however many
 * deltas come before it. A mirror that cannot take the patch asks for a snapshot.
 */
function applyDelta(run: RunModel, message: Extract<HostToWebview, { type: "delta" }>): void {
  const started = performance.now();
  const tasksBefore = run.tasks.length;
  const strategiesBefore = run.strategies.length;
  try {
    run.applyPatch(message.patch);
  } catch {
    post({ type: "ready", surface: view.surface });
    return;
  }
  for (const ack of message.acks) resolveAck(ack);
  ingestMs += performance.now() - started;
  if (run.tasks.length !== tasksBefore || run.strategies.length !== strategiesBefore) ensureLayout();
  confirmApplied();
  invalidateLive();
}

/**
 * Live data redraws the charts at most every LIVE_REDRAW_MS (the header, with the step, every
 * frame): at a few hundred steps a second a chart redrawn 60 times a second shows nothing more,
 * and the raster time it takes is what a busy machine would otherwise take from the updates.
 */
const LIVE_REDRAW_MS = 100;
let lastLiveRedraw = Number.NEGATIVE_INFINITY;
let liveRedrawTimer: ReturnType<typeof setTimeout> | null = null;

function invalidateLive(): void {
  schedule(); // the header
  if (liveRedrawTimer !== null) return;
  const wait = lastLiveRedraw + LIVE_REDRAW_MS - performance.now();
  const redraw = () => {
    liveRedrawTimer = null;
    lastLiveRedraw = performance.now();
    invalidate();
  };
  if (wait <= 0) redraw();
  else liveRedrawTimer = setTimeout(redraw, wait);
}

/**
 * Tells the host the snapshot or delta is in: it holds the next one until then, so a busy panel
 * never has a queue of deltas gone stale to work through, whatever the trainer's speed. Said
 * once the data is in, not once drawn: the next frame draws the newest data either way.
 */
function confirmApplied(): void {
  post({ type: "applied" });
}

function handle(message: HostToWebview): void {
  switch (message.type) {
    case "snapshot": {
      if (message.surface) view.surface = message.surface;
      if (message.runDir) view.runDir = message.runDir;
      runs = [RunModel.fromSnapshot(message.run)];
      if (isLive(runs[0])) expireStalePending();
      else forgetControls();
      if (message.settings) applySettings(message.settings);
      persist();
      ensureLayout();
      confirmApplied();
      invalidate();
      break;
    }
    case "compare":
      runs = message.runs.map((r) => RunModel.fromSnapshot(r));
      if (message.settings) applySettings(message.settings);
      layoutKey = "";
      ensureLayout();
      invalidate();
      break;
    case "delta": {
      const run = runs.find((r) => r.runId === message.runId);
      // A delta for a run not shown (compare mode) is still taken: the host sends the next.
      if (run) applyDelta(run, message);
      else confirmApplied();
      break;
    }
    case "ack":
      resolveAck(message);
      break;
    case "settings":
      applySettings(message.settings);
      invalidate();
      break;
    case "notice":
      notice = { text: message.text, level: message.level };
      renderHeader();
      break;
  }
}

function applySettings(settings: { maxPoints?: number; heatmapWindowMax?: number }): void {
  const next: { maxPoints?: number; heatmapWindowMax?: number } = {};
  if (settings.maxPoints) next.maxPoints = settings.maxPoints;
  if (settings.heatmapWindowMax) next.heatmapWindowMax = settings.heatmapWindowMax;
  for (const run of runs) run.applySettings(next);
}

// ---------------------------------------------------------------------------------------------
// Start

function retheme(): void {
  palette = readPalette();
  const fontFamily =
    getComputedStyle(document.body).getPropertyValue("--vscode-font-family").trim() || "sans-serif";
  applyThemeDefaults(palette, fontFamily);
  for (const card of cards.values()) if (card.kind === "time") card.chart.theme(palette);
  // Swatches in the toolbar carry task colours too.
  layoutKey = "";
  ensureLayout();
  invalidate();
}

function themeClassKey(): string {
  return [...document.body.classList]
    .filter((c) => c.startsWith("vscode-"))
    .sort()
    .join(" ");
}

function start(): void {
  const style = document.createElement("style");
  if (scriptNonce) style.nonce = scriptNonce;
  style.textContent = css;
  document.head.append(style);
  registerCharts();
  palette = readPalette();
  applyThemeDefaults(
    palette,
    getComputedStyle(document.body).getPropertyValue("--vscode-font-family").trim() || "sans-serif",
  );
  app.append(header, toolbar, grid);
  document.body.append(app);
  build();
  // VS Code swaps the body's theme classes (and the variables) when the user changes theme.
  let themeClasses = themeClassKey();
  new MutationObserver(() => {
    const next = themeClassKey();
    if (next === themeClasses) return; // our own surface-* class changes
    themeClasses = next;
    retheme();
  }).observe(document.body, { attributes: true, attributeFilter: ["class"] });
  window.addEventListener("message", (event: MessageEvent) => {
    const data = event.data as HostToWebview | undefined;
    if (data && typeof data === "object" && typeof data.type === "string") handle(data);
  });
  // Commands still pending from before a reload keep their state; their acks may still come.
  post({ type: "ready", surface: view.surface });
}

/** Test and benchmark hooks (read-only views of the panel's state). */
(window as unknown as { __gradcraft: unknown }).__gradcraft = {
  perf,
  view,
  cards: () => [...cards.keys()],
  /** Milliseconds each card takes to redraw now (benchmark aid). */
  profile: (split = false) => {
    const out: Record<string, number> = {};
    const markers = allMarkers();
    const xEnd = primary()?.step ?? 0;
    for (const card of cards.values()) {
      const t = performance.now();
      if (split && card.kind === "time") {
        lineSeriesFor(card);
        out[`${card.id}:points`] = performance.now() - t;
      }
      renderCard(card, markers, xEnd);
      out[card.id] = performance.now() - t;
    }
    return out;
  },
  /** True while some chart on screen still waits for its redraw. */
  drawing: () => dirty || liveRedrawTimer !== null || [...cards.values()].some((c) => c.stale && c.visible),
  runs: () => runs,
  /** Page coordinates of a heatmap cell's centre; `run` picks the heatmap in compare mode. */
  heatmapCellCenter: (row: number, column: number, run = 0) => {
    const chart = heatmaps[run];
    const center = chart?.cellCenter(row, column);
    if (!center || !chart) return null;
    const rect = chart.chart.canvas.getBoundingClientRect();
    return { x: rect.left + center.x, y: rect.top + center.y };
  },
  /** The cells a heatmap draws (row task, column task, cosine), and whether it is on screen. */
  heatmapCells: (run = 0) => {
    const chart = heatmaps[run];
    if (!chart) return null;
    const shown = chart.chart.canvas.offsetParent !== null;
    return { shown, cells: chart.chart.data.datasets[0].data.map(({ x, y, v }) => ({ x, y, v })) };
  },
  /** What a heatmap's tooltip says now (hover), or null when it shows none. */
  heatmapTooltip: (run = 0) => {
    const tooltip = heatmaps[run]?.chart.tooltip;
    if (!tooltip || tooltip.opacity === 0 || tooltip.getActiveElements().length === 0) return null;
    return { title: tooltip.title.join(" "), lines: tooltip.body.flatMap((b) => b.lines) };
  },
  canvasOf: (id: string) => {
    const card = cards.get(id);
    if (!card) return null;
    return card.element.querySelector("canvas");
  },
  xTitle: (id: string) => {
    const card = cards.get(id);
    const x =
      card?.kind === "time"
        ? (card.chart.chart.options.scales as { x: { title: { text: string } } }).x
        : null;
    return x?.title.text ?? null;
  },
  datasetLabels: (id: string) => {
    const card = cards.get(id);
    return card?.kind === "time" ? card.chart.chart.data.datasets.map((d) => d.label) : [];
  },
  markerCount: (id: string) => {
    const card = cards.get(id);
    if (card?.kind !== "time") return [];
    const annotations = (
      card.chart.chart.options.plugins as {
        annotation: { annotations: Record<string, { label: { content: string } }> };
      }
    ).annotation.annotations;
    return Object.values(annotations).map((a) => a.label.content);
  },
  /** How a time chart draws its markers: label, dash, where the label sits and whether it shows. */
  markerStyles: (id: string) => {
    const card = cards.get(id);
    if (card?.kind !== "time") return [];
    const annotations = (
      card.chart.chart.options.plugins as {
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
  },
};

start();
