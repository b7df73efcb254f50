/**
 * The run view model behind the dashboard: fed by trainer protocol messages, it keeps a bounded,
 * downsampled history of every series, the strategy timeline, the latest and recent cosine
 * matrices, the evaluation history with best values, and the run's state.
 *
 * Pure TypeScript (no vscode, no DOM): the extension host holds one per run and sends its snapshot
 * to a (re)opened panel; the webview holds a mirror built from that snapshot and fed the same
 * messages, so both sides downsample identically and memory is bounded on both.
 */

import type { EvalMessage, StepMessage, TrainerMessage } from "../../protocol/messages";

export const EVAL_METRICS = ["auc", "gauc", "logloss"] as const;
export type EvalMetric = (typeof EVAL_METRICS)[number];

// ---------------------------------------------------------------------------------------------
// Downsampled series
// ---------------------------------------------------------------------------------------------

/**
 * A bounded series of (step, time, value) points. Raw points are grouped into buckets of `width`
 * consecutive points; each bucket remembers its minimum and its maximum with the step and time
 * at which they occurred. When the buckets fill the budget, neighbours merge pairwise and the
 * width doubles: memory stays within `maxPoints` however long the run, and no extreme value (a
 * loss spike, a collapsing weight) is ever averaged away, it survives with its exact step.
 */
export class DownsampledSeries {
  /** Most points `points()` returns (two per bucket). */
  readonly maxPoints: number;
  private readonly maxBuckets: number;
  /** Raw points per full bucket. */
  private width = 1;
  private n = 0;
  private readonly xMin: Float64Array;
  private readonly tMin: Float64Array;
  private readonly yMin: Float64Array;
  private readonly xMax: Float64Array;
  private readonly tMax: Float64Array;
  private readonly yMax: Float64Array;
  private readonly count: Float64Array;
  private lastY = Number.NaN;
  private lastX = Number.NaN;
  private total = 0;
  /** Times the buckets merged: a mirror's copy of any bucket older than that is stale. */
  private merges = 0;

  constructor(maxPoints: number) {
    if (!Number.isInteger(maxPoints) || maxPoints < 8)
      throw new RangeError(`maxPoints must be an integer >= 8 (got ${maxPoints})`);
    this.maxPoints = maxPoints;
    // An even bucket count so that pairwise merging leaves no orphan.
    this.maxBuckets = Math.floor(maxPoints / 4) * 2;
    const b = this.maxBuckets;
    this.xMin = new Float64Array(b);
    this.tMin = new Float64Array(b);
    this.yMin = new Float64Array(b);
    this.xMax = new Float64Array(b);
    this.tMax = new Float64Array(b);
    this.yMax = new Float64Array(b);
    this.count = new Float64Array(b);
  }

  /** Appends one point; non-finite values are ignored (a diverged loss is a log line, not a point). */
  append(x: number, t: number, y: number): void {
    if (!Number.isFinite(y) || !Number.isFinite(x)) return;
    this.lastX = x;
    this.lastY = y;
    this.total++;
    let i = this.n - 1;
    if (i < 0 || this.count[i] >= this.width) {
      if (this.n === this.maxBuckets) {
        this.mergePairs();
      }
      i = this.n - 1;
      if (i < 0 || this.count[i] >= this.width) {
        i = this.n++;
        this.xMin[i] = this.xMax[i] = x;
        this.tMin[i] = this.tMax[i] = t;
        this.yMin[i] = this.yMax[i] = y;
        this.count[i] = 1;
        return;
      }
    }
    if (y < this.yMin[i]) {
      this.yMin[i] = y;
      this.xMin[i] = x;
      this.tMin[i] = t;
    }
    if (y > this.yMax[i]) {
      this.yMax[i] = y;
      this.xMax[i] = x;
      this.tMax[i] = t;
    }
    this.count[i]++;
  }

  private mergePairs(): void {
    const half = this.n >> 1;
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = a + 1;
      const minFrom = this.yMin[b] < this.yMin[a] ? b : a;
      const maxFrom = this.yMax[b] > this.yMax[a] ? b : a;
      const xMin = this.xMin[minFrom];
      const tMin = this.tMin[minFrom];
      const yMin = this.yMin[minFrom];
      const xMax = this.xMax[maxFrom];
      const tMax = this.tMax[maxFrom];
      const yMax = this.yMax[maxFrom];
      this.xMin[j] = xMin;
      this.tMin[j] = tMin;
      this.yMin[j] = yMin;
      this.xMax[j] = xMax;
      this.tMax[j] = tMax;
      this.yMax[j] = yMax;
      this.count[j] = this.count[a] + this.count[b];
    }
    this.n = half;
    this.width *= 2;
    this.merges++;
  }

  /** Buckets held now (a tail from `buckets - 1` on carries every change of the next appends). */
  get buckets(): number {
    return this.n;
  }

  /** Counts the merges: a tail taken across some tells the mirror to merge its own as often. */
  get generation(): number {
    return this.merges;
  }

  /** Number of points `points()` would return. */
  get length(): number {
    let length = 0;
    for (let i = 0; i < this.n; i++) length += this.xMin[i] === this.xMax[i] ? 1 : 2;
    return length;
  }

  /** How many raw points were appended in all. */
  get appended(): number {
    return this.total;
  }

  /** The latest raw value (NaN before the first). */
  get last(): number {
    return this.lastY;
  }

  get lastStep(): number {
    return this.lastX;
  }

  /** Visits the kept points in step order: each bucket's min and max, in the order they occurred. */
  forEach(visit: (x: number, t: number, y: number) => void): void {
    for (let i = 0; i < this.n; i++) {
      const minFirst = this.xMin[i] <= this.xMax[i];
      if (this.xMin[i] === this.xMax[i]) {
        visit(this.xMax[i], this.tMax[i], this.yMax[i]);
      } else if (minFirst) {
        visit(this.xMin[i], this.tMin[i], this.yMin[i]);
        visit(this.xMax[i], this.tMax[i], this.yMax[i]);
      } else {
        visit(this.xMax[i], this.tMax[i], this.yMax[i]);
        visit(this.xMin[i], this.tMin[i], this.yMin[i]);
      }
    }
  }

  points(): { x: number; t: number; y: number }[] {
    const out: { x: number; t: number; y: number }[] = [];
    this.forEach((x, t, y) => {
      out.push({ x, t, y });
    });
    return out;
  }

  toJSON(): SeriesSnapshot {
    const { from: _from, merged: _merged, ...snapshot } = this.tail();
    return snapshot;
  }

  /**
   * What a mirror needs to become this series: merge its own buckets `merged` times (merging is
   * deterministic, so its finished buckets merge into exactly ours), then take ours from `from`
   * on. `sent` is what the mirror holds: this series' bucket count and generation when it was
   * last sent (undefined: nothing, the tail is the whole series). A merge thus costs the mirror
   * no more data than an append.
   */
  tail(sent?: { buckets: number; generation: number }): SeriesTail {
    let from = 0;
    let merged = 0;
    if (sent && sent.generation <= this.merges) {
      // The last bucket sent may have grown since; the ones before it are final.
      from = Math.max(0, sent.buckets - 1);
      merged = this.merges - sent.generation;
      // After a merge, bucket j is the pair (2j, 2j+1): final only if both were.
      for (let m = 0; m < merged; m++) from >>= 1;
    }
    const n = this.n;
    const start = Math.min(from, n);
    const round = (a: Float64Array) => Array.from(a.subarray(start, n));
    return {
      from: start,
      merged,
      maxPoints: this.maxPoints,
      width: this.width,
      total: this.total,
      last: Number.isFinite(this.lastY) ? [this.lastX, this.lastY] : null,
      count: round(this.count),
      xMin: round(this.xMin),
      tMin: round(this.tMin),
      yMin: round(this.yMin),
      xMax: round(this.xMax),
      tMax: round(this.tMax),
      yMax: round(this.yMax),
    };
  }

  /** Continues this series with a tail of the series it mirrors (see `tail`). */
  applyTail(tail: SeriesTail): void {
    if (tail.maxPoints !== this.maxPoints)
      throw new RangeError(
        `series tail is for ${tail.maxPoints} points, this series keeps ${this.maxPoints}`,
      );
    // An odd last bucket is dropped by the merge: the tail always restarts at or before it.
    for (let m = 0; m < tail.merged; m++) this.mergePairs();
    if (tail.from > this.n)
      throw new RangeError(`series tail starts at bucket ${tail.from}, this series holds only ${this.n}`);
    const n = tail.from + tail.count.length;
    if (n > this.maxBuckets) throw new RangeError(`series tail holds ${n} buckets, more than it allows`);
    for (let j = 0; j < tail.count.length; j++) {
      const i = tail.from + j;
      this.count[i] = tail.count[j];
      this.xMin[i] = tail.xMin[j];
      this.tMin[i] = tail.tMin[j];
      this.yMin[i] = tail.yMin[j];
      this.xMax[i] = tail.xMax[j];
      this.tMax[i] = tail.tMax[j];
      this.yMax[i] = tail.yMax[j];
    }
    this.n = n;
    this.width = tail.width;
    this.total = tail.total;
    if (tail.last) [this.lastX, this.lastY] = tail.last;
  }

  /** Rebuilds a series from its snapshot; `maxPoints` may shrink it (merging), never grow it. */
  static fromJSON(snapshot: SeriesSnapshot, maxPoints = snapshot.maxPoints): DownsampledSeries {
    const series = new DownsampledSeries(snapshot.maxPoints);
    series.applyTail({ ...snapshot, from: 0, merged: 0 });
    return maxPoints < snapshot.maxPoints ? series.resized(maxPoints) : series;
  }

  /** A copy with another budget (used when the user changes the points-per-series setting). */
  resized(maxPoints: number): DownsampledSeries {
    const copy = new DownsampledSeries(maxPoints);
    // Re-appending the kept extremes keeps every spike; widths restart from the kept points.
    this.forEach((x, t, y) => {
      copy.append(x, t, y);
    });
    copy.total = this.total;
    // The latest raw point need not be an extreme that survived.
    copy.lastX = this.lastX;
    copy.lastY = this.lastY;
    return copy;
  }
}

/** Buckets [from, from + count.length) of a series after `merged` merges, and its state after them. */
export interface SeriesTail extends SeriesSnapshot {
  from: number;
  merged: number;
}

export interface SeriesSnapshot {
  maxPoints: number;
  width: number;
  total: number;
  last: [number, number] | null;
  count: number[];
  xMin: number[];
  tMin: number[];
  yMin: number[];
  xMax: number[];
  tMax: number[];
  yMax: number[];
}

// ---------------------------------------------------------------------------------------------
// What the model keeps
// ---------------------------------------------------------------------------------------------

export interface StrategyInfo {
  name: string;
  title?: string;
  summary?: string;
  /** JSON Schema of the strategy's parameters (from `hello`). */
  paramsSchema?: Record<string, unknown>;
  defaults?: Record<string, unknown>;
}

export type RunState = "starting" | "running" | "paused" | "stopped" | "done" | "error";

export type MarkerKind = "strategy" | "hyperparameters" | "checkpoint" | "event";

export interface Marker {
  step: number;
  /** Milliseconds since the run's first message. */
  time: number;
  kind: MarkerKind;
  label: string;
}

export interface EvalEntry {
  step: number;
  time: number;
  split: string;
  /** metric -> per-task values (NaN where the trainer sent none). */
  metrics: Record<string, number[]>;
}

export interface BestValue {
  value: number;
  step: number;
}

export interface HeatmapState {
  step: number;
  /** Row-major K×K. */
  cosines: number[];
}

export interface PanelSettings {
  /** Most points kept per series (both sides). */
  maxPoints: number;
  /** Most recent cosine matrices kept for the averaged heatmap. */
  heatmapWindowMax: number;
  /** Most strategy/hyperparameter markers kept (the oldest go first). */
  maxMarkers: number;
  /** Most evaluation rows kept for the table's history (the series keep the rest, downsampled). */
  maxEvals: number;
}

export const DEFAULT_PANEL_SETTINGS: PanelSettings = {
  maxPoints: 2000,
  heatmapWindowMax: 200,
  maxMarkers: 200,
  maxEvals: 200,
};

/** Metrics where lower is better; everything else (AUC, GAUC) is better when higher. */
export const LOWER_IS_BETTER: ReadonlySet<string> = new Set(["logloss", "loss"]);

/** The run's small fields: a snapshot and every patch carry them whole. */
export interface RunHeader {
  state: RunState;
  stateDetail?: string;
  tasks: string[];
  strategy: { name: string; params: Record<string, unknown> } | null;
  hyperparameters: Record<string, number>;
  step: number;
  epoch: number;
  /** Wall-clock ms of the run's first message. */
  startedAt: number | null;
  /** ms since start of the latest step. */
  elapsed: number;
  backend?: string;
}

export interface RunSnapshot extends RunHeader {
  runId: string;
  label: string;
  strategies: StrategyInfo[];
  settings: PanelSettings;
  series: Record<string, SeriesSnapshot>;
  markers: Marker[];
  heatmap: HeatmapState | null;
  recentCosines: HeatmapState[];
  evals: EvalEntry[];
  best: Record<string, BestValue>;
  latestEval: Record<string, number>;
  summary?: unknown;
}

/** Names of the series the model keeps, so charts and CSV export agree on them. */
export const seriesName = {
  loss: (task: string) => `loss/${task}`,
  norm: (task: string) => `norm/${task}`,
  weight: (task: string) => `weight/${task}`,
  updateCosine: (task: string) => `updateCosine/${task}`,
  conflictSet: (task: string) => `conflictSet/${task}`,
  correction: (task: string) => `correctionNorm/${task}`,
  scale: (task: string) => `magnitudeScale/${task}`,
  evalMetric: (split: string, metric: string, task: string) => `eval/${split}/${metric}/${task}`,
  evalMean: (split: string, metric: string) => `eval/${split}/${metric}/mean`,
  conflictingPairs: "conflictingPairs",
  updateNorm: "updateNorm",
  lr: "lr",
  stepTime: "stepTimeMs",
  stepsPerSecond: "stepsPerSecond",
} as const;

// ---------------------------------------------------------------------------------------------
// The run model
// ---------------------------------------------------------------------------------------------

export class RunModel {
  readonly runId: string;
  label: string;
  state: RunState = "starting";
  stateDetail?: string;
  tasks: string[] = [];
  strategies: StrategyInfo[] = [];
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
  /** Ring of the latest cosine matrices (oldest first once unrolled by `recentCosines()`). */
  private ring: HeatmapState[] = [];
  private ringStart = 0;
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

  constructor(runId: string, label = runId, settings: Partial<PanelSettings> = {}) {
    this.runId = runId;
    this.label = label;
    this.settings = { ...DEFAULT_PANEL_SETTINGS, ...settings };
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
    this.pushEval({ step, time, split, metrics });
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

  /** Tasks named by hello; a trainer that skipped hello gets numbered ones. */
  private ensureTasks(k: number, name?: string): number {
    for (let t = this.tasks.length; t < k; t++) this.tasks.push(name ?? `task${t + 1}`);
    return k;
  }

  private pushCosines(entry: HeatmapState): void {
    this.cosinesAdded++;
    this.heatmap = entry;
    const cap = this.settings.heatmapWindowMax;
    if (this.ring.length < cap) this.ring.push(entry);
    else {
      this.ring[this.ringStart] = entry;
      this.ringStart = (this.ringStart + 1) % cap;
    }
  }

  /** The kept cosine matrices, oldest first. */
  recentCosines(): HeatmapState[] {
    return [...this.ring.slice(this.ringStart), ...this.ring.slice(0, this.ringStart)];
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
    const kept = this.recentCosines().slice(-next.heatmapWindowMax);
    this.ring = kept;
    this.ringStart = 0;
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
    model.ring = snapshot.recentCosines.slice(-model.settings.heatmapWindowMax);
    model.evals = [...snapshot.evals];
    model.best = { ...snapshot.best };
    model.latestEval = { ...snapshot.latestEval };
    model.summary = snapshot.summary;
    if (snapshot.step > 0) model.previousStepAt = { step: snapshot.step, time: snapshot.elapsed };
    return model;
  }

  /** Latest raw value of a series (NaN when none). */
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
    const rows = ["series,step,time_ms,value"];
    for (const name of names) {
      const series = this.series.get(name);
      if (!series) continue;
      const quoted = csvField(name);
      series.forEach((x, t, y) => {
        rows.push(`${quoted},${x},${Math.round(t)},${y}`);
      });
    }
    return `${rows.join("\n")}\n`;
  }
}

/**
 * What changed in a run model since a cursor last looked: the panel's live update. Its size
 * follows the buckets touched, not the steps that arrived (a burst of 10,000 steps touches a few
 * buckets per series), so a fast trainer cannot flood the webview, and the mirror that applies
 * it holds exactly the host's min/max history: nothing is dropped.
 */
export interface RunPatch extends RunHeader {
  /** Only when they changed (hello). */
  strategies?: StrategyInfo[];
  /** The series with new points, from the first bucket that changed. */
  series: Record<string, SeriesTail>;
  /** The whole (bounded) marker list, when a marker was added. */
  markers?: Marker[];
  /** Cosine matrices added since, oldest first (at most the kept ones). */
  cosines?: HeatmapState[];
  /** Evaluation rows added since, oldest first, with the best and latest values they changed. */
  evals?: EvalEntry[];
  best?: Record<string, BestValue>;
  latestEval?: Record<string, number>;
  summary?: unknown;
}

/**
 * Remembers what one mirror (one webview) was sent of one model, and tells what changed since.
 * Cheap: one look at each series' bucket count and merge count, no step is replayed.
 */
export class PatchCursor {
  private readonly sent = new Map<
    string,
    { series: DownsampledSeries; generation: number; buckets: number; appended: number }
  >();
  private revision = -1;
  private strategies: StrategyInfo[] | null = null;
  private markersAdded = 0;
  private evalsAdded = 0;
  private cosinesAdded = 0;
  private summary: unknown;

  /** Everything the model holds now counts as sent (a snapshot of it just went). */
  reset(model: RunModel): void {
    this.sent.clear();
    for (const [name, series] of model.series) this.remember(name, series);
    this.revision = model.revision;
    this.strategies = model.strategies;
    this.markersAdded = model.markersAdded;
    this.evalsAdded = model.evalsAdded;
    this.cosinesAdded = model.cosinesAdded;
    this.summary = model.summary;
  }

  /** The changes since the last patch (or reset); null when there are none. */
  next(model: RunModel): RunPatch | null {
    if (model.revision === this.revision) return null;
    this.revision = model.revision;
    const series: Record<string, SeriesTail> = {};
    for (const [name, s] of model.series) {
      const sent = this.sent.get(name);
      if (sent && sent.series === s && sent.appended === s.appended && sent.generation === s.generation)
        continue;
      // A resized series (a new object) is sent whole.
      series[name] = s.tail(sent?.series === s ? sent : undefined);
      this.remember(name, s);
    }
    const patch: RunPatch = { ...model.header(), series };
    if (model.strategies !== this.strategies) {
      patch.strategies = model.strategies;
      this.strategies = model.strategies;
    }
    if (model.markersAdded !== this.markersAdded) {
      patch.markers = [...model.markers];
      this.markersAdded = model.markersAdded;
    }
    if (model.cosinesAdded !== this.cosinesAdded) {
      const kept = model.recentCosines();
      patch.cosines = kept.slice(Math.max(0, kept.length - (model.cosinesAdded - this.cosinesAdded)));
      this.cosinesAdded = model.cosinesAdded;
    }
    if (model.evalsAdded !== this.evalsAdded) {
      patch.evals = model.evals.slice(Math.max(0, model.evals.length - (model.evalsAdded - this.evalsAdded)));
      patch.best = { ...model.best };
      patch.latestEval = { ...model.latestEval };
      this.evalsAdded = model.evalsAdded;
    }
    if (model.summary !== this.summary) {
      patch.summary = model.summary;
      this.summary = model.summary;
    }
    return patch;
  }

  private remember(name: string, series: DownsampledSeries): void {
    this.sent.set(name, {
      series,
      generation: series.generation,
      buckets: series.buckets,
      appended: series.appended,
    });
  }
}

export function averageCosines(matrices: readonly HeatmapState[], window: number): HeatmapState | null {
  if (matrices.length === 0) return null;
  const used = matrices.slice(-Math.max(1, Math.floor(window)));
  const size = used[used.length - 1].cosines.length;
  const sum = new Array<number>(size).fill(0);
  let n = 0;
  for (const m of used) {
    if (m.cosines.length !== size) continue;
    for (let i = 0; i < size; i++) sum[i] += m.cosines[i];
    n++;
  }
  return { step: used[used.length - 1].step, cosines: sum.map((s) => s / n) };
}

export function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function formatValue(value: unknown): string {
  return typeof value === "number" ? formatNumber(value) : JSON.stringify(value);
}

export function formatNumber(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(2).replace("e+", "e");
  return String(Number(value.toPrecision(4)));
}

function describeParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === "number" ? formatNumber(v) : JSON.stringify(v)}`)
    .join(", ");
}

function describeStrategy(s: { name: string; params: Record<string, unknown> }): string {
  const params = describeParams(s.params);
  return params ? `→ ${s.name} (${params})` : `→ ${s.name}`;
}

function describeParamsChange(
  before: { name: string; params: Record<string, unknown> } | null,
  after: { name: string; params: Record<string, unknown> },
): string {
  const changed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after.params)) {
    if (JSON.stringify(before?.params?.[k]) !== JSON.stringify(v)) changed[k] = v;
  }
  return `${after.name}: ${describeParams(changed) || "parameters"}`;
}
