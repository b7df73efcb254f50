import { parseStrategyParams, requireStrategy } from "../core/combine";
import { meanOf, relativeImprovement } from "../core/metrics";
import { findStrategy, strategies } from "../core/strategies/index";
import { TrainingConfig } from "../protocol/config";
import type { SplitMetrics, TrainerMessage } from "../protocol/messages";
import type { BackendChoice } from "./backend";
import type { CommandChannel } from "./control";
import { batchCount, type Dataset } from "./data/index";
import { train } from "./train";

/**
 * The paper's quality comparison (Bai et al., GradCraft, KDD 2024, Table 2; DESIGN §2), rerunnable:
 * one run per strategy and seed on one dataset, early stopping on mean validation AUC with
 * patience, best weights restored, the test split reported; per-task AUC and GAUC, their averages
 * (AV), and RI, the mean over tasks of the relative improvement over Single; mean ± std over seeds.
 *
 * "Single" is one model per task, as in the paper: for each task t a run with the `single`
 * strategy following task t alone on the shared parameters (the other towers do not feed task t's
 * prediction), early-stopped and selected on task t's own validation AUC (the trainer's
 * `selectOn`), and only task t's test metrics kept.
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
}

export interface QualityOptions {
  /**
   * The resolved preset config (data, model, training), validated once by the caller; strategy,
   * seed and budget are set per run.
   */
  readonly base: TrainingConfig;
  /** Loaded once and shared by every run. */
  readonly dataset: Dataset;
  /** Name in the report (the preset's, e.g. "kuairand"); default the dataset's own. */
  readonly datasetName?: string;
  readonly entries: readonly QualityEntry[];
  /** Training seeds, e.g. [1, 2]: a seed sets initialisation, dropout and batch order. */
  readonly seeds: readonly number[];
  readonly backend: BackendChoice;
  readonly budget?: Partial<QualityBudget>;
  /** Called as runs start, progress and end (progress display). */
  readonly onEvent?: (event: QualityEvent) => void;
  /**
   * Run only every count-th run of the plan, starting at index (0-based), so that several
   * processes can share the plan; mergeReports joins their reports.
   */
  readonly shard?: { readonly index: number; readonly count: number };
  /** Walk this process's runs from the last: a worker started later then shares the plan with the first ones from the other end (their reports merge). */
  readonly reverse?: boolean;
  /** Called after each run with the report so far (to save partial results). */
  readonly onProgress?: (partial: QualityReport) => void;
  /**
   * Reports whose runs are taken instead of trained again (an interrupted benchmark resumed, or
   * rows added to a table): only runs of the same dataset, tasks and budget, whose row has the
   * same strategy and parameters here; the rest of those reports is ignored.
   */
  readonly reuse?: readonly QualityReport[];
}

export type QualityEvent =
  | { type: "run-start"; index: number; total: number; run: RunKey; stepBudget: number }
  | { type: "run-step"; index: number; total: number; run: RunKey; step: number; stepBudget: number }
  | { type: "run-end"; index: number; total: number; run: RunKey; record: RunRecord };

export interface RunKey {
  readonly label: string;
  readonly seed: number;
  /** Set for Single runs: the task trained. */
  readonly task?: number;
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
  readonly backend: string;
  readonly rows: QualityRow[];
  readonly runs: RunRecord[];
  readonly wallMs: number;
}

export const SINGLE = "single";

/** The paper's comparison, in its table's order; then the others we ship. */
export const PAPER_STRATEGIES = [
  "single",
  "ew",
  "uw",
  "dwa",
  "mgda",
  "pcgrad",
  "pcgrad-plus",
  "gradvac",
  "cagrad",
  "imtl-g",
  "db-mtl",
  "gradcraft",
] as const;

export function allStrategyNames(): string[] {
  const rest = strategies
    .map((s) => s.name)
    .filter((n) => !(PAPER_STRATEGIES as readonly string[]).includes(n));
  return [...PAPER_STRATEGIES, ...rest];
}

/**
 * The table's rows. Single is always included (RI needs it). GradCraft and PCGrad+ take the
 * preset's τ and ε (the paper tunes both on the same grid); the others their defaults. Ablations
 * (the paper's Table 4): ε fixed to 0, τ fixed to 1, τ = 0 ("ori", no magnitude step), and the
 * one-vs-one ("local") projection, each changing one thing from our GradCraft row.
 */
export function qualityEntries(
  names: readonly string[],
  options: { ablations: boolean; gradcraft: { tau: number; eps: number } },
): QualityEntry[] {
  const unknown = names.filter((n) => !findStrategy(n));
  if (unknown.length > 0)
    throw new Error(
      `unknown strateg${unknown.length > 1 ? "ies" : "y"} ${unknown.map((n) => `"${n}"`).join(", ")} (known: ${allStrategyNames().join(", ")})`,
    );
  const ordered = [SINGLE, ...names.filter((n) => n !== SINGLE)];
  const unique = ordered.filter((n, i) => ordered.indexOf(n) === i);
  const { tau, eps } = options.gradcraft;
  const entries: QualityEntry[] = unique.map((name) => ({
    label: name,
    strategy: name,
    params: name === "gradcraft" || name === "pcgrad-plus" ? { tau, eps } : {},
  }));
  if (options.ablations) {
    const ablation = (label: string, params: Record<string, unknown>): QualityEntry => ({
      label: `gradcraft (${label})`,
      strategy: "gradcraft",
      params: { tau, eps, ...params },
      ablation: true,
    });
    entries.push(
      ablation("ε=0", { eps: 0 }),
      ablation("τ=1", { tau: 1 }),
      ablation("τ=0, ori", { tau: 0 }),
      ablation("local", { projection: "local" }),
    );
  }
  for (const entry of entries) parseStrategyParams(requireStrategy(entry.strategy), entry.params);
  return entries;
}

// ---------------------------------------------------------------------------------------------
// Arithmetic of the table (tested on hand-made numbers). The mean and RI live in core/metrics.ts,
// shared with the extension's hyperparameter view.

export { meanOf, relativeImprovement };

const defined = (values: readonly (number | null | undefined)[]): number[] =>
  values.filter((x): x is number => typeof x === "number" && Number.isFinite(x));

export function meanStd(values: readonly (number | null | undefined)[]): Stat {
  const xs = defined(values);
  const mean = meanOf(xs);
  if (mean === null) return { mean: null, std: null, n: 0 };
  if (xs.length < 2) return { mean, std: null, n: xs.length };
  const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, std: Math.sqrt(variance), n: xs.length };
}

/** Per-seed task vectors of one row, in seed order. */
export interface SeedMetrics {
  readonly seed: number;
  readonly auc: (number | null)[];
  readonly gauc: (number | null)[];
}

/** One row's statistics from its per-seed task vectors and Single's (paired by seed). */
export function summariseRow(
  entry: QualityEntry,
  perSeed: readonly SeedMetrics[],
  single: readonly SeedMetrics[],
  k: number,
): QualityRow {
  const task = (metric: "auc" | "gauc", t: number) => meanStd(perSeed.map((s) => s[metric][t]));
  const baseline = (seed: number) => single.find((s) => s.seed === seed);
  const ri = (metric: "auc" | "gauc") =>
    meanStd(
      perSeed.map((s) => {
        const b = baseline(s.seed);
        return b ? relativeImprovement(s[metric], b[metric]) : null;
      }),
    );
  return {
    label: entry.label,
    strategy: entry.strategy,
    params: entry.params,
    ablation: entry.ablation === true,
    auc: Array.from({ length: k }, (_, t) => task("auc", t)),
    gauc: Array.from({ length: k }, (_, t) => task("gauc", t)),
    avAuc: meanStd(perSeed.map((s) => meanOf(s.auc))),
    avGauc: meanStd(perSeed.map((s) => meanOf(s.gauc))),
    riAuc: ri("auc"),
    riGauc: ri("gauc"),
  };
}

/** Assembles each row's per-seed vectors from the runs (Single: task t from the run for task t). */
export function seedMetrics(
  entry: QualityEntry,
  runs: readonly RunRecord[],
  seeds: readonly number[],
  k: number,
): SeedMetrics[] {
  const out: SeedMetrics[] = [];
  for (const seed of seeds) {
    const mine = runs.filter((r) => r.label === entry.label && r.seed === seed);
    if (mine.length === 0) continue;
    if (entry.strategy === SINGLE && entry.label === SINGLE) {
      const pick = (metric: "testAuc" | "testGauc") =>
        Array.from({ length: k }, (_, t) => mine.find((r) => r.task === t)?.[metric][t] ?? null);
      out.push({ seed, auc: pick("testAuc"), gauc: pick("testGauc") });
    } else out.push({ seed, auc: [...mine[0].testAuc], gauc: [...mine[0].testGauc] });
  }
  return out;
}

export function summarise(
  entries: readonly QualityEntry[],
  runs: readonly RunRecord[],
  seeds: readonly number[],
  k: number,
): QualityRow[] {
  const singleEntry = entries.find((e) => e.label === SINGLE);
  const single = singleEntry ? seedMetrics(singleEntry, runs, seeds, k) : [];
  return entries.map((entry) => summariseRow(entry, seedMetrics(entry, runs, seeds, k), single, k));
}

// ---------------------------------------------------------------------------------------------
// Running.

/** No host: nothing comes in, and what goes out is only watched for progress. */
function quietChannel(observe: (message: TrainerMessage) => void): CommandChannel {
  return { send: observe, takeCommands: () => [], nextCommand: async () => null, ack: () => {} };
}

const metricsOf = (m: SplitMetrics) => ({
  auc: m.tasks.map((t) => t.auc),
  gauc: m.tasks.map((t) => t.gauc),
});

/** The budget each run gets: the preset's, overridden by the caller's. */
export function resolveBudget(
  training: TrainingConfig["training"],
  override: Partial<QualityBudget> = {},
): QualityBudget {
  return {
    maxSteps: override.maxSteps ?? training.maxSteps,
    epochs: override.epochs ?? training.epochs,
    evalEvery: override.evalEvery ?? training.evalEvery,
    patience: override.patience ?? training.patience,
  };
}

export async function runQuality(options: QualityOptions): Promise<QualityReport> {
  const started = Date.now();
  const { dataset, seeds, entries } = options;
  const k = dataset.taskNames.length;
  const baseConfig = options.base;
  const budget = resolveBudget(baseConfig.training, options.budget);
  const perEpoch = batchCount(dataset.train, baseConfig.training.batchSize);
  const stepBudget = Math.min(budget.maxSteps ?? Number.POSITIVE_INFINITY, budget.epochs * perEpoch);
  const plan: RunKey[] = [];
  for (const seed of seeds)
    for (const entry of entries) {
      if (entry.label === SINGLE)
        for (let t = 0; t < k; t++) plan.push({ label: entry.label, seed, task: t });
      else plan.push({ label: entry.label, seed });
    }
  const datasetName = options.datasetName ?? dataset.name;
  const reused = reusableRuns(options.reuse ?? [], {
    dataset: datasetName,
    taskNames: dataset.taskNames,
    budget,
    entries,
  });
  const planned = new Set(plan.map(runKey));
  const runs: RunRecord[] = [...reused.values()].filter((r) => planned.has(runKey(r)));
  const toTrain = plan.filter((r) => !reused.has(runKey(r)));
  const shard = options.shard ?? { index: 0, count: 1 };
  if (
    !(
      Number.isInteger(shard.count) &&
      shard.count >= 1 &&
      Number.isInteger(shard.index) &&
      shard.index >= 0 &&
      shard.index < shard.count
    )
  )
    throw new Error(`shard ${shard.index + 1}/${shard.count}: expected 1 ≤ i ≤ n`);
  const mine = toTrain.filter((_, i) => i % shard.count === shard.index);
  if (options.reverse) mine.reverse();
  const report = (): QualityReport => ({
    dataset: datasetName,
    entries: [...entries],
    complete: runs.length === plan.length,
    taskNames: [...dataset.taskNames],
    seeds: [...seeds],
    budget,
    backend: options.backend.name,
    rows: summarise(entries, runs, seeds, k),
    runs: [...runs],
    wallMs: Date.now() - started,
  });
  for (const [index, run] of mine.entries()) {
    const entry = entries.find((e) => e.label === run.label) as QualityEntry;
    options.onEvent?.({ type: "run-start", index, total: mine.length, run, stepBudget });
    const onStep = (step: number) =>
      options.onEvent?.({ type: "run-step", index, total: mine.length, run, step, stepBudget });
    const record = await runOne(options, baseConfig, entry, run, budget, onStep);
    runs.push(record);
    options.onEvent?.({ type: "run-end", index, total: mine.length, run, record });
    options.onProgress?.(report());
  }
  return report();
}

/** A report given to reuse that belongs to another plan (dataset, tasks or budget). */
export class ReuseMismatch extends Error {}

const runKey = (r: RunKey) => `${r.label}|${r.seed}|${r.task ?? ""}`;

const sameEntry = (a: QualityEntry, b: QualityEntry) =>
  a.strategy === b.strategy && JSON.stringify(a.params) === JSON.stringify(b.params);

/** The runs of `reports` that belong to this plan (same dataset, tasks, budget; same row). */
function reusableRuns(
  reports: readonly QualityReport[],
  plan: {
    dataset: string;
    taskNames: readonly string[];
    budget: QualityBudget;
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
  const perSeed = entries.reduce((n, e) => n + (e.label === SINGLE ? k : 1), 0);
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

async function runOne(
  options: QualityOptions,
  baseConfig: TrainingConfig,
  entry: QualityEntry,
  run: RunKey,
  budget: QualityBudget,
  onStep: (step: number) => void,
): Promise<RunRecord> {
  const task = run.task;
  const config = TrainingConfig.parse({
    ...baseConfig,
    name: `quality-${entry.label}-${run.seed}`,
    strategy: {
      name: entry.strategy,
      // Seeded strategies (PCGrad's task order) follow the run's seed.
      params: {
        ...entry.params,
        ...(task !== undefined ? { task } : {}),
        ...seedParam(entry.strategy, run.seed),
      },
    },
    training: {
      ...baseConfig.training,
      seed: run.seed,
      evalEvery: budget.evalEvery,
      patience: budget.patience,
      epochs: budget.epochs,
      maxSteps: budget.maxSteps,
    },
  });
  // Single: one model per task, stopped and selected on that task's own validation AUC.
  const selectOn = (m: SplitMetrics) => (task !== undefined ? m.tasks[task]?.auc : m.mean.auc) ?? null;
  const result = await train({
    config,
    baseDir: process.cwd(),
    runDir: null,
    channel: quietChannel((message) => {
      if (message.type === "step") onStep(message.step);
    }),
    backend: options.backend,
    dataset: options.dataset,
    selectOn,
  });
  const { summary } = result;
  const k = options.dataset.taskNames.length;
  const none = () => new Array<number | null>(k).fill(null);
  const test = summary.splits.test ? metricsOf(summary.splits.test) : { auc: none(), gauc: none() };
  const validation = summary.splits.validation;
  return {
    ...run,
    strategy: entry.strategy,
    params: config.strategy.params,
    reason: result.reason,
    steps: summary.steps,
    bestStep: summary.bestStep ?? null,
    wallMs: summary.wallMs,
    testAuc: test.auc,
    testGauc: test.gauc,
    bestValidationAuc: validation ? selectOn(validation) : null,
  };
}

function seedParam(strategy: string, seed: number): Record<string, unknown> {
  const definition = requireStrategy(strategy);
  const defaults = definition.params.parse({}) as Record<string, unknown>;
  return "seed" in defaults ? { seed } : {};
}

// ---------------------------------------------------------------------------------------------
// Presentation.

const fixed = (x: number, digits: number) => x.toFixed(digits).replace(/^(-?)0\./, "$1.");

/** ".8361 ± .0012" (std omitted below two seeds). */
export function formatStat(stat: Stat, kind: "metric" | "percent" = "metric"): string {
  if (stat.mean === null) return "–";
  if (kind === "percent") {
    const mean = `${stat.mean >= 0 ? "+" : ""}${(stat.mean * 100).toFixed(2)}%`;
    return stat.std === null ? mean : `${mean} ± ${(stat.std * 100).toFixed(2)}`;
  }
  return stat.std === null ? fixed(stat.mean, 4) : `${fixed(stat.mean, 4)} ± ${fixed(stat.std, 4)}`;
}

/** Two tables (AUC, GAUC): a row per strategy, a column per task, then AV and RI. */
export function tableRows(
  report: Pick<QualityReport, "rows" | "taskNames">,
  metric: "auc" | "gauc",
): string[][] {
  const header = ["strategy", ...report.taskNames, "AV", "RI"];
  const body = report.rows.map((row) => [
    row.label,
    ...row[metric].map((s) => formatStat(s)),
    formatStat(metric === "auc" ? row.avAuc : row.avGauc),
    row.label === SINGLE ? "–" : formatStat(metric === "auc" ? row.riAuc : row.riGauc, "percent"),
  ]);
  return [header, ...body];
}

export function markdownTable(rows: string[][]): string {
  const [header, ...body] = rows;
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...body.map(line)].join("\n");
}

export function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  const pad = (cell: string, c: number) =>
    c === 0
      ? cell + " ".repeat(widths[c] - [...cell].length)
      : " ".repeat(widths[c] - [...cell].length) + cell;
  const lines = rows.map((r) => r.map(pad).join("  "));
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------
// Beside the paper.

/**
 * The paper's averages on WeChat Channels (6 tasks, PLE; Bai et al., KDD 2024, Table 2, as DESIGN
 * §2 records them): mean AUC and mean GAUC over tasks. "UC" is its name for UW, "IMTL" IMTL-G.
 */
export const PAPER_WECHAT: Readonly<Record<string, { auc: number; gauc: number }>> = {
  single: { auc: 0.8361, gauc: 0.677 },
  ew: { auc: 0.8369, gauc: 0.6798 },
  uw: { auc: 0.8358, gauc: 0.6824 },
  dwa: { auc: 0.8367, gauc: 0.6809 },
  mgda: { auc: 0.8309, gauc: 0.6718 },
  pcgrad: { auc: 0.8371, gauc: 0.683 },
  "pcgrad-plus": { auc: 0.8373, gauc: 0.6802 },
  gradvac: { auc: 0.8366, gauc: 0.679 },
  cagrad: { auc: 0.8369, gauc: 0.6815 },
  "imtl-g": { auc: 0.8367, gauc: 0.681 },
  "db-mtl": { auc: 0.835, gauc: 0.6796 },
  gradcraft: { auc: 0.8385, gauc: 0.6842 },
};

/** Ranks, 1 = largest; ties share their average rank. */
export function ranks(values: readonly number[]): number[] {
  const order = values.map((v, i) => ({ v, i })).sort((a, b) => b.v - a.v);
  const out = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && order[end].v === order[start].v) end++;
    for (let j = start; j < end; j++) out[order[j].i] = (start + 1 + end) / 2;
    start = end;
  }
  return out;
}

/** Spearman's ρ: Pearson's correlation of the ranks (null below three pairs or with no spread). */
export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length !== b.length) throw new Error(`spearman: ${a.length} against ${b.length} values`);
  if (a.length < 3) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const ma = meanOf(ra) as number;
  const mb = meanOf(rb) as number;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    sab += (ra[i] - ma) * (rb[i] - mb);
    saa += (ra[i] - ma) ** 2;
    sbb += (rb[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : null;
}

export interface PaperComparison {
  /** The paper's strategies present in the report (non-ablation rows), with both AVs and ranks. */
  readonly rows: Array<{
    label: string;
    ours: { auc: number; gauc: number | null };
    paper: { auc: number; gauc: number };
    rank: { ours: number; paper: number };
  }>;
  /** Spearman's ρ between our AV AUC and the paper's, and the same for GAUC. */
  readonly rhoAuc: number | null;
  readonly rhoGauc: number | null;
}

export function compareWithPaper(report: Pick<QualityReport, "rows">): PaperComparison {
  const rows = report.rows.filter((r) => !r.ablation && r.label in PAPER_WECHAT && r.avAuc.mean !== null);
  const ours = rows.map((r) => r.avAuc.mean as number);
  const paper = rows.map((r) => PAPER_WECHAT[r.label].auc);
  const oursRank = ranks(ours);
  const paperRank = ranks(paper);
  const withGauc = rows.filter((r) => r.avGauc.mean !== null);
  return {
    rows: rows.map((r, i) => ({
      label: r.label,
      ours: { auc: ours[i], gauc: r.avGauc.mean },
      paper: PAPER_WECHAT[r.label],
      rank: { ours: oursRank[i], paper: paperRank[i] },
    })),
    rhoAuc: spearman(ours, paper),
    rhoGauc: spearman(
      withGauc.map((r) => r.avGauc.mean as number),
      withGauc.map((r) => PAPER_WECHAT[r.label].gauc),
    ),
  };
}
