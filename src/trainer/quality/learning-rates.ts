import { type QualityEntry, type RunRecord, SINGLE } from "./report";

/**
 * The paper tunes each method's learning rate on validation (its grid: 1e-4, 5e-4, 1e-3). With a
 * grid, every row (and each of Single's tasks, a model of its own) is trained at every rate; the
 * rate whose runs have the best mean validation criterion over the table's seeds (mean validation
 * AUC; Single: the task's own) is chosen, and only its runs enter the table. The test split plays
 * no part in the choice. Ties go to the smaller rate.
 */

export interface LearningRateChoice {
  /** The runs of the chosen rates, one per row, seed and Single task. */
  readonly runs: RunRecord[];
  /** Per row label: the chosen rate (Single: one per task; null where no run has a value). */
  readonly rates: Map<string, (number | null)[]>;
}

export function chooseLearningRates(
  entries: readonly QualityEntry[],
  runs: readonly RunRecord[],
  seeds: readonly number[],
  k: number,
): LearningRateChoice {
  const inTable = runs.filter((r) => seeds.includes(r.seed));
  if (!inTable.some((r) => r.learningRate !== undefined)) return { runs: [...inTable], rates: new Map() };
  const chosen: RunRecord[] = [];
  const rates = new Map<string, (number | null)[]>();
  for (const entry of entries) {
    const mine = inTable.filter((r) => r.label === entry.label);
    const groups =
      entry.label === SINGLE ? Array.from({ length: k }, (_, t) => mine.filter((r) => r.task === t)) : [mine];
    rates.set(
      entry.label,
      groups.map((group) => {
        const rate = bestRate(group);
        chosen.push(...group.filter((r) => r.learningRate === rate));
        return rate;
      }),
    );
  }
  return { runs: chosen, rates };
}

/** The rate with the best mean validation criterion among `runs` (null: none has a value). */
function bestRate(runs: readonly RunRecord[]): number | null {
  const candidates = [...new Set(runs.map((r) => r.learningRate))]
    .filter((x): x is number => x !== undefined)
    .sort((a, b) => a - b);
  let best: number | null = null;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const rate of candidates) {
    const values = runs
      .filter((r) => r.learningRate === rate)
      .map((r) => r.bestValidationAuc)
      .filter((x): x is number => x !== null && Number.isFinite(x));
    const score = values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
    if (score !== null && score > bestScore) {
      best = rate;
      bestScore = score;
    }
  }
  return best;
}
