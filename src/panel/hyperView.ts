import { meanOf, relativeImprovement } from "../core/metrics";
import { finalHyper, finalStrategy, type RunRow } from "./runRows";
import { strategyLabel } from "./runsTable";

/**
 * The hyperparameter view (docs/dashboard.md): the workspace's finished runs as the paper's
 * tables compare methods. Each run is a point with its strategy and parameters (the values in
 * force at the end) against its test AV AUC, AV GAUC (means over tasks) and RI (the mean over
 * tasks of the relative improvement over Single). Single is the runs with the `single` strategy
 * on the same tasks and data: for task t, the test metric of task t of the Single runs that
 * followed task t (their mean when there are several). Those runs are one composite "Single"
 * point, as the paper's Single row, once every task has one.
 */

export interface HyperPoint {
  /** The run folder; null for the composite Single point. */
  readonly id: string | null;
  readonly name: string;
  readonly strategy: string;
  /** Axis key → value: "strategy", "param.<name>", "hyper.<name>". */
  readonly values: Readonly<Record<string, number | string>>;
  readonly avAuc: number | null;
  readonly avGauc: number | null;
  readonly riAuc: number | null;
  readonly riGauc: number | null;
  /** Tasks RI was computed over (those with a Single baseline); 0 when there is none. */
  readonly riTasks: number;
  readonly tasks: number;
  /** Runs on the same tasks and data share a group (RI compares within it). */
  readonly group: number;
  readonly kind: "run" | "single";
}

export interface HyperAxis {
  readonly key: string;
  readonly label: string;
  readonly kind: "number" | "category";
  /** Positive values spanning two decades or more: drawn on a log scale. */
  readonly log: boolean;
}

export interface HyperData {
  readonly points: readonly HyperPoint[];
  /** What the x axis can show: the strategy, then each parameter that differs between points. */
  readonly parameters: readonly HyperAxis[];
  readonly metrics: readonly HyperAxis[];
  /** Plain sentences on what was compared and what is missing. */
  readonly notes: readonly string[];
}

export const HYPER_METRICS: readonly HyperAxis[] = [
  { key: "avAuc", label: "AV AUC (test)", kind: "number", log: false },
  { key: "avGauc", label: "AV GAUC (test)", kind: "number", log: false },
  { key: "riAuc", label: "RI AUC vs Single (test)", kind: "number", log: false },
  { key: "riGauc", label: "RI GAUC vs Single (test)", kind: "number", log: false },
];

const FINISHED: ReadonlySet<string> = new Set(["completed", "early-stopped", "stopped"]);

/** The view's data from the table's rows. */
export function hyperData(rows: readonly RunRow[]): HyperData {
  const finished = rows.filter((r) => FINISHED.has(r.status) && r.test !== null);
  const groups = [...new Set(finished.map((r) => r.dataKey))];
  const points: HyperPoint[] = [];
  const notes: string[] = [];
  for (const [group, key] of groups.entries()) {
    const members = finished.filter((r) => r.dataKey === key);
    const tasks = members[0].tasks;
    const singles = members.filter((r) => singleTask(r) !== null);
    const baseline = {
      auc: tasks.map((_, t) => baselineOf(singles, t, "auc")),
      gauc: tasks.map((_, t) => baselineOf(singles, t, "gauc")),
    };
    const covered = baseline.auc.filter((b) => b !== null).length;
    for (const row of members) {
      if (singleTask(row) !== null) continue;
      const perTask = (metric: "auc" | "gauc") =>
        tasks.map((task) => row.test?.metrics.tasks.find((m) => m.task === task)?.[metric] ?? null);
      const auc = perTask("auc");
      const gauc = perTask("gauc");
      points.push({
        id: row.id,
        name: row.name,
        strategy: strategyLabel(row),
        values: valuesOf(row),
        avAuc: meanOf(auc),
        avGauc: meanOf(gauc),
        riAuc: covered > 0 ? relativeImprovement(auc, baseline.auc) : null,
        riGauc: covered > 0 ? relativeImprovement(gauc, baseline.gauc) : null,
        riTasks: covered,
        tasks: tasks.length,
        group,
        kind: "run",
      });
    }
    if (covered === tasks.length)
      points.push({
        id: null,
        name: `Single (${singles.length} runs)`,
        strategy: "single",
        values: { strategy: "single" },
        avAuc: meanOf(baseline.auc),
        avGauc: meanOf(baseline.gauc),
        riAuc: 0,
        riGauc: 0,
        riTasks: covered,
        tasks: tasks.length,
        group,
        kind: "single",
      });
    else if (members.length > singles.length)
      notes.push(
        covered === 0
          ? `No Single runs on ${describeGroup(tasks)}: RI needs one \`single\` run per task.`
          : `Single runs cover ${covered} of ${tasks.length} tasks on ${describeGroup(tasks)}: RI is over those ${covered}.`,
      );
  }
  if (groups.length > 1)
    notes.push(
      `The runs use ${groups.length} different task lists or datasets: each run's RI is against the Single runs on its own data.`,
    );
  const unfinished = rows.length - finished.length;
  if (unfinished > 0)
    notes.push(`${unfinished} run${unfinished === 1 ? "" : "s"} without a test evaluation left out.`);
  return { points, parameters: parameterAxes(points), metrics: HYPER_METRICS, notes };
}

/** The task a Single run followed (its index), null for any other run or one that switched. */
export function singleTask(row: RunRow): number | null {
  if (row.strategies.length !== 1 || row.strategies[0].name !== "single") return null;
  const task = finalStrategy(row)?.params.task ?? 0;
  if (typeof task === "number") return task;
  const index = typeof task === "string" ? row.tasks.indexOf(task) : -1;
  return index >= 0 ? index : null;
}

function baselineOf(singles: readonly RunRow[], t: number, metric: "auc" | "gauc"): number | null {
  const values = singles
    .filter((r) => singleTask(r) === t)
    .map((r) => r.test?.metrics.tasks[t]?.[metric] ?? null);
  return meanOf(values);
}

function valuesOf(row: RunRow): Record<string, number | string> {
  const values: Record<string, number | string> = { strategy: strategyLabel(row) };
  for (const [key, value] of Object.entries(finalStrategy(row)?.params ?? {}))
    if (typeof value === "number" || typeof value === "string") values[`param.${key}`] = value;
  for (const [key, value] of Object.entries(finalHyper(row)))
    if (typeof value === "number" || typeof value === "string") values[`hyper.${key}`] = value;
  return values;
}

function parameterAxes(points: readonly HyperPoint[]): HyperAxis[] {
  const axes: HyperAxis[] = [{ key: "strategy", label: "strategy", kind: "category", log: false }];
  const keys = [...new Set(points.flatMap((p) => Object.keys(p.values)))].filter((k) => k !== "strategy");
  for (const key of keys) {
    const values = points.map((p) => p.values[key]).filter((v) => v !== undefined);
    if (new Set(values).size < 2) continue; // the same for every run: nothing to compare
    const numeric = values.every((v) => typeof v === "number");
    const nums = values as number[];
    const log = numeric && nums.every((v) => v > 0) && Math.max(...nums) / Math.min(...nums) >= 100;
    axes.push({
      key,
      label: key.replace(/^(param|hyper)\./, ""),
      kind: numeric ? "number" : "category",
      log,
    });
  }
  return axes;
}

function describeGroup(tasks: readonly string[]): string {
  return tasks.length <= 3 ? tasks.join(", ") : `${tasks.slice(0, 3).join(", ")} (+${tasks.length - 3})`;
}
