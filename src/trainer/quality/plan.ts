import { parseStrategyParams, requireStrategy } from "../../core/combine";
import { findStrategy, strategies } from "../../core/strategies/index";
import type { TrainingConfig } from "../../protocol/config";
import { type QualityBudget, type QualityEntry, type RunKey, SINGLE } from "./report";

/**
 * The plan: which rows the table has and which runs it takes (one per row and seed; Single one
 * per task and seed).
 */

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

/** Every run of the table, seed-major: Single's tasks, then the other rows, for each seed. */
export function planRuns(entries: readonly QualityEntry[], seeds: readonly number[], k: number): RunKey[] {
  const plan: RunKey[] = [];
  for (const seed of seeds)
    for (const entry of entries) {
      if (entry.label === SINGLE)
        for (let t = 0; t < k; t++) plan.push({ label: entry.label, seed, task: t });
      else plan.push({ label: entry.label, seed });
    }
  return plan;
}
