import { comparableSettings } from "./plan";
import {
  type QualityBudget,
  type QualityEntry,
  type QualityReport,
  type RunRecord,
  runKey,
  SINGLE,
  sameEntry,
} from "./report";
import { summarise } from "./statistics";

/**
 * Reports built from other reports: runs reused from earlier reports of the same plan (an
 * interrupted benchmark resumed, rows added), and reports of shards or separate invocations
 * merged into one table.
 */

/** A report given to reuse that belongs to another plan (dataset, tasks, budget or settings). */
export class ReuseMismatch extends Error {}

/**
 * Whether two reports' model and training settings differ. Reports written before settings were
 * recorded have none: they are taken as they are.
 */
function settingsDiffer(a: QualityReport["settings"], b: QualityReport["settings"]): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    JSON.stringify(comparableSettings(a)) !== JSON.stringify(comparableSettings(b))
  );
}

/** The runs of `reports` that belong to this plan (same dataset, tasks, budget, settings; same row). */
export function reusableRuns(
  reports: readonly QualityReport[],
  plan: {
    dataset: string;
    taskNames: readonly string[];
    budget: QualityBudget;
    settings: QualityReport["settings"];
    entries: readonly QualityEntry[];
  },
): Map<string, RunRecord> {
  const out = new Map<string, RunRecord>();
  for (const [i, report] of reports.entries()) {
    const differs = [
      report.dataset !== plan.dataset && `dataset ${report.dataset} (here ${plan.dataset})`,
      JSON.stringify(report.taskNames) !== JSON.stringify(plan.taskNames) && "tasks",
      JSON.stringify(report.budget) !== JSON.stringify(plan.budget) &&
        `budget ${JSON.stringify(report.budget)} (here ${JSON.stringify(plan.budget)})`,
      settingsDiffer(report.settings, plan.settings) &&
        `model or training settings ${JSON.stringify(report.settings)} (here ${JSON.stringify(plan.settings)})`,
    ].filter(Boolean);
    if (differs.length > 0)
      throw new ReuseMismatch(`cannot reuse report ${i + 1}: it has a different ${differs.join(", ")}`);
    for (const run of report.runs) {
      const here = plan.entries.find((e) => e.label === run.label);
      const there = report.entries.find((e) => e.label === run.label);
      if (here && there && sameEntry(here, there) && !out.has(runKey(run))) out.set(runKey(run), run);
    }
  }
  return out;
}

/**
 * Joins the reports of several shards, of interrupted and resumed invocations, or of plans with
 * different rows (a table extended with more strategies): same dataset, tasks and budget, and a
 * row present in several reports has the same parameters in each. Rows are united (ablations
 * last), runs too (a run present twice is kept once).
 */
export function mergeReports(parts: readonly QualityReport[]): QualityReport {
  if (parts.length === 0) throw new Error("nothing to merge");
  const [first] = parts;
  const same = (what: string, get: (r: QualityReport) => unknown) => {
    for (const [i, part] of parts.entries())
      if (JSON.stringify(get(part)) !== JSON.stringify(get(first)))
        throw new Error(`cannot merge: report ${i + 1} has different ${what} than report 1`);
  };
  same("dataset", (r) => r.dataset);
  same("tasks", (r) => r.taskNames);
  same("budget", (r) => r.budget);
  for (const [i, part] of parts.entries())
    if (settingsDiffer(part.settings, first.settings))
      throw new Error(`cannot merge: report ${i + 1} has different model or training settings than report 1`);
  const entries: QualityEntry[] = [];
  for (const [i, part] of parts.entries())
    for (const entry of part.entries) {
      const seen = entries.find((e) => e.label === entry.label);
      if (!seen) entries.push(entry);
      else if (!sameEntry(seen, entry))
        throw new Error(`cannot merge: report ${i + 1} has row "${entry.label}" with different parameters`);
    }
  entries.sort((a, b) => Number(a.ablation === true) - Number(b.ablation === true));
  const runs = new Map<string, RunRecord>();
  for (const part of parts)
    for (const run of part.runs) if (!runs.has(runKey(run))) runs.set(runKey(run), run);
  const planned = [...new Set(parts.flatMap((p) => p.seeds))].sort((a, b) => a - b);
  const k = first.taskNames.length;
  const rates = first.budget.learningRates?.length ?? 1;
  const perSeed = rates * entries.reduce((n, e) => n + (e.label === SINGLE ? k : 1), 0);
  const all = [...runs.values()];
  // A seed with runs missing would mix n's across rows and pair RI with a partial Single: the
  // table uses complete seeds only; the others are named in `partialSeeds`.
  const count = (seed: number) => all.filter((r) => r.seed === seed).length;
  const seeds = planned.filter((seed) => count(seed) === perSeed);
  const partialSeeds = planned
    .filter((seed) => count(seed) < perSeed)
    .map((seed) => ({ seed, runs: count(seed), of: perSeed }));
  return {
    ...first,
    seeds,
    ...(partialSeeds.length > 0 ? { partialSeeds } : {}),
    complete: partialSeeds.length === 0,
    backend: [...new Set(parts.map((p) => p.backend))].join(", "),
    entries,
    rows: summarise(entries, all, seeds, k),
    runs: all,
    // Shards run side by side: the longest is the wall time.
    wallMs: Math.max(...parts.map((p) => p.wallMs)),
  };
}
