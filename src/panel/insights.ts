/**
 * What the Conflicts view says about a run, computed from the run itself: how often each pair of
 * tasks conflicts, how unequal the gradient magnitudes are, which tasks starve, and the switch
 * that would address it, with its reason in the run's own figures. Pure (no DOM): the panel
 * shows it, test/unit/panel/insights.test.ts checks it.
 */
import type { RunModel } from "./runModel";
import { seriesName } from "./snapshot";

/** Steps the figures look back over. */
export const INSIGHT_WINDOW = 200;
/** A pair that conflicts in at least this share of the steps is worth a remedy. */
const FREQUENT_CONFLICT = 0.3;
/** Norms this many times apart are unequal enough for magnitude alignment to matter. */
const UNEQUAL_NORMS = 3;
/** A validation AUC that moved less than this over the last three evaluations is flat. */
const FLAT_AUC = 0.002;

export interface PairConflict {
  a: string;
  b: string;
  /** Share of the matrices looked at where the pair's cosine is negative. */
  share: number;
}

export interface Insights {
  /** Matrices (steps) the conflict shares come from. */
  steps: number;
  /** Every pair, most conflicting first. */
  pairs: PairConflict[];
  /** Mean gradient norm per task over the window; largest over smallest (null: too little data). */
  norms: { largest: string; smallest: string; ratio: number; mean: Record<string, number> } | null;
  /** Tasks with a small share of the update's weight and a flat validation AUC. */
  starving: { task: string; weightShare: number; aucChange: number }[];
  /** The switch the figures point to (null: none, or it is running already). */
  suggestion: { name: string; params: Record<string, unknown>; reason: string } | null;
}

type InsightRun = Pick<RunModel, "tasks" | "step" | "series" | "evals" | "strategy" | "strategies"> & {
  recentCosines(): { step: number; cosines: number[] }[];
};

export function runInsights(run: InsightRun, window = INSIGHT_WINDOW): Insights {
  const k = run.tasks.length;
  const matrices = run
    .recentCosines()
    .filter((m) => m.cosines.length === k * k && m.step > run.step - window);
  const pairs: PairConflict[] = [];
  for (let i = 0; i < k; i++)
    for (let j = i + 1; j < k; j++) {
      const conflicts = matrices.filter((m) => m.cosines[i * k + j] < 0).length;
      pairs.push({
        a: run.tasks[i],
        b: run.tasks[j],
        share: matrices.length ? conflicts / matrices.length : 0,
      });
    }
  pairs.sort((x, y) => y.share - x.share);

  const meanOver = (name: string) => {
    let sum = 0;
    let n = 0;
    run.series.get(name)?.forEach((x, _t, y) => {
      if (x > run.step - window) {
        sum += y;
        n++;
      }
    });
    return n > 0 ? sum / n : Number.NaN;
  };
  const mean: Record<string, number> = {};
  for (const task of run.tasks) mean[task] = meanOver(seriesName.norm(task));
  const known = run.tasks.filter((t) => Number.isFinite(mean[t]) && mean[t] > 0);
  let norms: Insights["norms"] = null;
  if (known.length >= 2) {
    const largest = known.reduce((a, b) => (mean[b] > mean[a] ? b : a));
    const smallest = known.reduce((a, b) => (mean[b] < mean[a] ? b : a));
    norms = { largest, smallest, ratio: mean[largest] / mean[smallest], mean };
  }

  const weights = run.tasks.map((t) => Math.max(0, meanOver(seriesName.weight(t))));
  const total = weights.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const validation = run.evals.filter((e) => e.split === "validation").slice(-3);
  const starving: Insights["starving"] = [];
  if (total > 0 && validation.length >= 2)
    run.tasks.forEach((task, t) => {
      const share = weights[t] / total;
      const first = validation[0].metrics.auc?.[t];
      const last = validation[validation.length - 1].metrics.auc?.[t];
      if (first === undefined || last === undefined || !Number.isFinite(first) || !Number.isFinite(last))
        return;
      if (share < 0.5 / k && Math.abs(last - first) < FLAT_AUC)
        starving.push({ task, weightShare: share, aucChange: last - first });
    });

  return {
    steps: matrices.length,
    pairs,
    norms,
    starving,
    suggestion: suggest(run, matrices.length, pairs, norms, starving),
  };
}

function suggest(
  run: InsightRun,
  steps: number,
  pairs: PairConflict[],
  norms: Insights["norms"],
  starving: Insights["starving"],
): Insights["suggestion"] {
  const top = pairs[0];
  if (!top || top.share < FREQUENT_CONFLICT || steps === 0) return null;
  const pct = Math.round(top.share * 100);
  const conflict = `${top.a} and ${top.b} conflict in ${pct} % of the last ${steps} steps`;
  const starvingText = starving.length
    ? `; ${starving.map((s) => s.task).join(" and ")} get${starving.length === 1 ? "s" : ""} ${Math.round(
        (starving.reduce((a, s) => a + s.weightShare, 0) / starving.length) * 100,
      )} % of the update and ${starving.length === 1 ? "its" : "their"} validation AUC is flat`
    : "";
  const current = run.strategy?.name;
  const defaults = (name: string) => ({ ...(run.strategies.find((s) => s.name === name)?.defaults ?? {}) });
  if (norms && norms.ratio >= UNEQUAL_NORMS) {
    if (current === "gradcraft") return null;
    const ratio = norms.ratio >= 10 ? Math.round(norms.ratio) : Math.round(norms.ratio * 10) / 10;
    return {
      name: "gradcraft",
      params: { ...defaults("gradcraft"), tau: 0.5 },
      reason: `${conflict}, and the gradient norms are ${ratio}× apart (${norms.smallest} smallest, ${norms.largest} largest)${starvingText}: GradCraft with τ = 0.5 aligns the magnitudes, then projects the conflicts away.`,
    };
  }
  if (current === "pcgrad" || current === "gradcraft") return null;
  return {
    name: "pcgrad",
    params: defaults("pcgrad"),
    reason: `${conflict}, with gradient norms of a similar size${starvingText}: PCGrad projects each gradient off the ones it conflicts with.`,
  };
}
