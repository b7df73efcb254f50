/**
 * What the Conflicts view says about a run, computed from the run itself: how often each pair of
 * tasks conflicts, how unequal the gradient magnitudes are, which tasks starve, and the switch
 * that would address it, with its reason in the run's own figures (docs/dashboard.md,
 * "Insights"). Pure (no DOM): the panel shows it, test/unit/panel/insights.test.ts checks it.
 */
import type { RunModel } from "./runModel";
import { type HeatmapState, seriesName } from "./snapshot";

/** Steps the figures look back over (the heatmap keeps as many matrices by default). */
export const INSIGHT_WINDOW = 200;
/** Matrices needed before the shares mean anything, and before a switch is suggested. */
export const MIN_STEPS = 50;
/** A pair that conflicts in at least this share of the steps is worth a remedy. */
export const FREQUENT_CONFLICT = 0.3;
/** Norms this many times apart are unequal enough for magnitude alignment to matter. */
export const UNEQUAL_NORMS = 3;
/**
 * A mean norm under this share of the largest has vanished: the task no longer moves the shared
 * weights, and a ratio against it (millions) says nothing about balance. Named apart, left out.
 */
export const VANISHED_NORM = 1e-6;
/** A validation AUC that moved less than this over the window is flat. */
export const FLAT_AUC = 0.002;
/** A task whose part of the update is under this fraction of an equal part (1/K) is starved of it. */
export const SMALL_UPDATE_SHARE = 0.5;
/** The magnitude alignment suggested: each smaller gradient is lifted halfway to the largest norm. */
const SUGGESTED_TAU = 0.5;

/** Strategies that act on conflicting directions (project them, or seek a common descent direction). */
const HANDLES_CONFLICTS = new Set([
  "gradcraft",
  "pcgrad",
  "pcgrad-plus",
  "gradvac",
  "cagrad",
  "mgda",
  "upgrad",
  "nash-mtl",
  "aligned-mtl",
  "imtl-g",
]);
/** Strategies that even out the tasks' gradient magnitudes (GradCraft and PCGrad+ unless τ = 0). */
const HANDLES_MAGNITUDES = new Set([
  "gradcraft",
  "pcgrad-plus",
  "imtl-g",
  "aligned-mtl",
  "nash-mtl",
  "db-mtl",
  "gradnorm",
]);

export interface PairConflict {
  a: string;
  b: string;
  /** Share of the matrices looked at where the pair's cosine is negative. */
  share: number;
}

export interface Insights {
  /** Matrices (steps with a cosine matrix) the conflict shares come from. */
  steps: number;
  /** Steps those matrices span (more than `steps` when a slow reader was sent only some of them). */
  span: number;
  /** Matrices still needed before the figures are read (0: enough). */
  needed: number;
  /** Every pair, most conflicting first. */
  pairs: PairConflict[];
  /**
   * Mean gradient norm per task over the window; largest over smallest among the tasks whose
   * gradient has not vanished (null: too little data); `vanished`: the others.
   */
  norms: {
    largest: string;
    smallest: string;
    ratio: number;
    mean: Record<string, number>;
    vanished: string[];
  } | null;
  /**
   * Tasks with a small part of the update (α_t‖g_t‖ over Σ, window means) and a validation AUC
   * that moved less than FLAT_AUC since the evaluation `aucSince`.
   */
  starving: { task: string; updateShare: number; aucChange: number; aucSince: number }[];
  /** The switch the figures point to. */
  suggestion: { name: string; params: Record<string, unknown>; reason: string } | null;
  /** Why nothing is suggested (null when something is). */
  noSuggestion: string | null;
}

type InsightRun = Pick<RunModel, "tasks" | "step" | "series" | "evals" | "strategy" | "strategies"> & {
  recentCosines(): HeatmapState[];
};

/** Where the figures stop: the panel passes its redraw's cut, so they agree with the heatmap drawn. */
export interface InsightCut {
  readonly step: number;
  readonly cosines: readonly HeatmapState[];
}

export function runInsights(
  run: InsightRun,
  cut: InsightCut = { step: run.step, cosines: run.recentCosines() },
  window = INSIGHT_WINDOW,
): Insights {
  const k = run.tasks.length;
  const from = cut.step - window;
  const matrices = cut.cosines.filter(
    (m) => m.cosines.length === k * k && m.step > from && m.step <= cut.step,
  );
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
      if (x > from && x <= cut.step) {
        sum += y;
        n++;
      }
    });
    return n > 0 ? sum / n : Number.NaN;
  };
  const mean: Record<string, number> = {};
  for (const task of run.tasks) mean[task] = meanOver(seriesName.norm(task));
  const known = run.tasks.filter((t) => Number.isFinite(mean[t]));
  const top = Math.max(0, ...known.map((t) => mean[t]));
  const vanished = known.filter((t) => mean[t] <= top * VANISHED_NORM);
  const alive = known.filter((t) => mean[t] > top * VANISHED_NORM);
  let norms: Insights["norms"] = null;
  if (alive.length >= 2) {
    const largest = alive.reduce((a, b) => (mean[b] > mean[a] ? b : a));
    const smallest = alive.reduce((a, b) => (mean[b] < mean[a] ? b : a));
    norms = { largest, smallest, ratio: mean[largest] / mean[smallest], mean, vanished };
  }

  const steps = matrices.length;
  const insights: Insights = {
    steps,
    span: steps ? cut.step - matrices[0].step + 1 : 0,
    needed: Math.max(0, MIN_STEPS - steps),
    pairs,
    norms,
    starving: starvingTasks(run, cut, window, meanOver),
    suggestion: null,
    noSuggestion: null,
  };
  const advice = suggest(run, insights);
  if ("reason" in advice) insights.suggestion = advice;
  else insights.noSuggestion = advice.none;
  return insights;
}

function starvingTasks(
  run: InsightRun,
  cut: InsightCut,
  window: number,
  meanOver: (name: string) => number,
): Insights["starving"] {
  const k = run.tasks.length;
  // A task's part of the update Σ α_t g_t is α_t‖g_t‖: a fair weight on a tiny gradient is still
  // a small part, and some strategies give a tiny gradient a large α (the weight alone misleads).
  const parts = run.tasks.map(
    (t) => Math.max(0, meanOver(seriesName.weight(t))) * meanOver(seriesName.norm(t)),
  );
  const total = parts.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  // The AUC's change over the window: from the last evaluation at or before its start (else the
  // first) to the latest at the cut.
  const validation = run.evals.filter((e) => e.split === "validation" && e.step <= cut.step);
  const before = validation.filter((e) => e.step <= cut.step - window);
  const first = before.at(-1) ?? validation[0];
  const last = validation.at(-1);
  const starving: Insights["starving"] = [];
  if (total <= 0 || !first || !last || first === last) return starving;
  run.tasks.forEach((task, t) => {
    const share = parts[t] / total;
    const from = first.metrics.auc?.[t];
    const to = last.metrics.auc?.[t];
    if (from === undefined || to === undefined || !Number.isFinite(from) || !Number.isFinite(to)) return;
    if (share < SMALL_UPDATE_SHARE / k && Math.abs(to - from) < FLAT_AUC)
      starving.push({ task, updateShare: share, aucChange: to - from, aucSince: first.step });
  });
  return starving;
}

/** A norm ratio as the text says it: whole above 10, one decimal below. */
export function ratioText(ratio: number): string {
  return String(ratio >= 10 ? Math.round(ratio) : Math.round(ratio * 10) / 10);
}

type Advice = NonNullable<Insights["suggestion"]> | { none: string };

function suggest(run: InsightRun, insights: Insights): Advice {
  const { steps, span, pairs, norms, starving } = insights;
  if (insights.needed > 0) return { none: `needs ${insights.needed} more steps with gradients` };
  const top = pairs[0];
  const pct = (share: number) => `${Math.round(share * 100)} %`;
  if (!top || top.share < FREQUENT_CONFLICT)
    return {
      none: top
        ? `no pair conflicts in ${pct(FREQUENT_CONFLICT)} of the steps (most: ${top.a} and ${top.b}, ${pct(top.share)})`
        : "one task: nothing can conflict",
    };
  const current = run.strategy;
  if (current?.name === "single") return { none: "single trains one task on purpose" };
  const seen = span > steps ? `${steps} steps seen over the last ${span}` : `the last ${steps} steps`;
  const conflict = `${top.a} and ${top.b} conflict in ${pct(top.share)} of ${seen}`;
  const starvingText = starving.length
    ? `; ${starving.map((s) => s.task).join(" and ")} get${starving.length === 1 ? "s" : ""} ${pct(
        starving.reduce((a, s) => a + s.updateShare, 0) / starving.length,
      )} of the update and ${starving.length === 1 ? "its" : "their"} validation AUC is flat`
    : "";
  const offered = (name: string) => run.strategies.find((s) => s.name === name);
  const tau = current?.params.tau;
  const evensMagnitudes =
    current !== null && HANDLES_MAGNITUDES.has(current.name) && !(typeof tau === "number" && tau === 0);
  const handlesConflicts = current !== null && HANDLES_CONFLICTS.has(current.name);

  if (norms && norms.ratio >= UNEQUAL_NORMS) {
    if (evensMagnitudes && handlesConflicts)
      return { none: `${current.name} already evens out the magnitudes and handles the conflicts` };
    const choice = offered("gradcraft");
    if (!choice) return { none: "this trainer offers no GradCraft" };
    // τ = 0 is GradCraft without its magnitude step: keep the other parameters, raise τ.
    const base = current?.name === "gradcraft" ? current.params : (choice.defaults ?? {});
    return {
      name: "gradcraft",
      params: { ...base, tau: SUGGESTED_TAU },
      reason: `${conflict}, and ${norms.smallest}'s gradient norm is ${ratioText(norms.ratio)}× below ${norms.largest}'s${starvingText}: GradCraft with τ = ${SUGGESTED_TAU} lifts the smaller gradients halfway to the largest, then projects the conflicts away.`,
    };
  }
  if (handlesConflicts) return { none: `${current.name} already handles the conflicts` };
  const choice = offered("pcgrad");
  if (!choice) return { none: "this trainer offers no PCGrad" };
  return {
    name: "pcgrad",
    params: { ...(choice.defaults ?? {}) },
    reason: `${conflict}, with gradient norms of a similar size${starvingText}: PCGrad projects each gradient off the ones it conflicts with.`,
  };
}
