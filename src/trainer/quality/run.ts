import { requireStrategy } from "../../core/combine";
import { TrainingConfig } from "../../protocol/config";
import type { SplitMetrics, TrainerMessage } from "../../protocol/messages";
import type { BackendChoice } from "../backend";
import type { CommandChannel } from "../control";
import { batchCount, type Dataset } from "../data/index";
import { train } from "../train";
import { JobPool, type WorkerCommand } from "./jobs";
import { planRuns, planSettings, resolveBudget } from "./plan";
import {
  type QualityBudget,
  type QualityEntry,
  type QualityReport,
  type RunKey,
  type RunRecord,
  runKey,
} from "./report";
import { reusableRuns } from "./reuse";
import { summarise } from "./statistics";

/**
 * Running the plan: one headless training run per row, seed (and Single task, and rate of a
 * learning-rate grid), each on the shared dataset with the same budget; a shard runs every n-th
 * run; reused runs are not trained again. In this process one run at a time, or with `jobs`
 * several at once, each in a child process (jobs.ts, worker.ts).
 */

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
  /** Tune each row's learning rate on validation over this grid (learning-rates.ts). */
  readonly learningRates?: readonly number[];
  /**
   * Train `count` runs at once, each in a child process started with `worker` (the CLI's worker
   * mode), which loads the dataset itself from the base config (relative paths from `baseDir`).
   */
  readonly jobs?: { readonly count: number; readonly worker: WorkerCommand; readonly baseDir: string };
}

/** What a run needs besides its config: the backend and the loaded dataset. */
export interface RunContext {
  readonly backend: BackendChoice;
  readonly dataset: Dataset;
}

/** One run of the plan, as handed to a worker. */
export interface QualityJob {
  readonly entry: QualityEntry;
  readonly run: RunKey;
  readonly budget: QualityBudget;
}

/** A worker's setup: what it needs to load the dataset and train like this process. */
export interface QualitySetup {
  readonly base: TrainingConfig;
  readonly baseDir: string;
  readonly backend: BackendChoice["name"];
}

export type QualityEvent =
  | { type: "run-start"; index: number; total: number; run: RunKey; stepBudget: number }
  | { type: "run-step"; index: number; total: number; run: RunKey; step: number; stepBudget: number }
  | { type: "run-end"; index: number; total: number; run: RunKey; record: RunRecord };

/** No host: nothing comes in, and what goes out is only watched for progress. */
function quietChannel(observe: (message: TrainerMessage) => void): CommandChannel {
  return { send: observe, takeCommands: () => [], nextCommand: async () => null, ack: () => {} };
}

const metricsOf = (m: SplitMetrics) => ({
  auc: m.tasks.map((t) => t.auc),
  gauc: m.tasks.map((t) => t.gauc),
});

export async function runQuality(options: QualityOptions): Promise<QualityReport> {
  const started = Date.now();
  const { dataset, seeds, entries } = options;
  const k = dataset.taskNames.length;
  const baseConfig = options.base;
  const grid = options.learningRates;
  const budget: QualityBudget = {
    ...resolveBudget(baseConfig.training, options.budget),
    ...(grid ? { learningRates: [...grid] } : {}),
  };
  const perEpoch = batchCount(dataset.train, baseConfig.training.batchSize);
  const stepBudget = Math.min(budget.maxSteps ?? Number.POSITIVE_INFINITY, budget.epochs * perEpoch);
  const plan = planRuns(entries, seeds, k, grid);
  const datasetName = options.datasetName ?? dataset.name;
  const settings = planSettings(baseConfig, grid);
  const reused = reusableRuns(options.reuse ?? [], {
    dataset: datasetName,
    taskNames: dataset.taskNames,
    budget,
    settings,
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
    settings,
    backend: options.backend.name,
    rows: summarise(entries, runs, seeds, k),
    runs: [...runs],
    wallMs: Date.now() - started,
  });
  const jobs = options.jobs && mine.length > 0 ? options.jobs : undefined;
  const pool = jobs
    ? await JobPool.start<QualitySetup, QualityJob, RunRecord>(
        Math.min(jobs.count, mine.length),
        jobs.worker,
        {
          base: baseConfig,
          baseDir: jobs.baseDir,
          backend: options.backend.name,
        },
      )
    : undefined;
  const execute = (job: QualityJob, onStep: (step: number) => void) =>
    pool ? pool.run(job, onStep) : runOne(options, baseConfig, job.entry, job.run, job.budget, onStep);
  try {
    await eachConcurrently(mine, pool?.size ?? 1, async (run, index) => {
      const entry = entries.find((e) => e.label === run.label) as QualityEntry;
      options.onEvent?.({ type: "run-start", index, total: mine.length, run, stepBudget });
      const onStep = (step: number) =>
        options.onEvent?.({ type: "run-step", index, total: mine.length, run, step, stepBudget });
      const record = await execute({ entry, run, budget }, onStep);
      runs.push(record);
      options.onEvent?.({ type: "run-end", index, total: mine.length, run, record });
      options.onProgress?.(report());
    });
  } finally {
    pool?.close();
  }
  return report();
}

/** Runs `work` on every item, at most `limit` at a time, in order of the items. */
async function eachConcurrently<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
}

export async function runOne(
  context: RunContext,
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
      ...(run.learningRate !== undefined ? { learningRate: run.learningRate } : {}),
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
    backend: context.backend,
    dataset: context.dataset,
    selectOn,
  });
  const { summary } = result;
  const k = context.dataset.taskNames.length;
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
