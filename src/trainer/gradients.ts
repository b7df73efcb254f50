import * as tf from "@tensorflow/tfjs-core";
import { type CombineStats, combineGram, parseStrategyParams, requireStrategy } from "../core/combine";
import type { StrategyDefinition, StrategyResult } from "../core/strategy";
import {
  COMBINED,
  combineParamGrad,
  combineTaskGrad,
  mergeTaskGrads,
  type ParamGrad,
  sameTasks,
  type TaskGrad,
} from "./model/layers";
import type { ForwardState, ModelBatch, MultiTaskModel } from "./model/model";
import type { Adam } from "./optimizer";
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

/** Mean binary cross-entropy per task from logits, [K], in the numerically stable form. */
export function taskLosses(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return tf.mean(
    tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))),
    0,
  ) as tf.Tensor1D;
}

/**
 * The K×K Gram matrix of gradient blocks, each a stack [S, ...] over some tasks (task axis 0),
 * on the device: one product for the blocks all tasks reach, squared norms on the diagonal for
 * blocks only one task reaches (PLE task experts, gates).
 */
export function gramOf(blocks: readonly TaskGrad[], k: number): tf.Tensor2D {
  const allTasks = Array.from({ length: k }, (_, t) => t);
  const full: tf.Tensor[] = [];
  const diagonal: tf.Tensor[][] = allTasks.map(() => []);
  for (const block of blocks) {
    const s = block.tasks.length;
    const flat = tf.reshape(block.grad, [s, -1]);
    if (sameTasks(block.tasks, allTasks)) full.push(flat);
    else if (s === 1) diagonal[block.tasks[0]].push(tf.sum(tf.square(flat)));
    else {
      // Rare: a stack over some tasks only; pad it to all K rows.
      const rows = allTasks.map((t) => {
        const at = block.tasks.indexOf(t);
        return at < 0 ? tf.zeros([1, flat.shape[1] ?? 0]) : tf.slice(flat, [at, 0], [1, -1]);
      });
      full.push(tf.concat(rows, 0));
    }
  }
  let gram: tf.Tensor2D = tf.zeros([k, k]);
  if (full.length > 0) {
    const stacked = full.length === 1 ? full[0] : tf.concat(full, 1);
    gram = tf.matMul(stacked, tf.transpose(stacked)) as tf.Tensor2D;
  }
  if (diagonal.some((d) => d.length > 0)) {
    const squares = tf.stack(
      diagonal.map((d) => (d.length === 0 ? tf.scalar(0) : d.length === 1 ? d[0] : tf.addN(d))),
    );
    gram = tf.add(gram, tf.mul(tf.eye(k), squares)) as tf.Tensor2D;
  }
  return gram;
}

/** An activation stack [B, S, n] as a block [S, B·n] for the Gram matrix. */
function tasksFirst(part: TaskGrad): TaskGrad {
  const [b, s, n] = part.grad.shape;
  return {
    tasks: part.tasks,
    grad: s === 1 ? tf.reshape(part.grad, [1, b * (n ?? 1)]) : tf.transpose(part.grad, [1, 0, 2]),
  };
}

export class GradientEngine {
  constructor(
    readonly model: MultiTaskModel,
    readonly optimizer: Adam,
    public scope: GradientScope,
    readonly seed: number,
  ) {}

  /**
   * Benchmark baseline: plain equal weighting as a one-backward trainer does it (the mean of the
   * task gradients on shared parameters, each tower its own), with no per-task gradients and no
   * Gram matrix (so no diagnostics). Only meaningful with the "ew" strategy.
   */
  plainEw = false;

  /** One training step (1-based `step`); the strategy's state is advanced in place. */
  async step(batch: TrainBatch, strategy: ActiveStrategy, step: number): Promise<StepReport> {
    const started = performance.now();
    const k = this.model.shape.tasks;
    tf.engine().startScope();
    try {
      const forward = this.model.forward(batch, {
        training: true,
        seed: mixSeed(this.seed, step),
        keep: true,
      });
      const labels = tf.tensor2d(batch.labels, [batch.size, k]);
      const losses = taskLosses(forward.logits, labels);
      let dLogits = tf.div(tf.sub(tf.sigmoid(forward.logits), labels), batch.size) as tf.Tensor2D;
      // DB-MTL balances the gradients of log L_t: ∂log(L+ε)/∂θ = ∂L/∂θ / (L+ε).
      if (strategy.definition.lossTransform === "log") dLogits = tf.div(dLogits, tf.add(losses, 1e-8));

      const shared: ParamGrad[] = [];
      const towers: ParamGrad[] = [];
      if (this.plainEw) return await this.plainStep(forward, dLogits, strategy, step, started);
      const stop = this.scope === "params" ? 0 : this.model.representationStart;
      const pending = this.model.backwardTop(forward, dLogits, stop, shared, towers);
      let rows: TaskGrad | undefined;
      let blocks: TaskGrad[];
      if (this.scope === "params") {
        rows = this.embeddingRows(forward, pending.get("x"));
        blocks = [...shared, ...(rows ? [rows] : [])];
      } else {
        blocks = [...pending.entries()]
          .filter(([key]) => key.startsWith("e"))
          .map(([, parts]) => mergeTaskGrads(parts))
          .filter((b): b is TaskGrad => b !== undefined)
          .map(tasksFirst);
      }

      // Read 1: losses and Gram together.
      const gramTensor = gramOf(blocks, k);
      const values = await tf.concat([losses, tf.reshape(gramTensor, [-1])]).data();
      const lossValues = Array.from(values.subarray(0, k));
      const gram = Float64Array.from(values.subarray(k));
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
      const alpha = result.weights;

      const dense: Array<{ variable: tf.Variable; update: tf.Tensor }> = [];
      const addDense = (parts: readonly ParamGrad[]) => {
        for (const p of parts) {
          dense.push({
            variable: p.variable,
            update: tf.reshape(combineParamGrad(p, alpha), p.variable.shape),
          });
        }
      };
      addDense(shared);
      if (this.scope === "representation") {
        for (const [key, parts] of pending)
          pending.set(
            key,
            parts.map((part) => combineTaskGrad(part, alpha)),
          );
        const below: ParamGrad[] = [];
        const dInput = this.model.backwardRest(forward, pending, stop - 1, below);
        addDense(below);
        rows = dInput ? this.model.embeddingRowGrads(forward, dInput) : undefined;
      } else if (rows) {
        rows = {
          tasks: [COMBINED],
          grad: combineParamGrad({ ...rows, variable: undefined as never }, alpha),
        };
      }
      for (const p of towers) {
        const weight = result.towerWeights?.[p.tasks[0]] ?? 1;
        const grad = tf.reshape(p.grad, p.variable.shape);
        dense.push({ variable: p.variable, update: weight === 1 ? grad : tf.mul(grad, weight) });
      }

      // Read 2: the embedding-row update (and the global norm, for clipping and the report).
      const rowUpdate = rows ? tf.reshape(rows.grad, [-1]) : tf.zeros([0]);
      const squares = tf.addN([
        tf.sum(tf.square(rowUpdate)),
        ...dense.map((d) => tf.sum(tf.square(d.update))),
      ]);
      const read = await tf.concat([tf.reshape(squares, [1]), rowUpdate]).data();
      const updateNorm = Math.sqrt(read[0]);
      if (!Number.isFinite(updateNorm))
        return {
          status: "skipped",
          tasks: [],
          losses: lossValues,
          reason: "non-finite update",
          ms: performance.now() - started,
        };
      const clip = this.optimizer.settings.clipNorm;
      const clipScale = clip > 0 && updateNorm > clip ? clip / updateNorm : 1;
      const batchRows = forward.batch;
      this.optimizer.apply(
        dense,
        this.model.embeddings,
        {
          ownerFeature: batchRows.ownerFeature,
          ownerRow: batchRows.ownerRow,
          update: read.subarray(1) as Float32Array,
        },
        clipScale,
      );
      strategy.state = result.state;
      return {
        status: "applied",
        losses: lossValues,
        gram,
        result,
        stats,
        updateNorm,
        clipScale,
        ms: performance.now() - started,
      };
    } finally {
      tf.engine().endScope();
    }
  }

  private async plainStep(
    forward: ForwardState,
    dLogits: tf.Tensor2D,
    strategy: ActiveStrategy,
    step: number,
    started: number,
  ): Promise<StepReport> {
    const k = this.model.shape.tasks;
    const alpha = new Float64Array(k).fill(1 / k);
    const towers: ParamGrad[] = [];
    const shared: ParamGrad[] = [];
    const nodes = this.model.nodes.length;
    const pending = this.model.backwardTop(forward, dLogits, nodes, shared, towers);
    for (const [key, parts] of pending)
      pending.set(
        key,
        parts.map((part) => combineTaskGrad(part, alpha)),
      );
    const dInput = this.model.backwardRest(forward, pending, nodes - 1, shared);
    const rows = dInput ? this.model.embeddingRowGrads(forward, dInput) : undefined;
    // Gates before the combination point carry one task each: weight them like the rest.
    const dense = [...shared, ...towers].map((p) => ({
      variable: p.variable,
      update: tf.reshape(
        sameTasks(p.tasks, [COMBINED]) || towers.includes(p) ? p.grad : combineParamGrad(p, alpha),
        p.variable.shape,
      ),
    }));
    const read = await (rows ? tf.reshape(rows.grad, [-1]) : tf.zeros([0])).data();
    const batchRows = forward.batch;
    this.optimizer.apply(
      dense,
      this.model.embeddings,
      { ownerFeature: batchRows.ownerFeature, ownerRow: batchRows.ownerRow, update: read as Float32Array },
      1,
    );
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

  private embeddingRows(forward: ForwardState, parts: TaskGrad[] | undefined): TaskGrad | undefined {
    const dInput = mergeTaskGrads(parts ?? []);
    return dInput ? this.model.embeddingRowGrads(forward, dInput) : undefined;
  }
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

export { COMBINED };
