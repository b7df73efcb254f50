/**
 * What a quality comparison is made of: the rows (a strategy with fixed parameters), the budget
 * every run gets, one record per run, and the report that gathers them with the table's
 * statistics.
 */

/** One row of the table: a strategy with fixed parameters. */
export interface QualityEntry {
  /** Row label, e.g. "gradcraft" or "gradcraft (ε=0)". */
  readonly label: string;
  readonly strategy: string;
  readonly params: Record<string, unknown>;
  /** True for the paper's ablation rows. */
  readonly ablation?: boolean;
}

export interface QualityBudget {
  /** Step cap per run (the same for every run); undefined: the preset's epochs only. */
  readonly maxSteps?: number;
  readonly epochs: number;
  readonly evalEvery: number;
  readonly patience: number;
  /**
   * The learning-rate grid, when each row's rate is tuned on validation as in the paper (every
   * rate is trained and the one with the best mean validation criterion over seeds is reported);
   * absent: every run uses the config's rate.
   */
  readonly learningRates?: readonly number[];
}

export interface RunKey {
  readonly label: string;
  readonly seed: number;
  /** Set for Single runs: the task trained. */
  readonly task?: number;
  /** Set when the plan has a learning-rate grid: this run's rate. */
  readonly learningRate?: number;
}

export interface RunRecord extends RunKey {
  readonly strategy: string;
  readonly params: Record<string, unknown>;
  readonly reason: string;
  readonly steps: number;
  /** Step of the selected (best validation) weights. */
  readonly bestStep: number | null;
  readonly wallMs: number;
  /** Test metrics of the selected weights, one per task (Single: only `task` is meaningful). */
  readonly testAuc: (number | null)[];
  readonly testGauc: (number | null)[];
  /** The selection criterion's best validation value (mean AUC; Single: task AUC). */
  readonly bestValidationAuc: number | null;
}

/** Mean and sample standard deviation (n − 1) over seeds; std is null below two values. */
export interface Stat {
  readonly mean: number | null;
  readonly std: number | null;
  readonly n: number;
}

export interface QualityRow {
  readonly label: string;
  readonly strategy: string;
  readonly params: Record<string, unknown>;
  readonly ablation: boolean;
  /** Per task, over seeds. */
  readonly auc: Stat[];
  readonly gauc: Stat[];
  /** AV: mean over tasks, per seed, then over seeds. */
  readonly avAuc: Stat;
  readonly avGauc: Stat;
  /** RI (fraction, not %): mean over tasks of (x − single)/single, paired by seed. */
  readonly riAuc: Stat;
  readonly riGauc: Stat;
  /** With a learning-rate grid: the rate chosen on validation (Single: one per task). */
  readonly learningRates?: (number | null)[];
}

export interface QualityReport {
  readonly dataset: string;
  /** The table's rows, in order (with their parameters). */
  readonly entries: QualityEntry[];
  /** False while runs of the plan are missing (a shard, or an interrupted run). */
  readonly complete: boolean;
  /** After a merge: seeds with runs missing, left out of the table (their runs stay in `runs`). */
  readonly partialSeeds?: Array<{ seed: number; runs: number; of: number }>;
  readonly taskNames: string[];
  readonly seeds: number[];
  readonly budget: QualityBudget;
  /**
   * The model and training settings every run shared (all but seed, budget and, with a grid, the
   * learning rate): reports are reused or merged only when these agree.
   */
  readonly settings?: Record<string, unknown>;
  readonly backend: string;
  readonly rows: QualityRow[];
  readonly runs: RunRecord[];
  readonly wallMs: number;
}

export const SINGLE = "single";

/** A run's identity in a plan: its row, seed, (Single) task and (with a grid) learning rate. */
export const runKey = (r: RunKey) =>
  `${r.label}|${r.seed}|${r.task ?? ""}${r.learningRate !== undefined ? `|${r.learningRate}` : ""}`;

/** Two rows are the same when they run the same strategy with the same parameters. */
export const sameEntry = (a: QualityEntry, b: QualityEntry) =>
  a.strategy === b.strategy && JSON.stringify(a.params) === JSON.stringify(b.params);
