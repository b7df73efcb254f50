import { meanOf, relativeImprovement } from "../../core/metrics";
import { chooseLearningRates } from "./learning-rates";
import { type QualityEntry, type QualityRow, type RunRecord, SINGLE, type Stat } from "./report";

/**
 * The arithmetic of the table (tested on hand-made numbers): mean ± sample std over seeds, AV
 * (the mean over tasks) and RI (the mean relative improvement over Single, paired by seed). The
 * mean and RI live in core/metrics.ts, shared with the extension's hyperparameter view.
 */

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

/** The table's rows; with a learning-rate grid, from the runs of each row's rate chosen on validation. */
export function summarise(
  entries: readonly QualityEntry[],
  runs: readonly RunRecord[],
  seeds: readonly number[],
  k: number,
): QualityRow[] {
  const choice = chooseLearningRates(entries, runs, seeds, k);
  const singleEntry = entries.find((e) => e.label === SINGLE);
  const single = singleEntry ? seedMetrics(singleEntry, choice.runs, seeds, k) : [];
  return entries.map((entry) => {
    const row = summariseRow(entry, seedMetrics(entry, choice.runs, seeds, k), single, k);
    const rates = choice.rates.get(entry.label);
    return rates ? { ...row, learningRates: rates } : row;
  });
}
