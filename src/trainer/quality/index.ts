/**
 * The paper's quality comparison (Bai et al., GradCraft, KDD 2024, Table 2; docs/benchmarks.md),
 * rerunnable: one run per strategy and seed on one dataset, early stopping on mean validation
 * AUC with patience, best weights restored, the test split reported; per-task AUC and GAUC,
 * their averages (AV), and RI, the mean over tasks of the relative improvement over Single;
 * mean ± std over seeds.
 *
 * "Single" is one model per task, as in the paper: for each task t a run with the `single`
 * strategy following task t alone on the shared parameters (the other towers do not feed task t's
 * prediction), early-stopped and selected on task t's own validation AUC (the trainer's
 * `selectOn`), and only task t's test metrics kept.
 *
 * plan.ts: rows and runs; run.ts: training them; statistics.ts: the table's arithmetic;
 * reuse.ts: reports reused and merged; tables.ts: text; paper.ts: beside the paper's figures.
 */

export { compareWithPaper, PAPER_WECHAT, type PaperComparison, ranks, spearman } from "./paper";
export { allStrategyNames, PAPER_STRATEGIES, planRuns, qualityEntries, resolveBudget } from "./plan";
export {
  type QualityBudget,
  type QualityEntry,
  type QualityReport,
  type QualityRow,
  type RunKey,
  type RunRecord,
  SINGLE,
  type Stat,
} from "./report";
export { mergeReports, ReuseMismatch } from "./reuse";
export { type QualityEvent, type QualityOptions, runQuality } from "./run";
export {
  meanOf,
  meanStd,
  relativeImprovement,
  type SeedMetrics,
  seedMetrics,
  summarise,
  summariseRow,
} from "./statistics";
export { formatRate, formatStat, markdownTable, tableRows, textTable } from "./tables";
