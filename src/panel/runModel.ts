/**
 * The run view model behind the dashboard: fed by trainer protocol messages, it keeps a bounded,
 * downsampled history of every series, the strategy timeline, the latest and recent cosine
 * matrices, the evaluation history with best values, and the run's state.
 *
 * Pure TypeScript (no vscode, no DOM): the extension host holds one per run and sends its snapshot
 * to a (re)opened panel, then patches of what changed (patch.ts); the webview holds a mirror
 * built from that snapshot and continued with those patches, so both sides hold the same
 * downsampled history and memory is bounded on both.
 */

import type { EvalMessage, StepMessage, TrainerMessage } from "../protocol/messages";
import { averageCosines, CosineRing } from "./cosineRing";
import { csvRow } from "./csv";
import { describeParamsChange, describeStrategy, formatValue } from "./format";
import { DownsampledSeries, type SeriesSnapshot } from "./series";
import {
  type BestValue,
  DEFAULT_PANEL_SETTINGS,
  EVAL_METRICS,
  type EvalEntry,
  type HeatmapState,
  LOWER_IS_BETTER,
  type Marker,
  type PanelSettings,
  type RunHeader,
  type RunPatch,
  type RunSnapshot,
  type RunState,
  type StrategyChoice,
  seriesName,
} from "./snapshot";

export class RunModel {
  readonly runId: string;
  label: string;
  state: RunState = "starting";
  stateDetail?: string;
  tasks: string[] = [];
  strategies: StrategyChoice[] = [];
  strategy: { name: string; params: Record<string, unknown> } | null = null;
  hyperparameters: Record<string, number> = {};
  step = 0;
  epoch = 0;
  startedAt: number | null = null;
  elapsed = 0;
  backend?: string;
  settings: PanelSettings;
  readonly series = new Map<string, DownsampledSeries>();
  markers: Marker[] = [];
  heatmap: HeatmapState | null = null;
  /** The latest cosine matrices (`recentCosines()`). */
  private readonly cosineRing: CosineRing;
  evals: EvalEntry[] = [];
  best: Record<string, BestValue> = {};
  latestEval: Record<string, number> = {};
  summary?: unknown;
  private previousStepAt: { step: number; time: number } | null = null;
  /** Counts changes (ingested messages, applied patches): a patch cursor with the same count has nothing to send. */
  revision = 0;
  /** Markers, evaluations and cosine matrices added since the model was made (the lists drop their oldest). */
  markersAdded = 0;
  evalsAdded = 0;
  cosinesAdded = 0;
  /** Times a resumed trainer took the model back to its checkpoint's step. */
  rewinds = 0;

  constructor(runId: string, label = runId, settings: Partial<PanelSettings> = {}) {
    this.runId = runId;
    this.label = label;
    this.settings = { ...DEFAULT_PANEL_SETTINGS, ...settings };
    this.cosineRing = new CosineRing(this.settings.heatmapWindowMax);
  }

  /** Series by name, created on first use. */
  seriesFor(name: string): DownsampledSeries {
    let series = this.series.get(name);
    if (!series) {
      series = new DownsampledSeries(this.settings.maxPoints);
      this.series.set(name, series);
    }
    return series;
  }

  /**
   * Reads one (already validated) trainer message. Types the dashboard does not show (log,
   * progress, attached) are ignored.
   */
  ingest(message: TrainerMessage): void {
    this.revision++;
    switch (message.type) {
      case "hello": {
        this.tasks = [...message.tasks];
        this.strategies = message.strategies.map((s) => ({
          name: s.name,
          title: s.title,
          summary: s.summary,
          paramsSchema: s.paramsSchema,
          defaults: s.defaults,
        }));
        this.backend = message.backend.name;
        // A resumed trainer goes back to its checkpoint and trains the steps after it again.
        if (message.resumedFrom && this.step > message.resumedFrom.step)
          this.rewindTo(message.resumedFrom.step);
        const started = Date.parse(message.startedAt);
        if (Number.isFinite(started)) this.startedAt = started;
        if (this.state === "starting") this.state = "running";
        break;
      }
      case "config": {
        const { training, strategy } = message.config;
        this.hyperparameters = {
          learningRate: training.learningRate,
          l2: training.l2,
          clipNorm: training.clipNorm,
          evalEvery: training.evalEvery,
        };
        this.strategy ??= { name: strategy.name, params: { ...strategy.params } };
        break;
      }
      case "step":
        this.readStep(message);
        break;
      case "eval":
        this.readEval(message);
        break;
      case "strategy-changed": {
        const next = { name: message.name, params: { ...message.params } };
        // The initial announcement is the starting point, not a change worth a marker.
        if (message.previous !== null && message.reason !== "initial") {
          const label =
            message.previous.name === next.name
              ? describeParamsChange(message.previous, next)
              : describeStrategy(next);
          this.addMarker({ step: message.step, time: this.elapsed, kind: "strategy", label });
        }
        this.strategy = next;
        break;
      }
      case "hyper-changed": {
        const parts: string[] = [];
        for (const change of message.changes) {
          if (typeof change.to === "number") this.hyperparameters[change.name] = change.to;
          parts.push(`${change.name} ${formatValue(change.from)}→${formatValue(change.to)}`);
        }
        this.addMarker({
          step: message.step,
          time: this.elapsed,
          kind: "hyperparameters",
          label: parts.join(", "),
        });
        break;
      }
      case "paused":
        this.state = "paused";
        this.addMarker({ step: message.step, time: this.elapsed, kind: "event", label: "paused" });
        break;
      case "resumed":
        this.state = "running";
        break;
      case "checkpoint":
        if (message.reason === "requested")
          this.addMarker({ step: message.step, time: this.elapsed, kind: "checkpoint", label: "checkpoint" });
        break;
      case "error":
        if (message.fatal) {
          this.state = "error";
          this.stateDetail = message.message;
        }
        break;
      case "done":
        if (this.state !== "error")
          this.state =
            message.reason === "failed" ? "error" : message.reason === "stopped" ? "stopped" : "done";
        this.stateDetail = message.reason;
        this.summary = message.summary;
        break;
      default:
        break;
    }
  }

  private readStep(message: StepMessage): void {
    const step = message.step;
    const time = message.wallMs;
    this.step = step;
    this.epoch = message.epoch;
    this.elapsed = time;
    if (this.state === "starting" || this.state === "paused") this.state = "running";
    const k = this.ensureTasks(message.losses.length);
    const perTask = (values: readonly number[] | undefined, name: (task: string) => string) => {
      if (!values) return;
      for (let t = 0; t < Math.min(k, values.length); t++)
        this.seriesFor(name(this.tasks[t])).append(step, time, values[t]);
    };
    perTask(message.losses, seriesName.loss);
    perTask(message.norms, seriesName.norm);
    perTask(message.weights, seriesName.weight);
    perTask(message.updateCosines, seriesName.updateCosine);
    perTask(message.projection?.conflictSetSize, seriesName.conflictSet);
    perTask(message.projection?.correctionNorm, seriesName.correction);
    perTask(message.projection?.magnitudeScale, seriesName.scale);
    this.seriesFor(seriesName.conflictingPairs).append(step, time, message.conflictingPairs);
    this.seriesFor(seriesName.updateNorm).append(step, time, message.updateNorm);
    this.seriesFor(seriesName.lr).append(step, time, message.learningRate);
    this.seriesFor(seriesName.stepTime).append(step, time, message.stepTimeMs);
    // Steps per second over wall time between step messages: includes evaluation and I/O, which
    // is what the user waits for (and counts coalesced steps); the first step uses its own time.
    let rate = message.stepTimeMs > 0 ? 1000 / message.stepTimeMs : Number.NaN;
    const previous = this.previousStepAt;
    if (previous && time > previous.time && step > previous.step) {
      rate = ((step - previous.step) * 1000) / (time - previous.time);
    }
    this.seriesFor(seriesName.stepsPerSecond).append(step, time, rate);
    this.previousStepAt = { step, time };
    // Six decimals: the heatmap shows two, even averaged over its whole window; the live panel
    // gets every step's matrix, so their size is most of what a fast run sends it.
    if (message.cosines.length === k * k)
      this.pushCosines({ step, cosines: message.cosines.map((c) => Math.round(c * 1e6) / 1e6) });
    if (this.strategy === null || this.strategy.name !== message.strategy) {
      // A trainer that sends no strategy-changed message still gets its switch marked.
      if (this.strategy !== null)
        this.addMarker({
          step,
          time,
          kind: "strategy",
          label: describeStrategy({ name: message.strategy, params: {} }),
        });
      this.strategy = { name: message.strategy, params: {} };
    }
  }

  private readEval(message: EvalMessage): void {
    const { step, split } = message;
    const time = this.elapsed;
    const metrics: Record<string, number[]> = { auc: [], gauc: [], logloss: [] };
    for (const entry of message.tasks) {
      let t = this.tasks.indexOf(entry.task);
      if (t < 0) t = this.ensureTasks(this.tasks.length + 1, entry.task) - 1;
      for (const metric of EVAL_METRICS) {
        const value = entry[metric];
        metrics[metric][t] = value ?? Number.NaN;
        if (value === null || !Number.isFinite(value)) continue;
        const name = seriesName.evalMetric(split, metric, entry.task);
        this.seriesFor(name).append(step, time, value);
        this.latestEval[name] = value;
        this.updateBest(name, metric, value, step);
      }
    }
    for (const metric of EVAL_METRICS) {
      const mean = message.mean[metric];
      if (mean === null || !Number.isFinite(mean)) continue;
      const name = seriesName.evalMean(split, metric);
      this.seriesFor(name).append(step, time, mean);
      this.latestEval[name] = mean;
      this.updateBest(name, metric, mean, step);
    }
    this.pushEval({
      step,
      time,
      split,
      metrics,
      ...(message.gaucApplicable === false && { gaucApplicable: false }),
    });
  }

  private pushEval(entry: EvalEntry): void {
    this.evalsAdded++;
    this.evals.push(entry);
    if (this.evals.length > this.settings.maxEvals) this.evals.shift();
  }

  private updateBest(name: string, metric: string, value: number, step: number): void {
    const previous = this.best[name];
    const better = LOWER_IS_BETTER.has(metric)
      ? value < (previous?.value ?? Number.POSITIVE_INFINITY)
      : value > (previous?.value ?? Number.NEGATIVE_INFINITY);
    if (better) this.best[name] = { value, step };
  }

  /**
   * Forgets everything after `step`: the series' later points, markers, evaluations and cosine
   * matrices, and the best and latest evaluation figures they gave. A view of the model then
   * needs a new snapshot (`rewinds` counts these), since a patch only ever adds.
   */
  private rewindTo(step: number): void {
    for (const [name, series] of this.series) this.series.set(name, series.truncated(step));
    this.markers = this.markers.filter((m) => m.step <= step);
    this.evals = this.evals.filter((e) => e.step <= step);
    this.cosineRing.reset(this.recentCosines().filter((c) => c.step <= step));
    this.heatmap = this.recentCosines().at(-1) ?? null;
    this.best = {};
    this.latestEval = {};
    for (const [name, series] of this.series) {
      if (!name.startsWith("eval/") || series.appended === 0) continue;
      // A series keeps every extreme (series.ts), so its best point survives downsampling.
      const metric = name.split("/")[2];
      series.forEach((x, _t, y) => {
        this.updateBest(name, metric, y, x);
      });
      this.latestEval[name] = series.last;
    }
    this.summary = undefined;
    this.step = step;
    this.previousStepAt = null;
    this.rewinds++;
  }

  /** Tasks named by hello; a trainer that skipped hello gets numbered ones. */
  private ensureTasks(k: number, name?: string): number {
    for (let t = this.tasks.length; t < k; t++) this.tasks.push(name ?? `task${t + 1}`);
    return k;
  }

  private pushCosines(entry: HeatmapState): void {
    this.cosinesAdded++;
    this.heatmap = entry;
    this.cosineRing.push(entry);
  }

  /** The kept cosine matrices, oldest first. */
  recentCosines(): HeatmapState[] {
    return this.cosineRing.list();
  }

  /** Mean of the last `window` cosine matrices (or of all kept ones when fewer). */
  averageCosines(window: number): HeatmapState | null {
    return averageCosines(this.recentCosines(), window);
  }

  addMarker(marker: Marker): void {
    const last = this.markers[this.markers.length - 1];
    if (last && last.step === marker.step && last.label === marker.label) return;
    this.markersAdded++;
    this.markers.push(marker);
    if (this.markers.length > this.settings.maxMarkers) this.markers.shift();
  }

  /**
   * Continues a mirror of the model a cursor watches with that cursor's patch (the webview's
   * live update). Throws when the mirror does not hold what the patch continues (then only a
   * snapshot can resync it).
   */
  applyPatch(patch: RunPatch): void {
    this.revision++;
    this.setHeader(patch);
    if (patch.strategies) this.strategies = patch.strategies;
    for (const [name, tail] of Object.entries(patch.series)) {
      // A tail from bucket 0 is the whole series (new, merged or resized on the host).
      const series =
        tail.from === 0
          ? new DownsampledSeries(tail.maxPoints)
          : (this.series.get(name) ?? new DownsampledSeries(tail.maxPoints));
      series.applyTail(tail);
      this.series.set(name, series);
    }
    if (patch.markers) {
      this.markers = [...patch.markers];
      this.markersAdded++;
    }
    for (const entry of patch.cosines ?? []) this.pushCosines(entry);
    for (const entry of patch.evals ?? []) this.pushEval(entry);
    if (patch.best) this.best = { ...patch.best };
    if (patch.latestEval) this.latestEval = { ...patch.latestEval };
    if ("summary" in patch) this.summary = patch.summary;
    if (this.step > 0) this.previousStepAt = { step: this.step, time: this.elapsed };
  }

  /** Applies new settings; series shrink (keeping their extremes) if the budget went down. */
  applySettings(settings: Partial<PanelSettings>): void {
    const next = { ...this.settings, ...settings };
    if (next.maxPoints !== this.settings.maxPoints) {
      for (const [name, series] of this.series) this.series.set(name, series.resized(next.maxPoints));
    }
    this.cosineRing.reset(this.recentCosines(), next.heatmapWindowMax);
    this.settings = next;
  }

  header(): RunHeader {
    return {
      state: this.state,
      stateDetail: this.stateDetail,
      tasks: [...this.tasks],
      strategy: this.strategy,
      hyperparameters: { ...this.hyperparameters },
      step: this.step,
      epoch: this.epoch,
      startedAt: this.startedAt,
      elapsed: this.elapsed,
      backend: this.backend,
    };
  }

  private setHeader(header: RunHeader): void {
    this.state = header.state;
    this.stateDetail = header.stateDetail;
    this.tasks = [...header.tasks];
    this.strategy = header.strategy;
    this.hyperparameters = { ...header.hyperparameters };
    this.step = header.step;
    this.epoch = header.epoch;
    this.startedAt = header.startedAt;
    this.elapsed = header.elapsed;
    this.backend = header.backend;
  }

  toSnapshot(): RunSnapshot {
    const series: Record<string, SeriesSnapshot> = {};
    for (const [name, s] of this.series) series[name] = s.toJSON();
    return {
      runId: this.runId,
      label: this.label,
      ...this.header(),
      strategies: this.strategies,
      settings: { ...this.settings },
      series,
      markers: [...this.markers],
      heatmap: this.heatmap,
      recentCosines: this.recentCosines(),
      evals: [...this.evals],
      best: { ...this.best },
      latestEval: { ...this.latestEval },
      summary: this.summary,
    };
  }

  static fromSnapshot(snapshot: RunSnapshot): RunModel {
    const model = new RunModel(snapshot.runId, snapshot.label, snapshot.settings);
    model.setHeader(snapshot);
    model.strategies = snapshot.strategies;
    for (const [name, s] of Object.entries(snapshot.series))
      model.series.set(name, DownsampledSeries.fromJSON(s));
    model.markers = [...snapshot.markers];
    model.heatmap = snapshot.heatmap;
    model.cosineRing.reset(snapshot.recentCosines);
    model.evals = [...snapshot.evals];
    model.best = { ...snapshot.best };
    model.latestEval = { ...snapshot.latestEval };
    model.summary = snapshot.summary;
    if (snapshot.step > 0) model.previousStepAt = { step: snapshot.step, time: snapshot.elapsed };
    return model;
  }

  /** Latest raw value of a series (NaN when none). */
  /** False once an evaluation said the data has no user column to group rows by (GAUC shows "n/a"). */
  get gaucApplicable(): boolean {
    return !this.evals.some((entry) => entry.gaucApplicable === false);
  }

  latest(name: string): number {
    return this.series.get(name)?.last ?? Number.NaN;
  }

  /** Mean steps/s over the kept history's tail, for the status line. */
  throughput(): { stepsPerSecond: number; stepTimeMs: number } {
    return {
      stepsPerSecond: this.latest(seriesName.stepsPerSecond),
      stepTimeMs: this.latest(seriesName.stepTime),
    };
  }

  /**
   * Every kept series as CSV: one row per kept point, columns series,step,time_ms,value. Long
   * form, so series of different lengths (evaluations, steps) share one file.
   */
  toCsv(names: string[] = [...this.series.keys()].sort()): string {
    const rows = ["series,step,time_ms,value", ...this.csvCells(names).map(csvRow)];
    return `${rows.join("\n")}\n`;
  }

  /** The cells of `toCsv`'s rows (series, step, time_ms, value), for files that add columns. */
  csvCells(names: readonly string[]): [series: string, step: number, timeMs: number, value: number][] {
    const rows: [string, number, number, number][] = [];
    for (const name of names) {
      this.series.get(name)?.forEach((x, t, y) => {
        rows.push([name, x, Math.round(t), y]);
      });
    }
    return rows;
  }
}
