import { requireStrategy } from "../../core/combine";
import { TrainingConfig } from "../../protocol/config";
import type { SplitMetrics, TrainerMessage } from "../../protocol/messages";
import type { BackendChoice } from "../backend";
import type { CommandChannel } from "../control";
import { batchCount, type Dataset } from "../data/index";
import { train } from "../train";
import { planRuns, resolveBudget } from "./plan";
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
 * Running the plan: one headless training run per row, seed (and Single task), each on the shared
 * dataset with the same budget; a shard runs every n-th run; reused runs are not trained again.
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
  const budget = resolveBudget(baseConfig.training, options.budget);
  const perEpoch = batchCount(dataset.train, baseConfig.training.batchSize);
  const stepBudget = Math.min(budget.maxSteps ?? Number.POSITIVE_INFINITY, budget.epochs * perEpoch);
  const plan = planRuns(entries, seeds, k);
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
