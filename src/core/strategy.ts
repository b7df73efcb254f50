import type { z } from "zod";
import { assertFiniteGram } from "./linalg/gram";

/**
 * The strategy contract (docs/strategies.md): every balancing method is a weighting computed from the
 * K×K Gram matrix of the task gradients on the shared parameters (plus, for loss-based methods,
 * the losses and the strategy's own state). The shared update is u = Σ_t weights[t] · g_t.
 */
export interface StrategyInput {
  /** Number of tasks. */
  readonly k: number;
  /** Row-major K×K Gram matrix G[i*k+j] = g_i · g_j, float64. */
  readonly gram: Float64Array;
  /** Per-task losses of this step, as the model computed them (before any weighting). */
  readonly losses: Float64Array;
  /** 1-based training step. */
  readonly step: number;
}

/** Statistics of projection methods, one entry per task. */
export interface ProjectionStats {
  /** How many tasks the task's (rescaled) gradient conflicted with. */
  readonly conflictSetSize: number[];
  /** Norm of the correction added to the task's gradient by the projection. */
  readonly correctionNorm: number[];
  /** Magnitude scale factor applied to the task's gradient before projecting (1 when none). */
  readonly magnitudeScale: number[];
}

export interface StrategyResult<S> {
  /** α: the shared update is Σ α_t g_t. Always finite. */
  readonly weights: Float64Array;
  /**
   * Scale applied to each task's gradient on its own (task-specific) parameters. Omitted means 1
   * for every task (gradient-manipulation methods leave towers alone, as in the GradCraft paper);
   * loss-weighting methods (UW, DWA, GradNorm) weight the towers as they weight the loss.
   */
  readonly towerWeights?: Float64Array;
  /** The state to pass to the next step (JSON-serialisable, never mutated in place). */
  readonly state: S;
  readonly projection?: ProjectionStats;
  /** Degenerate situations met this step, e.g. "singular-conflict-system", "zero-gradient". */
  readonly flags?: string[];
}

/**
 * One balancing method. `P` is the parsed parameter object, `S` the strategy's serialisable
 * state (use `null` for stateless methods).
 */
export interface StrategyDefinition<P = Record<string, unknown>, S = unknown> {
  /** Stable identifier used in configs, the CLI and the protocol, e.g. "gradcraft". */
  readonly name: string;
  /** Human title, e.g. "GradCraft". */
  readonly title: string;
  /** One line for pickers. */
  readonly summary: string;
  /** The paper, e.g. "Bai et al., GradCraft, KDD 2024". */
  readonly citation: string;
  /**
   * Parameters with defaults, ranges and descriptions. Parsing `{}` gives the defaults. The
   * protocol's `hello` publishes it as JSON Schema.
   */
  readonly params: z.ZodType<P>;
  /** True when the method reads the losses (UW, DWA, GradNorm, DB-MTL...). */
  readonly usesLosses: boolean;
  /** DB-MTL balances the gradients of log-losses: the trainer must differentiate log(L_t + 1e-8). */
  readonly lossTransform?: "log";
  /** Fresh state for K tasks (also used when switching to this strategy mid-run). */
  init(k: number, params: P): S;
  step(input: StrategyInput, params: P, state: S): StrategyResult<S>;
}

/**
 * Makes a strategy of a definition literal (and lets TypeScript infer P and S). Its `step` checks
 * the Gram matrix once, before the strategy's own `step` runs, as TorchJD's weightings check their
 * input in `__call__`: a strategy may take its input to be a K×K matrix of finite numbers, and a
 * bad one is an Error that names the task whose gradient produced it.
 */
export function defineStrategy<P, S>(definition: StrategyDefinition<P, S>): StrategyDefinition<P, S> {
  const weigh = definition.step;
  return {
    ...definition,
    step: (input, params, state) => {
      assertFiniteGram(input.k, input.gram, definition.name);
      return weigh(input, params, state);
    },
  };
}
