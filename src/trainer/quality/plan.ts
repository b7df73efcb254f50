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

/**
 * Every run of the table, seed-major: Single's tasks, then the other rows, for each seed; with a
 * learning-rate grid, each of those once per rate.
 */
export function planRuns(
  entries: readonly QualityEntry[],
  seeds: readonly number[],
  k: number,
  learningRates?: readonly number[],
): RunKey[] {
  const plan: RunKey[] = [];
  const rates = learningRates ?? [undefined];
  for (const seed of seeds)
    for (const entry of entries)
      for (const learningRate of rates) {
        const rate = learningRate === undefined ? {} : { learningRate };
        if (entry.label === SINGLE)
          for (let t = 0; t < k; t++) plan.push({ label: entry.label, seed, task: t, ...rate });
        else plan.push({ label: entry.label, seed, ...rate });
      }
  return plan;
}

/**
 * What every run of a plan shares besides its seed and budget: the model and the training
 * settings (the learning rate too, unless a grid varies it). Two reports with different settings
 * measured different things and are never reused or merged into one table.
 */
export function planSettings(
  base: TrainingConfig,
  learningRates?: readonly number[],
): Record<string, unknown> {
  const { seed, maxSteps, epochs, evalEvery, patience, learningRate, ...training } = base.training;
  return comparableSettings({
    model: base.model,
    training: learningRates ? training : { ...training, learningRate },
  });
}

/** When a run saves its checkpoints, not what it learns: left out of the settings compared. */
const CHECKPOINT_POLICY = ["checkpointEvery", "checkpointEverySeconds"];

/** Settings as reports compare them: the checkpoint policy left out (older reports recorded it). */
export function comparableSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const training = settings.training as Record<string, unknown> | undefined;
  if (!training) return settings;
  return {
    ...settings,
    training: Object.fromEntries(
      Object.entries(training).filter(([key]) => !CHECKPOINT_POLICY.includes(key)),
    ),
  };
}

/** A learning-rate grid as the user gives it ("1e-4,5e-4,1e-3"): positive rates up to 1, each once. */
export function parseLearningRates(text: string): number[] {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (parts.length === 0) throw new Error("the learning-rate grid is empty");
  const rates = parts.map((part) => {
    const rate = Number(part);
    if (!(Number.isFinite(rate) && rate > 0 && rate <= 1))
      throw new Error(`"${part}" is not a learning rate (a number in (0, 1])`);
    return rate;
  });
  const twice = rates.find((r, i) => rates.indexOf(r) !== i);
  if (twice !== undefined) throw new Error(`${twice} is listed twice`);
  return rates;
}
