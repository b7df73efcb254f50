/**
 * What a run model keeps, in the shapes a snapshot and a patch carry between the extension host
 * and the webview: the run's header fields, markers, evaluations, cosine matrices, settings, and
 * the names of the series, so that charts and every CSV export agree on them.
 */
import type { StrategyInfo } from "../protocol/messages";
import type { SeriesSnapshot, SeriesTail } from "./series";

export const EVAL_METRICS = ["auc", "gauc", "logloss"] as const;
export type EvalMetric = (typeof EVAL_METRICS)[number];

/**
 * A strategy the run offers the switch form: what `hello` announced of it (the protocol's
 * StrategyInfo without its citation). Only the name is certain: a choice built from the strategy in
 * force, for a run that never said hello, has nothing else.
 */
export type StrategyChoice = Pick<StrategyInfo, "name"> &
  Partial<Pick<StrategyInfo, "title" | "summary" | "paramsSchema" | "defaults">>;

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
  /** false: the data has no user column, so GAUC does not apply (every GAUC is NaN). */
  gaucApplicable?: false;
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
  strategies: StrategyChoice[];
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

/**
 * What changed in a run model since a cursor last looked: the panel's live update. Its size
 * follows the buckets touched, not the steps that arrived (a burst of 10,000 steps touches a few
 * buckets per series), so a fast trainer cannot flood the webview, and the mirror that applies
 * it holds exactly the host's min/max history: nothing is dropped.
 */
export interface RunPatch extends RunHeader {
  /** Only when they changed (hello). */
  strategies?: StrategyChoice[];
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
