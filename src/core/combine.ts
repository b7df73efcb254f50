import { z } from "zod";
import { diagnose, type StepDiagnostics } from "./diagnostics";
import { gramMatrix } from "./linalg/gram";
import { findStrategy, strategies } from "./strategies/index";
import type { ProjectionStats, StrategyDefinition } from "./strategy";

/**
 * The library face of a strategy: K gradient rows in, the Gram matrix, the weights α, the update
 * Σ α_t g_t and the step's statistics out. `gradcraft combine` and the conformance runner use it;
 * the trainer calls strategies on its own Gram matrix directly.
 */

export interface CombineRequest {
  /** K gradient rows of equal length D (on the shared parameters). */
  readonly grads: ReadonlyArray<ArrayLike<number>>;
  /** Strategy name from the registry, e.g. "gradcraft". */
  readonly strategy: string;
  /** Raw parameters; validated and completed with defaults by the strategy's schema. */
  readonly params?: Readonly<Record<string, unknown>>;
  /** Per-task losses (required by loss-based strategies; default all 1). */
  readonly losses?: ArrayLike<number>;
  /** State returned by a previous call, to continue a run; default: the strategy's fresh state. */
  readonly state?: unknown;
  /** 1-based step (default 1). */
  readonly step?: number;
}

export interface CombineStats extends StepDiagnostics {
  /** The final weights α (the same numbers as CombineResult.weights). */
  weights: number[];
  projection?: ProjectionStats;
  /** Degenerate situations met this step (empty when none). */
  flags: string[];
}

export interface CombineResult {
  readonly strategy: string;
  /** Parameters after defaults were applied. */
  readonly params: Record<string, unknown>;
  readonly k: number;
  readonly d: number;
  /** Row-major K×K Gram matrix. */
  readonly gram: number[];
  readonly weights: number[];
  /** Σ α_t g_t, length D. */
  readonly update: number[];
  readonly towerWeights?: number[];
  readonly state: unknown;
  readonly stats: CombineStats;
}

// biome-ignore lint/suspicious/noExplicitAny: the registry holds strategies of every parameter and state type.
type AnyStrategy = StrategyDefinition<any, any>;

/** Looks a strategy up by name, with an error that lists the known names. */
export function requireStrategy(name: string): AnyStrategy {
  const found = findStrategy(name);
  if (!found)
    throw new Error(`unknown strategy "${name}" (known: ${strategies.map((s) => s.name).join(", ")})`);
  return found;
}

/**
 * Validates raw parameters against the strategy's schema: unknown names and bad values are
 * errors that name the parameter; missing ones take their defaults.
 */
export function parseStrategyParams(
  definition: AnyStrategy,
  raw: Readonly<Record<string, unknown>> = {},
): Record<string, unknown> {
  const schema = definition.params;
  if (schema instanceof z.ZodObject) {
    const known = Object.keys(schema.shape);
    for (const key of Object.keys(raw)) {
      if (!known.includes(key))
        throw new Error(
          `unknown parameter "${key}" for strategy "${definition.name}"` +
            ` (known: ${known.length > 0 ? known.join(", ") : "none"})`,
        );
    }
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? `parameter "${issue.path.join(".")}"` : "parameters";
    throw new Error(`strategy "${definition.name}": ${where}: ${issue.message}`);
  }
  return parsed.data as Record<string, unknown>;
}

/** Checks K ≥ 1 rows of equal, non-zero length holding finite numbers; returns D. */
export function validateGradRows(grads: ReadonlyArray<ArrayLike<number>>): number {
  if (!Array.isArray(grads) && !(grads && typeof grads === "object" && "length" in grads))
    throw new Error("grads must be an array of K gradient rows");
  if (grads.length === 0) throw new Error("grads must hold at least one task row");
  const d = grads[0]?.length;
  if (typeof d !== "number" || d === 0) throw new Error("grads[0] must be a non-empty array of numbers");
  for (let t = 0; t < grads.length; t++) {
    const row = grads[t];
    if (!row || typeof row.length !== "number") throw new Error(`grads[${t}] must be an array of numbers`);
    if (row.length !== d)
      throw new Error(
        `grads[${t}] has ${row.length} values, but grads[0] has ${d}: rows must have equal length`,
      );
    for (let i = 0; i < d; i++) {
      const value = row[i];
      if (typeof value !== "number" || !Number.isFinite(value))
        throw new Error(
          `grads[${t}][${i}] (task ${t}) is ${String(value)}: every value must be a finite number`,
        );
    }
  }
  return d;
}

/** Runs one strategy step on a Gram matrix and assembles its statistics. */
export function combineGram(
  definition: AnyStrategy,
  k: number,
  gram: Float64Array,
  params: Record<string, unknown>,
  options: { losses?: ArrayLike<number>; state?: unknown; step?: number } = {},
) {
  // The Gram matrix is checked by the strategy's step itself (defineStrategy), naming the task.
  const losses = new Float64Array(k).fill(1);
  if (options.losses !== undefined) {
    if (options.losses.length !== k)
      throw new Error(`losses has ${options.losses.length} values, expected one per task (${k})`);
    for (let t = 0; t < k; t++) {
      const value = options.losses[t];
      if (typeof value !== "number" || !Number.isFinite(value))
        throw new Error(`losses[${t}] (task ${t}) is ${String(value)}: losses must be finite numbers`);
      losses[t] = value;
    }
  }
  const state = options.state === undefined ? definition.init(k, params) : options.state;
  const step = options.step ?? 1;
  const result = definition.step({ k, gram, losses, step }, params, state);
  const weights = result.weights;
  for (let t = 0; t < k; t++) {
    if (!Number.isFinite(weights[t]))
      throw new Error(`strategy "${definition.name}" returned a non-finite weight for task ${t}`);
  }
  const flags = [...(result.flags ?? [])];
  if (definition.usesLosses && options.losses === undefined) flags.push("losses-missing");
  const stats: CombineStats = {
    ...diagnose(k, gram, weights),
    weights: Array.from(weights),
    ...(result.projection ? { projection: result.projection } : {}),
    flags,
  };
  return { result, stats };
}

/** Combines K gradient rows with a strategy: the whole pipeline in one call (float64). */
export function combine(request: CombineRequest): CombineResult {
  const definition = requireStrategy(request.strategy);
  const d = validateGradRows(request.grads);
  const k = request.grads.length;
  const params = parseStrategyParams(definition, request.params ?? {});
  const gram = gramMatrix(request.grads);
  const { result, stats } = combineGram(definition, k, gram, params, {
    losses: request.losses,
    state: request.state,
    step: request.step,
  });
  const update = applyWeights(request.grads, result.weights);
  return {
    strategy: definition.name,
    params,
    k,
    d,
    gram: Array.from(gram),
    weights: Array.from(result.weights),
    update: Array.from(update),
    ...(result.towerWeights ? { towerWeights: Array.from(result.towerWeights) } : {}),
    state: result.state,
    stats,
  };
}

/** u = Σ_t α_t g_t, coordinate by coordinate in float64. */
export function applyWeights(
  grads: ReadonlyArray<ArrayLike<number>>,
  weights: ArrayLike<number>,
): Float64Array {
  const d = grads[0].length;
  const update = new Float64Array(d);
  for (let t = 0; t < grads.length; t++) {
    const row = grads[t];
    const w = weights[t];
    if (w === 0) continue;
    for (let i = 0; i < d; i++) update[i] += w * row[i];
  }
  return update;
}
