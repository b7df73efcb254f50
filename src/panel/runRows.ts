import type { TrainingConfig } from "../protocol/config";
import type { SplitMetrics, TrainerMessage } from "../protocol/messages";
import type { RunInfo, RunStatus } from "../protocol/runlog";

/**
 * One row of the runs table per run folder (docs/dashboard.md, "Runs table"): what the run is
 * (name, tags, strategy and its parameters, hyperparameters and every mid-run change) and what it
 * reached (status, steps, the best validation evaluation and the test evaluation, per task). Built
 * on the host from the run folder's files (`RunInfo` from scanRuns, the event log's messages) and
 * sent to the runs table's webview as plain JSON.
 */
export interface RunRow {
  /** The run folder's absolute path: the row's identity and what commands are given. */
  readonly id: string;
  /** The folder's own name ("20260101-120000-quick"), unique within the runs folder. */
  readonly folder: string;
  /** The run's display name: the user's, else the automatic `<strategy>-<shortId>` (run.json). */
  readonly name: string;
  /** The config's `name` (shared by every run of one config). */
  readonly configName: string;
  readonly tags: readonly string[];
  readonly note: string;
  /** ISO time the run started (its first session), null when unknown. */
  readonly startedAt: string | null;
  readonly status: RunStatus;
  readonly steps: number;
  readonly epochs: number | null;
  readonly wallMs: number | null;
  readonly tasks: readonly string[];
  /** "ple", "mmoe", "shared-bottom"; null when the run left no config. */
  readonly model: string | null;
  /** The strategy spells in order: the first from step 0, then one per switch. */
  readonly strategies: readonly StrategySpell[];
  /** The hyperparameters the run started with (learning rate, batch size...). */
  readonly hyper: Readonly<Record<string, number | string | boolean>>;
  /** Every mid-run hyperparameter change (strategy parameters too, as "strategy.<name>"). */
  readonly changes: readonly ParamChange[];
  /** The best validation evaluation (best mean AUC: the weights the run kept) and its step. */
  readonly validation: RowEvaluation | null;
  /** The test evaluation of the weights the run kept. */
  readonly test: RowEvaluation | null;
  /**
   * What makes two runs' test metrics comparable: the same tasks on the same data. The
   * hyperparameter view compares a run with the Single runs of the same key only.
   */
  readonly dataKey: string;
  /** What could not be read (the run is still listed). */
  readonly problems: readonly string[];
}

export interface StrategySpell {
  /** Steps after this one use the strategy (0: from the start). */
  readonly step: number;
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
}

export interface ParamChange {
  /** Steps after this one use the new value. */
  readonly step: number;
  readonly name: string;
  readonly from: unknown;
  readonly to: unknown;
}

export interface RowEvaluation {
  readonly split: "validation" | "test";
  /** Step after which the model was evaluated; null when the run's summary does not say. */
  readonly step: number | null;
  readonly metrics: SplitMetrics;
}

/** The training settings a row shows as its hyperparameters, in this order. */
export const HYPER_KEYS = [
  "learningRate",
  "batchSize",
  "l2",
  "clipNorm",
  "epochs",
  "maxSteps",
  "evalEvery",
  "patience",
  "gradientScope",
  "seed",
] as const;

/**
 * The row of one run. `messages` are the run's event log in order (step messages may be left out:
 * the step count comes from `info`); `info` is scanRuns' reading of the folder (status, summary,
 * config name, identity from run.json).
 */
export function runRow(info: RunInfo, messages: Iterable<TrainerMessage>): RunRow {
  let config: TrainingConfig | null = null;
  const strategies: StrategySpell[] = [];
  const changes: ParamChange[] = [];
  let bestValidation: RowEvaluation | null = null;
  let lastTest: RowEvaluation | null = null;
  let tasks = info.tasks;
  for (const message of messages) {
    switch (message.type) {
      case "hello":
        tasks = message.tasks;
        break;
      case "config":
        config = message.config;
        break;
      case "strategy-changed": {
        const current = strategies.at(-1);
        // A resumed session restates the strategy in force: a switch only when it differs.
        if (current && current.name === message.name && sameParams(current.params, message.params)) break;
        strategies.push({ step: message.step, name: message.name, params: message.params });
        break;
      }
      case "hyper-changed":
        for (const change of message.changes)
          changes.push({ step: message.step, name: change.name, from: change.from, to: change.to });
        break;
      case "eval": {
        const evaluation = { step: message.step, metrics: { tasks: message.tasks, mean: message.mean } };
        if (message.split === "validation" && message.best)
          bestValidation = { split: "validation", ...evaluation };
        if (message.split === "test") lastTest = { split: "test", ...evaluation };
        break;
      }
    }
  }
  if (strategies.length === 0 && config)
    strategies.push({ step: 0, name: config.strategy.name, params: config.strategy.params });
  if (strategies.length === 0 && info.strategy) strategies.push({ step: 0, name: info.strategy, params: {} });

  // The summary is evaluated on the weights the run kept (the best validation step's), after the
  // end; the evaluations in the log stand in for a run that never wrote one.
  const summary = info.summary;
  const bestStep = summary?.bestStep ?? null;
  const validation: RowEvaluation | null = summary?.splits.validation
    ? {
        split: "validation",
        step: bestStep ?? bestValidation?.step ?? null,
        metrics: summary.splits.validation,
      }
    : bestValidation;
  const test: RowEvaluation | null = summary?.splits.test
    ? { split: "test", step: bestStep ?? lastTest?.step ?? null, metrics: summary.splits.test }
    : lastTest;

  const configName = config?.name ?? info.name;
  const { identity } = info;
  return {
    id: info.dir,
    folder: folderName(info.dir),
    name: identity.name,
    configName,
    tags: [...identity.tags],
    note: identity.note,
    startedAt: info.startedAt,
    status: info.status,
    steps: info.steps,
    epochs: summary?.epochs ?? null,
    wallMs: summary?.wallMs ?? null,
    tasks: [...tasks],
    model: config?.model.type ?? null,
    strategies,
    hyper: config ? hyperOf(config) : {},
    changes,
    validation,
    test,
    dataKey: JSON.stringify({ tasks, data: config?.data ?? null }),
    problems: [...info.problems],
  };
}

function hyperOf(config: TrainingConfig): Record<string, number | string | boolean> {
  const hyper: Record<string, number | string | boolean> = {};
  for (const key of HYPER_KEYS) {
    const value = config.training[key];
    if (value !== undefined) hyper[key] = value;
  }
  return hyper;
}

/** The strategy a row ended with ("gradcraft"), and its parameters after every change. */
export function finalStrategy(row: RunRow): StrategySpell | null {
  const last = row.strategies.at(-1);
  if (!last) return null;
  const params: Record<string, unknown> = { ...last.params };
  for (const change of row.changes)
    if (change.step >= last.step && change.name.startsWith("strategy."))
      params[change.name.slice("strategy.".length)] = change.to;
  return { ...last, params };
}

/** The hyperparameters in force at the end: the starting ones with every change applied. */
export function finalHyper(row: RunRow): Record<string, number | string | boolean> {
  const hyper: Record<string, number | string | boolean> = { ...row.hyper };
  for (const change of row.changes) {
    const to = change.to;
    if (!change.name.startsWith("strategy.") && (typeof to === "number" || typeof to === "string"))
      hyper[change.name] = to;
  }
  return hyper;
}

function sameParams(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const key of keys) if (JSON.stringify(a[key]) !== JSON.stringify(b[key])) return false;
  return true;
}

function folderName(dir: string): string {
  return dir.split(/[\\/]/).filter(Boolean).at(-1) ?? dir;
}
