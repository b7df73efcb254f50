import * as tf from "@tensorflow/tfjs-core";
import { type CombineStats, combineGram, parseStrategyParams, requireStrategy } from "../core/combine";
import type { StrategyDefinition, StrategyResult } from "../core/strategy";
import { gramOf } from "./gram";
import type { BatchRows } from "./model/embeddings";
import { COMBINED, combineParamGrad, type ParamGrad } from "./model/layers";
import type { ModelBatch, MultiTaskModel } from "./model/model";
import type { Adam } from "./optimizer";
import type { WorkerPool } from "./parallel/pool";
import {
  addSlices,
  type BatchSlice,
  MIN_SLICE,
  type SliceGradients,
  type SliceMode,
  sliceGradients,
  sliceOf,
  sliceRepresentation,
  sliceSizes,
  taskLossSums,
} from "./parallel/slice";
import { mixSeed } from "./rng";

/**
 * The gradient engine: one forward pass, K per-task gradients on the shared parameters, their
 * Gram matrix, the strategy's weights (float64, on the host), the combined update Σ α_t g_t, and
 * each tower's own gradient.
 *
 * How the K gradients stay cheap: the backward pass is written by hand (model/layers.ts) and
 * carries a STACK of per-task gradients [S, B, n] through each layer, so the K backward passes
 * through a shared layer become one batched product; a layer only one task reaches (a tower, a
 * PLE task expert, a gate) carries just that task. Embedding gradients exist only for the
 * batch's unique rows. The host reads the device twice per step: the K losses with the K×K Gram
 * matrix, then the embedding-row update.
 *
 * Every core: with a worker pool, each step's batch is cut into slices, one per thread; each
 * thread runs the forward and backward pass of its slice on its own replica of the dense weights
 * (parallel/), and the slices' losses and per-task gradients are summed on this thread before
 * the Gram matrix is formed, so the strategy sees the whole batch's gradients.
 *
 * Scopes:
 * - `params`: exact per-task gradients of every shared parameter (experts, gates, embedding rows).
 * - `representation`: per-task gradients w.r.t. the shared representation (the last level's
 *   expert outputs, the bottom's output for Shared-Bottom); the Gram matrix comes from those and
 *   Σ α_t ∂L_t/∂z is back-propagated once. An approximation (MGDA-UB style), far cheaper.
 */

export type GradientScope = "params" | "representation";

// biome-ignore lint/suspicious/noExplicitAny: the registry holds strategies of every parameter and state type.
export type AnyStrategy = StrategyDefinition<any, any>;

export interface ActiveStrategy {
  readonly definition: AnyStrategy;
  readonly params: Record<string, unknown>;
  state: unknown;
}

/**
 * The strategy the engine runs, by name: parameters checked and defaulted, and a fresh state
 * unless one is carried (a checkpoint's, or the previous one on a same-strategy switch).
 */
export function activeStrategy(
  name: string,
  rawParams: Readonly<Record<string, unknown>> | undefined,
  k: number,
  state?: unknown,
): ActiveStrategy {
  const definition = requireStrategy(name);
  const params = parseStrategyParams(definition, rawParams);
  return { definition, params, state: state ?? definition.init(k, params) };
}

export interface TrainBatch extends ModelBatch {
  /** Row-major [size × K] labels in {0, 1}. */
  readonly labels: Float32Array;
}

export interface AppliedStep {
  readonly status: "applied";
  readonly losses: number[];
  readonly gram: Float64Array;
  readonly result: StrategyResult<unknown>;
  readonly stats: CombineStats;
  /** Global norm of the combined update before clipping, and the clipping factor used. */
  readonly updateNorm: number;
  readonly clipScale: number;
  readonly ms: number;
}

export interface SkippedStep {
  readonly status: "skipped";
  /** Tasks whose loss or gradient was not finite. */
  readonly tasks: number[];
  readonly losses: number[];
  readonly reason: string;
  readonly ms: number;
}

export type StepReport = AppliedStep | SkippedStep;

/** Mean binary cross-entropy per task from logits, [K]. */
export function taskLosses(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return tf.div(taskLossSums(logits, labels), logits.shape[0]) as tf.Tensor1D;
}

export class GradientEngine {
  constructor(
    readonly model: MultiTaskModel,
    readonly optimizer: Adam,
    public scope: GradientScope,
    readonly seed: number,
    /** Worker threads that take slices of each batch (parallel/pool.ts); none: this thread alone. */
    readonly pool?: WorkerPool,
  ) {}

  /**
   * Benchmark baseline: plain equal weighting as a one-backward trainer does it (the mean of the
   * task gradients on shared parameters, each tower its own), with no per-task gradients and no
   * Gram matrix (so no diagnostics). Only meaningful with the "ew" strategy.
   */
  plainEw = false;

  /** The fewest examples a thread's slice may have: below it, its overhead outweighs the gain. */
  minSlice = MIN_SLICE;

  /** Threads that share a step of `batchSize` examples: every slice keeps enough examples to pay for its overhead. */
  threadsFor(batchSize: number): number {
    const most = 1 + (this.pool?.size ?? 0);
    return Math.max(1, Math.min(most, Math.floor(batchSize / this.minSlice)));
  }

  /** One training step (1-based `step`); the strategy's state is advanced in place. */
  async step(batch: TrainBatch, strategy: ActiveStrategy, step: number): Promise<StepReport> {
    const started = performance.now();
    const k = this.model.shape.tasks;
    const seed = mixSeed(this.seed, step);
    const mode: SliceMode = this.plainEw ? "plain" : this.scope;
    // Host work first: the batch's unique embedding rows, which every thread's slice reads.
    const rows = this.model.embeddings.gatherBatch(
      batch.categorical,
      batch.size,
      this.model.shape.featureNames,
    );
    // Workers' passes in flight: a step that fails on this thread still waits for them, so the
    // next step never rewrites the shared memory they read.
    const inFlight: Promise<unknown>[] = [];
    tf.engine().startScope();
    try {
      const table = tf.tensor2d(rows.rows, [rows.unique, this.model.config.embeddingDim]);
      const slices = this.slicesOf(batch, rows);
      // This thread takes the first slice while the workers take the others.
      const others =
        this.pool && slices.length > 1
          ? this.pool.run({
              mode,
              seed,
              weights: this.denseWeights(),
              rows: rows.rows,
              unique: rows.unique,
              slices: slices.slice(1),
            })
          : undefined;
      if (others) inFlight.push(others);

      if (mode === "representation") {
        const own = sliceRepresentation(this.model, slices[0], table, seed);
        const above = others ? addSlices(own.above, await others) : own.above;
        const weighed = await this.weigh(above, batch.size, strategy, step, started);
        if (weighed.status === "skipped") return weighed;
        const alpha = weighed.combineWeights;
        const othersBelow = others ? this.pool?.below(alpha) : undefined;
        if (othersBelow) inFlight.push(othersBelow);
        const ownBelow = own.below(alpha);
        const below = othersBelow ? addSlices(ownBelow, await othersBelow) : ownBelow;
        return await this.apply(
          [
            ...this.sharedUpdates([...above.shared, ...below.shared], alpha),
            ...this.towerUpdates(above.towers, weighed),
          ],
          below.rows?.grad,
          rows,
          weighed,
          strategy,
          started,
        );
      }

      const own = sliceGradients(this.model, slices[0], table, seed, mode);
      const grads = others ? addSlices(own, await others) : own;
      if (mode === "plain") return await this.applyPlain(grads, rows, strategy, step, started);
      const blocks = [...grads.shared, ...(grads.rows ? [grads.rows] : [])];
      const weighed = await this.weigh(
        { ...grads, gram: gramOf(blocks, k) },
        batch.size,
        strategy,
        step,
        started,
      );
      if (weighed.status === "skipped") return weighed;
      const alpha = weighed.combineWeights;
      return await this.apply(
        [...this.sharedUpdates(grads.shared, alpha), ...this.towerUpdates(grads.towers, weighed)],
        grads.rows && combineParamGrad({ ...grads.rows, variable: undefined as never }, alpha),
        rows,
        weighed,
        strategy,
        started,
      );
    } finally {
      await Promise.allSettled(inFlight);
      tf.engine().endScope();
    }
  }

  /** The batch cut into one slice per thread that takes part in this step. */
  private slicesOf(batch: TrainBatch, rows: BatchRows): BatchSlice[] {
    const shape = {
      features: this.model.shape.vocabularies.length,
      width: this.model.embeddings.width,
      numeric: this.model.shape.numericFeatures,
      tasks: this.model.shape.tasks,
    };
    let start = 0;
    return sliceSizes(batch.size, this.threadsFor(batch.size)).map((size) => {
      const slice = sliceOf(batch, rows, start, size, shape);
      start += size;
      return slice;
    });
  }

  /** Every dense variable's values in one vector (what the workers' replicas take). */
  private denseWeights(): Float32Array {
    // Inside the step's scope: a typed array returned from tf.tidy would be walked element by element.
    return tf.concat(this.model.denseVariables().map((v) => tf.reshape(v, [-1]))).dataSync() as Float32Array;
  }

  /**
   * Read 1: the losses and the Gram matrix together; then the strategy. With a loss transform
   * (DB-MTL's log L_t) each task's gradient is scaled by 1/(L_t + ε) here, on the host: the
   * Gram matrix becomes D G D and the weights that combine the raw gradients α_t/(L_t + ε).
   */
  private async weigh(
    sums: SliceGradients,
    batchSize: number,
    strategy: ActiveStrategy,
    step: number,
    started: number,
  ): Promise<Weighed | SkippedStep> {
    if (!sums.lossSums || !sums.gram) throw new Error("weigh needs the losses and the Gram matrix");
    const losses = tf.div(sums.lossSums, batchSize);
    const gramTensor = sums.gram;
    const k = this.model.shape.tasks;
    const values = await tf.concat([losses, tf.reshape(gramTensor, [-1])]).data();
    const lossValues = Array.from(values.subarray(0, k));
    const gram = Float64Array.from(values.subarray(k));
    const taskScale = lossValues.map((l) =>
      strategy.definition.lossTransform === "log" ? 1 / (l + 1e-8) : 1,
    );
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) gram[i * k + j] *= taskScale[i] * taskScale[j];
    const bad = nonFiniteTasks(k, lossValues, gram);
    if (bad.length > 0)
      return {
        status: "skipped",
        tasks: bad,
        losses: lossValues,
        reason: "non-finite loss or gradient",
        ms: performance.now() - started,
      };
    const { result, stats } = combineGram(strategy.definition, k, gram, strategy.params, {
      losses: lossValues,
      state: strategy.state,
      step,
    });
    const combineWeights = Float64Array.from(result.weights, (a, t) => a * taskScale[t]);
    return { status: "weighed", losses: lossValues, gram, result, stats, combineWeights, taskScale };
  }

  /** Each shared parameter's update Σ_t α_t g_t. */
  private sharedUpdates(
    shared: readonly ParamGrad[],
    alpha: ArrayLike<number>,
  ): Array<{ variable: tf.Variable; update: tf.Tensor }> {
    return shared.map((p) => ({
      variable: p.variable,
      update: tf.reshape(combineParamGrad(p, alpha), p.variable.shape),
    }));
  }

  private towerUpdates(
    towers: readonly ParamGrad[],
    weighed: Weighed,
  ): Array<{ variable: tf.Variable; update: tf.Tensor }> {
    return towers.map((p) => {
      const t = p.tasks[0];
      const weight = (weighed.result.towerWeights?.[t] ?? 1) * weighed.taskScale[t];
      const grad = tf.reshape(p.grad, p.variable.shape);
      return { variable: p.variable, update: weight === 1 ? grad : tf.mul(grad, weight) };
    });
  }

  /** Read 2: the embedding-row update with the global norm (clipping), then Adam. */
  private async apply(
    dense: Array<{ variable: tf.Variable; update: tf.Tensor }>,
    rowUpdate: tf.Tensor | undefined,
    rows: BatchRows,
    weighed: Weighed,
    strategy: ActiveStrategy,
    started: number,
  ): Promise<StepReport> {
    const flatRows = rowUpdate ? tf.reshape(rowUpdate, [-1]) : tf.zeros([0]);
    const squares = tf.addN([tf.sum(tf.square(flatRows)), ...dense.map((d) => tf.sum(tf.square(d.update)))]);
    const read = await tf.concat([tf.reshape(squares, [1]), flatRows]).data();
    const updateNorm = Math.sqrt(read[0]);
    if (!Number.isFinite(updateNorm))
      return {
        status: "skipped",
        tasks: [],
        losses: weighed.losses,
        reason: "non-finite update",
        ms: performance.now() - started,
      };
    const clip = this.optimizer.settings.clipNorm;
    const clipScale = clip > 0 && updateNorm > clip ? clip / updateNorm : 1;
    const applied = await this.optimizer.apply(
      dense,
      this.model.embeddings,
      { ownerFeature: rows.ownerFeature, ownerRow: rows.ownerRow, update: read.subarray(1) as Float32Array },
      clipScale,
    );
    // The guard after the update: weights that would become NaN or infinite are not written.
    if (!applied) return rolledBack(weighed.losses, started);
    strategy.state = weighed.result.state;
    return {
      status: "applied",
      losses: weighed.losses,
      gram: weighed.gram,
      result: weighed.result,
      stats: weighed.stats,
      updateNorm,
      clipScale,
      ms: performance.now() - started,
    };
  }

  private async applyPlain(
    grads: SliceGradients,
    rows: BatchRows,
    strategy: ActiveStrategy,
    step: number,
    started: number,
  ): Promise<StepReport> {
    const k = this.model.shape.tasks;
    const dense = [...grads.shared, ...grads.towers].map((p) => ({
      variable: p.variable,
      update: tf.reshape(p.grad, p.variable.shape),
    }));
    const read = await (grads.rows ? tf.reshape(grads.rows.grad, [-1]) : tf.zeros([0])).data();
    const applied = await this.optimizer.apply(
      dense,
      this.model.embeddings,
      { ownerFeature: rows.ownerFeature, ownerRow: rows.ownerRow, update: read as Float32Array },
      1,
    );
    if (!applied) return rolledBack([], started);
    const gram = new Float64Array(k * k);
    const { result, stats } = combineGram(strategy.definition, k, gram, strategy.params, {
      state: strategy.state,
      step,
    });
    return {
      status: "applied",
      losses: [],
      gram,
      result,
      stats,
      updateNorm: Number.NaN,
      clipScale: 1,
      ms: performance.now() - started,
    };
  }
}

/** A step's losses, Gram matrix and the strategy's verdict, before the update is applied. */
interface Weighed {
  readonly status: "weighed";
  readonly losses: number[];
  readonly gram: Float64Array;
  readonly result: StrategyResult<unknown>;
  readonly stats: CombineStats;
  /** α_t times the task's loss-transform scale: the weights of the raw per-task gradients. */
  readonly combineWeights: Float64Array;
  readonly taskScale: number[];
}

/**
 * Tasks whose loss or gradient is NaN or infinite. A bad gradient poisons its whole Gram row
 * and column, so the culprits are the tasks whose own entry G_tt (or loss) is bad; an
 * off-diagonal-only failure (overflow of a product) names both tasks of the entry.
 */
export function nonFiniteTasks(k: number, losses: readonly number[], gram: Float64Array): number[] {
  const bad = new Set<number>();
  for (let t = 0; t < k; t++)
    if (!Number.isFinite(losses[t]) || !Number.isFinite(gram[t * k + t])) bad.add(t);
  if (bad.size === 0)
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++)
        if (!Number.isFinite(gram[i * k + j])) {
          bad.add(i);
          bad.add(j);
        }
  return [...bad].sort((a, b) => a - b);
}

export { COMBINED, gramOf };

/** A step whose update would have made a weight NaN or infinite: nothing was written. */
function rolledBack(losses: number[], started: number): StepReport {
  return {
    status: "skipped",
    tasks: [],
    losses,
    reason: "the update would make weights non-finite (rolled back)",
    ms: performance.now() - started,
  };
}
