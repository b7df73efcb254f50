/**
 * Compare mode's pure parts: the evaluation table of several runs (one row per run under each
 * task, the best figure of each task and metric marked) and how each run is drawn (its lines'
 * colours and dash pattern, used by its lines, its legend sample and its strategy-switch markers).
 * No DOM here, so the rules are unit-tested in Node (test/unit/panel/compareEval.test.ts).
 */

import { averageCosines } from "../src/panel/cosineRing";
import { formatValue } from "../src/panel/format";
import {
  type BestValue,
  EVAL_METRICS,
  type EvalMetric,
  type HeatmapState,
  LOWER_IS_BETTER,
  seriesName,
} from "../src/panel/snapshot";
import { type Palette, taskColor } from "./theme";

/**
 * How one series of run `run` (of `runs` shown) is drawn. One run: in its task's colour, solid.
 * Several: in the run's colour, each task in its own dash, so a run reads as one colour across
 * every chart, its legend, its table rows and its heatmap.
 */
export function lineStyle(
  palette: Palette,
  tasks: readonly string[],
  runs: number,
  run: number,
  task: string | null,
): { color: string; dash: number[] } {
  if (runs > 1)
    return { color: runColor(palette, run), dash: task === null ? [] : taskDash(tasks.indexOf(task)) };
  return {
    color: task === null ? runColor(palette, run) : taskColor(palette, tasks.indexOf(task)),
    dash: [],
  };
}

/** Compare mode: run r's colour. */
export function runColor(palette: Palette, run: number): string {
  return palette.tasks[run % palette.tasks.length];
}

/** Compare mode: task t's line dash (solid, dashed, dotted, dash-dot, long dash, sparse dots). */
export const TASK_DASHES: number[][] = [[], [6, 3], [2, 2], [10, 3, 2, 3], [14, 4], [2, 6]];

export function taskDash(task: number): number[] {
  return TASK_DASHES[Math.max(0, task) % TASK_DASHES.length];
}

/** Line dash of run r: its lines, its legend sample and its markers share it. */
export const RUN_DASHES: number[][] = [[], [6, 3], [2, 2], [10, 3, 2, 3]];

export function runDash(run: number): number[] {
  return RUN_DASHES[run % RUN_DASHES.length];
}

/** What the table needs of a run (RunModel has it). */
export interface EvalRun {
  readonly label: string;
  readonly tasks: readonly string[];
  readonly latestEval: Readonly<Record<string, number>>;
  readonly best: Readonly<Record<string, BestValue>>;
}

/**
 * One cell: `no-task` when the run has no such task (runs with different task sets), `no-eval`
 * when it has the task but no evaluation on this split yet. `winner`: this run's best figure is
 * the best among the compared runs that have one (ties all win; nothing is marked when fewer than
 * two runs have a figure, or, for the mean, when the runs' task sets differ).
 */
export interface EvalCell {
  state: "value" | "no-eval" | "no-task";
  latest?: number;
  best?: BestValue;
  winner: boolean;
  /**
   * This run's ranked figure minus the first run's (the baseline the user picked first), and
   * whether that is an improvement (lower is better for log loss). Absent for the first run and
   * where either figure is missing.
   */
  delta?: { value: number; better: boolean };
}

export interface EvalRow {
  /** Index of the run in the compared list. */
  run: number;
  cells: Record<EvalMetric, EvalCell>;
}

export interface EvalGroup {
  /** The task, or null for the mean over each run's tasks. */
  task: string | null;
  rows: EvalRow[];
}

export interface EvalComparison {
  groups: EvalGroup[];
  /** Whether every run has the same tasks (the means are then comparable). */
  sameTasks: boolean;
  /** Whether any run has an evaluation on this split. */
  hasAny: boolean;
}

/**
 * The comparison table: one group per task (in the order the runs first name them), the mean
 * last, each with one row per run in the compared order. Hidden tasks are left out.
 */
export function compareEval(
  runs: readonly EvalRun[],
  split: string,
  hiddenTasks: readonly string[] = [],
): EvalComparison {
  const tasks = taskUnion(runs);
  const taskSets = runs.map((r) => [...r.tasks].sort().join("\u0000"));
  const sameTasks = taskSets.every((t) => t === taskSets[0]);
  const groups: EvalGroup[] = [];
  const group = (task: string | null, rank: boolean): EvalGroup => {
    const rows = runs.map((run, r) => {
      const cells = {} as Record<EvalMetric, EvalCell>;
      for (const metric of EVAL_METRICS) {
        if (task !== null && !run.tasks.includes(task)) {
          cells[metric] = { state: "no-task", winner: false };
          continue;
        }
        const name =
          task === null ? seriesName.evalMean(split, metric) : seriesName.evalMetric(split, metric, task);
        const latest = run.latestEval[name];
        cells[metric] =
          latest === undefined
            ? { state: "no-eval", winner: false }
            : { state: "value", latest, best: run.best[name], winner: false };
      }
      return { run: r, cells };
    });
    if (rank)
      for (const metric of EVAL_METRICS) {
        markWinners(rows, metric);
        markDeltas(rows, metric);
      }
    return { task, rows };
  };
  for (const task of tasks) if (!hiddenTasks.includes(task)) groups.push(group(task, true));
  groups.push(group(null, sameTasks));
  const hasAny = runs.some((run) => Object.keys(run.latestEval).some((k) => k.startsWith(`eval/${split}/`)));
  return { groups, sameTasks, hasAny };
}

/**
 * Every task of the runs, in the order they are first named: the table's groups, the toolbar's
 * toggles, and each task's colour, which then stays the same across runs whose task lists differ.
 */
export function taskUnion(runs: readonly { readonly tasks: readonly string[] }[]): string[] {
  const tasks: string[] = [];
  for (const run of runs) for (const task of run.tasks) if (!tasks.includes(task)) tasks.push(task);
  return tasks;
}

/** The figure a run is ranked by: its best evaluation (early stopping keeps that one), else its latest. */
export function rankedValue(cell: EvalCell): number | undefined {
  if (cell.state !== "value") return undefined;
  const value = cell.best?.value ?? cell.latest;
  return value !== undefined && Number.isFinite(value) ? value : undefined;
}

function markDeltas(rows: EvalRow[], metric: EvalMetric): void {
  const baseline = rankedValue(rows[0]?.cells[metric] ?? { state: "no-eval", winner: false });
  if (baseline === undefined) return;
  for (const row of rows.slice(1)) {
    const value = rankedValue(row.cells[metric]);
    if (value === undefined) continue;
    const delta = value - baseline;
    row.cells[metric].delta = { value: delta, better: LOWER_IS_BETTER.has(metric) ? delta < 0 : delta > 0 };
  }
}

function markWinners(rows: EvalRow[], metric: EvalMetric): void {
  const values = rows.map((row) => rankedValue(row.cells[metric]));
  const present = values.filter((v): v is number => v !== undefined);
  if (present.length < 2) return;
  const target = LOWER_IS_BETTER.has(metric) ? Math.min(...present) : Math.max(...present);
  rows.forEach((row, i) => {
    if (values[i] === target) row.cells[metric].winner = true;
  });
}

/**
 * The cosine matrix a heatmap shows: among the kept matrices (oldest first), the last one at or
 * before `step` (null: the latest), or the mean of the `window` matrices ending there.
 */
export function heatmapAt(
  kept: readonly HeatmapState[],
  step: number | null,
  window: number,
): HeatmapState | null {
  let end = kept.length;
  if (step !== null) while (end > 0 && kept[end - 1].step > step) end--;
  if (end === 0) return null;
  const upTo = kept.slice(0, end);
  return window > 0 ? averageCosines(upTo, window) : upTo[upTo.length - 1];
}

/** The steps the heatmap slider spans: from the earliest kept matrix of any run to the latest. */
export function keptStepRange(
  runs: readonly (readonly HeatmapState[])[],
): { min: number; max: number } | null {
  const firsts = runs.filter((k) => k.length > 0).map((k) => k[0].step);
  const lasts = runs.filter((k) => k.length > 0).map((k) => k[k.length - 1].step);
  if (firsts.length === 0) return null;
  return { min: Math.min(...firsts), max: Math.max(...lasts) };
}

/** What the config diff needs of a run (RunModel has it). */
export interface DiffRun {
  readonly strategy: { name: string; params: Record<string, unknown> } | null;
  readonly hyperparameters: Readonly<Record<string, number>>;
  readonly markers: readonly { step: number; kind: string; label: string }[];
}

export interface ConfigDiff {
  /** One row per setting any run has: each run's value ("–": none), and whether they differ. */
  rows: { name: string; values: string[]; differs: boolean }[];
  /** Each run's changes made while it ran (strategy switches, hyperparameter edits), in order. */
  changes: string[][];
}

/**
 * The config diff between compared runs: the strategy and its parameters in force now, the
 * hyperparameters, and each run's mid-run changes (which is why "now" may differ from the start).
 */
export function configDiff(runs: readonly DiffRun[]): ConfigDiff {
  const value = (v: unknown) => (v === undefined ? "–" : formatValue(v));
  const rows: ConfigDiff["rows"] = [];
  const add = (name: string, values: string[]) =>
    rows.push({ name, values, differs: new Set(values).size > 1 });
  add(
    "strategy",
    runs.map((r) => r.strategy?.name ?? "–"),
  );
  const params = [...new Set(runs.flatMap((r) => Object.keys(r.strategy?.params ?? {})))].sort();
  for (const p of params)
    add(
      `strategy ${p}`,
      runs.map((r) => value(r.strategy?.params[p])),
    );
  const hyper = [...new Set(runs.flatMap((r) => Object.keys(r.hyperparameters)))];
  for (const h of hyper)
    add(
      h,
      runs.map((r) => value(r.hyperparameters[h])),
    );
  const changes = runs.map((r) =>
    r.markers
      .filter((m) => m.kind === "strategy" || m.kind === "hyperparameters")
      .map((m) => `step ${m.step}: ${m.label}`),
  );
  return { rows, changes };
}
