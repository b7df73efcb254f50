import type { MetricSet } from "../protocol/messages";
import { finalHyper, finalStrategy, type RunRow } from "./runRows";

/**
 * The runs table's columns, sorting and filtering (docs/dashboard.md, "Runs table"): pure, so the
 * webview draws what these return and the unit tests check the same rules.
 */

export type Metric = keyof MetricSet;
export const METRICS: readonly Metric[] = ["auc", "gauc", "logloss"];
export const METRIC_LABELS: Record<Metric, string> = { auc: "AUC", gauc: "GAUC", logloss: "log loss" };

export type CellValue = number | string | null;

export interface RunsColumn {
  /** Stable key: "name", "hyper.learningRate", "test.auc.like", "validation.auc.mean"... */
  readonly key: string;
  /** Header text; metric columns name their split. */
  readonly label: string;
  /** Header group drawn above ("Best validation AUC", "Hyperparameters"...). */
  readonly group: string;
  readonly value: (row: RunRow) => CellValue;
  /** Higher is better for this column's metric (ties the ★ to the right end); absent: not a metric. */
  readonly better?: "higher" | "lower";
}

const splitLabel = { validation: "Best validation", test: "Test" } as const;

/**
 * The columns for these rows: identity, strategy, the hyperparameters that tell rows apart (the
 * others are one line above the table: `sharedHyper`), progress, then
 * one metric on the best validation evaluation and on the test evaluation, the mean and each task
 * (the union of the rows' tasks, in first-seen order).
 */
export function runsColumns(rows: readonly RunRow[], metric: Metric): RunsColumn[] {
  const same = new Set(Object.keys(sharedHyper(rows)));
  const hyperKeys = unionInOrder(rows.map((r) => Object.keys(r.hyper))).filter((key) => !same.has(key));
  const tasks = unionInOrder(rows.map((r) => r.tasks));
  const better = metric === "logloss" ? "lower" : "higher";
  const columns: RunsColumn[] = [
    { key: "name", label: "Run", group: "Run", value: (r) => r.name },
    { key: "status", label: "Status", group: "Run", value: (r) => r.status },
    { key: "started", label: "Started", group: "Run", value: (r) => r.startedAt },
    { key: "strategy", label: "Strategy", group: "Strategy", value: (r) => strategyLabel(r) },
    { key: "params", label: "Parameters", group: "Strategy", value: (r) => paramsText(r) },
    ...hyperKeys.map(
      (key): RunsColumn => ({
        key: `hyper.${key}`,
        label: key,
        group: "Hyperparameters",
        value: (r) => {
          const value = finalHyper(r)[key];
          return typeof value === "boolean" ? String(value) : (value ?? null);
        },
      }),
    ),
    { key: "changes", label: "Changes", group: "Hyperparameters", value: (r) => r.changes.length },
    { key: "steps", label: "Steps", group: "Progress", value: (r) => r.steps },
  ];
  for (const split of ["validation", "test"] as const) {
    const group = `${splitLabel[split]} ${METRIC_LABELS[metric]}`;
    columns.push({
      key: `${split}.${metric}.mean`,
      label: "mean",
      group,
      better,
      value: (r) => r[split]?.metrics.mean[metric] ?? null,
    });
    for (const task of tasks)
      columns.push({
        key: `${split}.${metric}.${task}`,
        label: task,
        group,
        better,
        value: (r) => r[split]?.metrics.tasks.find((t) => t.task === task)?.[metric] ?? null,
      });
  }
  return columns;
}

/**
 * The hyperparameters every row has with the same value, never changed mid-run: the table states
 * them once instead of repeating a column of equal cells. With fewer than two rows: none.
 */
export function sharedHyper(rows: readonly RunRow[]): Record<string, number | string | boolean> {
  if (rows.length < 2) return {};
  const shared: Record<string, number | string | boolean> = {};
  for (const [key, value] of Object.entries(rows[0].hyper)) {
    const same = rows.every((r) => r.hyper[key] === value && !r.changes.some((c) => c.name === key));
    if (same) shared[key] = value;
  }
  return shared;
}

/** "gradcraft", or "gradcraft → pcgrad" for a run that switched (each strategy once, in order). */
export function strategyLabel(row: RunRow): string {
  const names: string[] = [];
  for (const spell of row.strategies) if (names.at(-1) !== spell.name) names.push(spell.name);
  return names.join(" → ") || "?";
}

/** The final strategy's parameters, "tau=0.5, eps=1e-10" (sorted by name, so rows line up). */
export function paramsText(row: RunRow): string {
  const params = finalStrategy(row)?.params ?? {};
  return Object.keys(params)
    .sort()
    .map((key) => `${key}=${formatValue(params[key])}`)
    .join(", ");
}

export function formatValue(value: unknown): string {
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    const abs = Math.abs(value);
    return abs !== 0 && (abs < 1e-3 || abs >= 1e5)
      ? value.toExponential(1)
      : String(Number(value.toPrecision(4)));
  }
  return typeof value === "string" ? value : JSON.stringify(value);
}

export interface SortKey {
  readonly column: string;
  readonly descending: boolean;
}

/**
 * Rows ordered by one column. Missing values (a run not evaluated, a hyperparameter it lacks)
 * sort last whichever the direction; numbers by value, text by locale with numbers inside text
 * ordered numerically; ties keep the incoming order.
 */
export function sortRows(rows: readonly RunRow[], columns: readonly RunsColumn[], key: SortKey): RunRow[] {
  const column = columns.find((c) => c.key === key.column);
  if (!column) return [...rows];
  const sign = key.descending ? -1 : 1;
  return rows
    .map((row, index) => ({ row, index, value: column.value(row) }))
    .sort((a, b) => {
      if (a.value === null || b.value === null)
        return a.value === b.value ? a.index - b.index : a.value === null ? 1 : -1;
      const order =
        typeof a.value === "number" && typeof b.value === "number"
          ? a.value - b.value
          : String(a.value).localeCompare(String(b.value), undefined, { numeric: true });
      return order * sign || a.index - b.index;
    })
    .map((entry) => entry.row);
}

/** The fields a filter term can name: `tag:baseline`, `strategy:gradcraft`, `status:failed`. */
const FIELDS: Record<string, (row: RunRow) => string[]> = {
  name: (r) => [r.name, r.configName, r.folder],
  tag: (r) => [...r.tags],
  strategy: (r) => r.strategies.map((s) => s.name),
  status: (r) => [r.status],
  model: (r) => (r.model ? [r.model] : []),
  task: (r) => [...r.tasks],
  note: (r) => [r.note],
};

/**
 * Rows matching every term of the query (case-insensitive substrings). A bare term matches any
 * field, `field:text` only that field (name, tag, strategy, status, model, task, note); a term
 * with a leading "-" excludes the rows it matches. An empty query keeps every row.
 */
export function filterRows(rows: readonly RunRow[], query: string): RunRow[] {
  const terms = query.trim().toLowerCase().split(/\s+/).filter(Boolean).map(parseTerm);
  return rows.filter((row) => terms.every((term) => term.negate !== matches(row, term)));
}

interface Term {
  readonly field: string | null;
  readonly text: string;
  readonly negate: boolean;
}

function parseTerm(raw: string): Term {
  const negate = raw.startsWith("-") && raw.length > 1;
  const body = negate ? raw.slice(1) : raw;
  const colon = body.indexOf(":");
  const field = colon > 0 ? body.slice(0, colon) : null;
  if (field !== null && field in FIELDS) return { field, text: body.slice(colon + 1), negate };
  return { field: null, text: body, negate };
}

function matches(row: RunRow, term: Term): boolean {
  const fields = term.field ? [FIELDS[term.field]] : Object.values(FIELDS);
  return fields.some((values) => values(row).some((value) => value.toLowerCase().includes(term.text)));
}

/**
 * Per metric column, the ids of the rows holding its best value among `rows` (ties all win); a
 * column only one row has a value in is not ranked.
 */
export function bestInColumns(
  rows: readonly RunRow[],
  columns: readonly RunsColumn[],
): Map<string, Set<string>> {
  const best = new Map<string, Set<string>>();
  for (const column of columns) {
    if (!column.better) continue;
    const valued = rows
      .map((row) => ({ id: row.id, value: column.value(row) }))
      .filter(
        (e): e is { id: string; value: number } => typeof e.value === "number" && Number.isFinite(e.value),
      );
    if (valued.length < 2) continue;
    const pick = column.better === "higher" ? Math.max : Math.min;
    const top = pick(...valued.map((e) => e.value));
    best.set(column.key, new Set(valued.filter((e) => e.value === top).map((e) => e.id)));
  }
  return best;
}

function unionInOrder(lists: readonly (readonly string[])[]): string[] {
  const seen = new Set<string>();
  for (const list of lists) for (const item of list) seen.add(item);
  return [...seen];
}
