import * as tf from "@tensorflow/tfjs-core";
import { activationBlock, gramOf } from "../gram";
import type { BatchRows } from "../model/embeddings";
import {
  COMBINED,
  combineParamGrad,
  combineTaskGrad,
  mergeTaskGrads,
  type ParamGrad,
  type TaskGrad,
} from "../model/layers";
import type { MultiTaskModel } from "../model/model";

/**
 * What one slice of a batch contributes to a training step: its examples' loss sums and
 * gradients, on whichever thread computes them (docs/architecture.md, "Every core"). Each
 * slice's losses and gradients are sums over its own examples, scaled by the WHOLE batch's size,
 * so the slices' contributions add up to the step's gradients. Every slice sees all of the
 * batch's unique embedding rows, so its row gradients have the whole batch's layout and add
 * elementwise, row by row.
 */

/** A slice of a batch: examples [firstRow, firstRow + size) of a batch of `batchSize`. */
export interface BatchSlice {
  readonly firstRow: number;
  readonly size: number;
  readonly batchSize: number;
  /** [size × width] positions of the examples' ids among the batch's unique rows (width: ids per example). */
  readonly inverse: Int32Array;
  /** With multi-hot features: each id slot's weight in its feature's mean, [size × width]. */
  readonly weights?: Float32Array;
  /** With multi-hot features: the slice's example feature, b·F + f, each slot pools into (b from 0). */
  readonly position?: Int32Array;
  /** [size × numeric features], empty without numeric features. */
  readonly numeric: Float32Array;
  /** [size × K] labels in {0, 1}. */
  readonly labels: Float32Array;
}

/**
 * `params`: per-task gradients of every shared parameter (the Gram matrix is formed from their
 * sum). `plain`: the equal-weighted gradient only (the one-backward baseline of `bench speed`).
 * `representation`: two passes: the Gram matrix of the per-task gradients w.r.t. the shared
 * representation first, then, once the strategy has weighed it, Σ α_t ∂L_t/∂z back-propagated
 * through the layers below.
 */
export type SliceMode = "params" | "plain" | "representation";

/**
 * Sums over a slice's examples. Which fields are present depends on the mode and the pass, never
 * on the data, so two slices of one step always have the same parts.
 */
export interface SliceGradients {
  /** Each task's loss summed over the examples, [K]. */
  readonly lossSums?: tf.Tensor1D;
  /** Representation scope: the Gram matrix of the per-task gradients w.r.t. the representation. */
  readonly gram?: tf.Tensor2D;
  /** Shared dense parameters: per-task stacks, or the combined gradient (task −1). */
  readonly shared: ParamGrad[];
  /** Each tower's own gradient. */
  readonly towers: ParamGrad[];
  /** The batch's unique embedding rows, [S, U·dim]. */
  readonly rows?: TaskGrad;
}

/** The first pass of a representation-scope slice, and the second one still to run. */
export interface RepresentationSlice {
  readonly above: SliceGradients;
  /** Back-propagates Σ_t weights_t ∂L_t/∂z below the representation (combined gradients). */
  below(weights: ArrayLike<number>): SliceGradients;
}

/** Binary cross-entropy per task from logits [B, K], summed over the examples, in the stable form. */
export function taskLossSums(logits: tf.Tensor2D, labels: tf.Tensor2D): tf.Tensor1D {
  return tf.sum(
    tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits))))),
    0,
  ) as tf.Tensor1D;
}

/** Examples [start, start + size) of a batch as a slice (positions among `rows`' unique rows). */
export function sliceOf(
  batch: { readonly size: number; readonly numeric?: Float32Array; readonly labels: Float32Array },
  rows: BatchRows,
  start: number,
  size: number,
  shape: {
    readonly features: number;
    /** Id slots per example: F, or more with multi-hot features. */
    readonly width: number;
    readonly numeric: number;
    readonly tasks: number;
  },
): BatchSlice {
  const { features, width, numeric, tasks } = shape;
  const ids = (a: Int32Array | Float32Array) => a.subarray(start * width, (start + size) * width);
  const shift = start * features;
  return {
    firstRow: start,
    size,
    batchSize: batch.size,
    inverse: ids(rows.inverse) as Int32Array,
    ...(rows.weights && rows.position
      ? {
          weights: ids(rows.weights) as Float32Array,
          position: (ids(rows.position) as Int32Array).map((p) => p - shift),
        }
      : {}),
    numeric: (batch.numeric ?? new Float32Array(0)).subarray(start * numeric, (start + size) * numeric),
    labels: batch.labels.subarray(start * tasks, (start + size) * tasks),
  };
}

/** The fewest examples a thread's slice may have by default: below it, its overhead outweighs the gain. */
export const MIN_SLICE = 256;

/**
 * Sizes of `parts` contiguous slices of a batch, as equal as possible (the first ones take the
 * remainder).
 */
export function sliceSizes(batchSize: number, parts: number): number[] {
  const base = Math.floor(batchSize / parts);
  return Array.from({ length: parts }, (_, i) => base + (i < batchSize % parts ? 1 : 0));
}

/** The slice's forward pass, loss sums and the gradient of the whole batch's mean loss w.r.t. its logits. */
function forwardSlice(model: MultiTaskModel, slice: BatchSlice, table: tf.Tensor2D, seed: number) {
  const rows: BatchRows = {
    rows: new Float32Array(0),
    inverse: slice.inverse,
    ...(slice.weights && slice.position ? { weights: slice.weights, position: slice.position } : {}),
    unique: table.shape[0],
    ownerFeature: new Int32Array(0),
    ownerRow: new Int32Array(0),
  };
  const forward = model.forwardRows(
    { size: slice.size, categorical: new Int32Array(0), numeric: slice.numeric },
    rows,
    table,
    { training: true, seed, keep: true, firstRow: slice.firstRow },
  );
  const labels = tf.tensor2d(slice.labels, [slice.size, model.shape.tasks]);
  const lossSums = taskLossSums(forward.logits, labels);
  // ∂(mean loss over the whole batch)/∂logit = (σ(z) − y) / batch size.
  const dLogits = tf.div(tf.sub(tf.sigmoid(forward.logits), labels), slice.batchSize) as tf.Tensor2D;
  return { forward, lossSums, dLogits };
}

/**
 * Forward and backward pass over one slice (params or plain mode). `table` [U, dim] holds the
 * batch's unique embedding rows; `seed` is the step's dropout seed.
 */
export function sliceGradients(
  model: MultiTaskModel,
  slice: BatchSlice,
  table: tf.Tensor2D,
  seed: number,
  mode: "params" | "plain",
): SliceGradients {
  const k = model.shape.tasks;
  const { forward, lossSums, dLogits } = forwardSlice(model, slice, table, seed);
  const shared: ParamGrad[] = [];
  const towers: ParamGrad[] = [];
  if (mode === "params") {
    const dInput = mergeTaskGrads(model.backwardTop(forward, dLogits, 0, shared, towers).get("x") ?? []);
    return { lossSums, shared, towers, rows: dInput ? model.embeddingRowGrads(forward, dInput) : undefined };
  }
  // plain: combine with equal weights where the backward pass first meets a shared node.
  const alpha = new Float64Array(k).fill(1 / k);
  const nodes = model.nodes.length;
  const pending = model.backwardTop(forward, dLogits, nodes, shared, towers);
  for (const [key, parts] of pending)
    pending.set(
      key,
      parts.map((part) => combineTaskGrad(part, alpha)),
    );
  const dInput = model.backwardRest(forward, pending, nodes - 1, shared);
  return {
    lossSums,
    shared: shared.map((p) => combined(p, alpha)),
    towers,
    rows: dInput ? model.embeddingRowGrads(forward, dInput) : undefined,
  };
}

/**
 * Representation scope over one slice: the towers, the per-task gradients of the parameters
 * above the representation and the slice's share of the representation Gram matrix (a sum over
 * examples, so the slices' shares add up); the layers below wait for the strategy's weights.
 */
export function sliceRepresentation(
  model: MultiTaskModel,
  slice: BatchSlice,
  table: tf.Tensor2D,
  seed: number,
): RepresentationSlice {
  const k = model.shape.tasks;
  const { forward, lossSums, dLogits } = forwardSlice(model, slice, table, seed);
  const shared: ParamGrad[] = [];
  const towers: ParamGrad[] = [];
  const stop = model.representationStart;
  const pending = model.backwardTop(forward, dLogits, stop, shared, towers);
  const blocks = [...pending.entries()]
    .filter(([key]) => key.startsWith("e"))
    .map(([, parts]) => mergeTaskGrads(parts))
    .filter((b): b is TaskGrad => b !== undefined)
    .map(activationBlock);
  return {
    above: { lossSums, gram: gramOf(blocks, k), shared, towers },
    below: (weights) => {
      for (const [key, parts] of pending)
        pending.set(
          key,
          parts.map((part) => combineTaskGrad(part, weights)),
        );
      const below: ParamGrad[] = [];
      const dInput = model.backwardRest(forward, pending, stop - 1, below);
      return {
        shared: below.map((p) => combined(p, weights)),
        towers: [],
        rows: dInput ? model.embeddingRowGrads(forward, dInput) : undefined,
      };
    },
  };
}

/** A parameter's gradient combined over its tasks, as a one-slot stack [1, ...shape]. */
function combined(p: ParamGrad, weights: ArrayLike<number>): ParamGrad {
  if (p.tasks.length === 1 && p.tasks[0] === COMBINED) return p;
  return {
    variable: p.variable,
    tasks: [COMBINED],
    grad: tf.reshape(combineParamGrad(p, weights), [1, ...p.variable.shape]),
  };
}

/** A result's tensors in the fixed order both sides of a thread boundary use. */
function partsOf(result: SliceGradients): tf.Tensor[] {
  return [
    ...(result.lossSums ? [result.lossSums] : []),
    ...(result.gram ? [result.gram] : []),
    ...result.shared.map((p) => p.grad),
    ...result.towers.map((p) => p.grad),
    ...(result.rows ? [result.rows.grad] : []),
  ];
}

/** Every number of a slice's result in one vector, in a fixed order (what a thread sends back). */
export function flattenSlice(result: SliceGradients): tf.Tensor1D {
  return tf.concat(partsOf(result).map((p) => tf.reshape(p, [-1]))) as tf.Tensor1D;
}

/**
 * `result` plus other slices' flattened results (same model, same mode and pass, same batch):
 * the whole batch's sums, shaped like `result`. Each part is uploaded on its own (the wasm
 * backend copies a whole tensor to slice one piece out of it).
 */
export function addSlices(result: SliceGradients, others: readonly Float32Array[]): SliceGradients {
  if (others.length === 0) return result;
  const size = partsOf(result).reduce((n, p) => n + p.size, 0);
  for (const other of others)
    if (other.length !== size)
      throw new Error(
        `a worker thread's gradients have ${other.length} numbers where this thread has ${size}: the threads run different models`,
      );
  let offset = 0;
  const add = <T extends tf.Tensor>(own: T): T => {
    const pieces = others.map((other) => tf.tensor(other.subarray(offset, offset + own.size), own.shape));
    offset += own.size;
    return tf.addN([own, ...pieces]) as T;
  };
  // Same order as partsOf.
  const lossSums = result.lossSums && add(result.lossSums);
  const gram = result.gram && add(result.gram);
  const shared = result.shared.map((p) => ({ ...p, grad: add(p.grad) }));
  const towers = result.towers.map((p) => ({ ...p, grad: add(p.grad) }));
  const rows = result.rows && { ...result.rows, grad: add(result.rows.grad) };
  return { lossSums, gram, shared, towers, rows };
}
