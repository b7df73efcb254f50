import * as tf from "@tensorflow/tfjs-core";
import { dropoutMask, mixSeed, type Rng } from "../rng";

/**
 * Layers with a hand-written backward pass. tfjs's autodiff gives one gradient per call; the
 * gradient engine needs the gradients of K losses from ONE forward pass, so each layer here
 * back-propagates a stack of per-task upstream gradients [S, B, n] at once (S tasks in one
 * batched product), and reports its parameter gradients per task.
 *
 * Products use no transpose flags (explicit transposes instead): the wasm backend's fast matrix
 * product only runs on non-transposed operands (docs/architecture.md, "Backends on wasm").
 */

export type Activation = "relu" | "elu" | "gelu" | "tanh" | "sigmoid" | "linear";

/**
 * Gradients of several tasks stacked on one axis: slot s belongs to task `tasks[s]`. Task -1 is
 * the already-combined gradient Σ α_t g_t (after the strategy has spoken). Gradients of
 * activations are laid out [B, S, n] (task axis 1): then a layer's K weight gradients are ONE
 * product xᵀ·δ[B, S·out] on the fast kernel, with no transpose of batch-sized tensors. Parameter
 * gradients are [S, ...shape] (task axis 0).
 */
export interface TaskGrad {
  readonly tasks: readonly number[];
  readonly grad: tf.Tensor;
}

export const COMBINED = -1;

export interface Dense {
  readonly name: string;
  readonly w: tf.Variable; // [in, out]
  readonly b: tf.Variable; // [out]
  readonly activation: Activation;
  /** Dropout after the activation (training only). */
  readonly dropout: number;
}

export function makeDense(
  name: string,
  inputs: number,
  outputs: number,
  activation: Activation,
  dropout: number,
  rng: Rng,
): Dense {
  // He-uniform for ReLU-like units, Glorot-uniform otherwise.
  const limit =
    activation === "relu" || activation === "elu" || activation === "gelu"
      ? Math.sqrt(6 / inputs)
      : Math.sqrt(6 / (inputs + outputs));
  const values = new Float32Array(inputs * outputs);
  for (let i = 0; i < values.length; i++) values[i] = (rng.next() * 2 - 1) * limit;
  return {
    name,
    w: tf.variable(tf.tensor2d(values, [inputs, outputs]), true, `${name}/w`),
    b: tf.variable(tf.zeros([outputs]), true, `${name}/b`),
    activation,
    dropout,
  };
}

export interface DenseCache {
  readonly input: tf.Tensor2D;
  /** ∂output/∂pre-activation times the dropout mask, [B, out]; null for linear without dropout. */
  readonly gain: tf.Tensor2D | null;
}

export interface ForwardContext {
  readonly training: boolean;
  /** Seed of this step's dropout masks (mixed with a per-layer number). */
  readonly seed: number;
  /**
   * Position of the first example in the whole batch when this pass sees a slice of it (a
   * thread's share of a step): the slice's examples then get the dropout masks they get in the
   * whole batch. Default 0.
   */
  readonly firstRow?: number;
  /** Keep caches for a backward pass. */
  readonly keep: boolean;
}

let layerCounter = 0;
const layerIds = new WeakMap<Dense, number>();
function layerId(layer: Dense): number {
  let id = layerIds.get(layer);
  if (id === undefined) {
    id = ++layerCounter;
    layerIds.set(layer, id);
  }
  return id;
}

/** Layer ids must be stable across processes (dropout masks on resume): models set them in build order. */
export function setLayerId(layer: Dense, id: number): void {
  layerIds.set(layer, id);
}

export function denseForward(
  layer: Dense,
  x: tf.Tensor2D,
  ctx: ForwardContext,
): { out: tf.Tensor2D; cache?: DenseCache } {
  const pre = tf.add(tf.matMul(x, layer.w), layer.b) as tf.Tensor2D;
  let out: tf.Tensor2D;
  let slope: tf.Tensor2D | null = null;
  switch (layer.activation) {
    case "linear":
      out = pre;
      break;
    case "relu":
      out = tf.relu(pre);
      if (ctx.keep) slope = tf.step(pre);
      break;
    case "elu":
      out = tf.elu(pre);
      // elu'(x) = 1 for x > 0, else elu(x) + 1.
      if (ctx.keep) slope = tf.where(tf.greater(pre, 0), tf.onesLike(pre), tf.add(out, 1)) as tf.Tensor2D;
      break;
    case "tanh":
      out = tf.tanh(pre);
      if (ctx.keep) slope = tf.sub(1, tf.square(out)) as tf.Tensor2D;
      break;
    case "sigmoid":
      out = tf.sigmoid(pre);
      if (ctx.keep) slope = tf.mul(out, tf.sub(1, out)) as tf.Tensor2D;
      break;
    case "gelu": {
      // Exact GELU: x Φ(x); derivative Φ(x) + x φ(x).
      const cdf = tf.mul(0.5, tf.add(1, tf.erf(tf.mul(pre, Math.SQRT1_2))));
      out = tf.mul(pre, cdf) as tf.Tensor2D;
      if (ctx.keep) {
        const pdf = tf.mul(tf.exp(tf.mul(-0.5, tf.square(pre))), 1 / Math.sqrt(2 * Math.PI));
        slope = tf.add(cdf, tf.mul(pre, pdf)) as tf.Tensor2D;
      }
      break;
    }
  }
  if (ctx.training && layer.dropout > 0) {
    const [rows, columns] = out.shape;
    const seed = mixSeed(ctx.seed, layerId(layer));
    const mask = tf.tensor2d(dropoutMask(seed, layer.dropout, columns, ctx.firstRow ?? 0, rows), out.shape);
    out = tf.mul(out, mask) as tf.Tensor2D;
    if (ctx.keep) slope = (slope ? tf.mul(slope, mask) : mask) as tf.Tensor2D;
  }
  return { out, cache: ctx.keep ? { input: x, gain: slope } : undefined };
}

/**
 * xᵀ for a layer input, computed once per tensor per step: the K experts and gates that read the
 * same input share it.
 */
const transposed = new WeakMap<tf.Tensor, tf.Tensor2D>();
function transposeOf(x: tf.Tensor2D): tf.Tensor2D {
  let t = transposed.get(x);
  if (!t || t.isDisposed) {
    t = tf.transpose(x);
    transposed.set(x, t);
  }
  return t;
}

/** Column sums of a [B, m] matrix as a product with ones (reductions over a leading axis are slow on wasm). */
function columnSums(x: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(tf.ones([1, x.shape[0]]), x) as tf.Tensor2D;
}

/** [in, S, m] -> [S, in, m] (small: parameter-sized). */
function tasksFirst(x: tf.Tensor, s: number, inputs: number, m: number): tf.Tensor3D {
  return (
    s === 1 ? tf.reshape(x, [1, inputs, m]) : tf.transpose(tf.reshape(x, [inputs, s, m]), [1, 0, 2])
  ) as tf.Tensor3D;
}

/**
 * Back-propagates stacked upstream gradients δ [B, S, out] through one dense layer. Returns the
 * per-task parameter gradients ([S, in, out] and [S, out]) and, when asked, δ [B, S, in] for
 * the input.
 */
export function denseBackward(
  layer: Dense,
  cache: DenseCache,
  delta: tf.Tensor3D,
  wantInput: boolean,
): { dw: tf.Tensor3D; db: tf.Tensor2D; dx?: tf.Tensor3D } {
  const [b, s, out] = delta.shape;
  const inputs = layer.w.shape[0];
  const dPre = (cache.gain ? tf.mul(delta, tf.expandDims(cache.gain, 1)) : delta) as tf.Tensor3D;
  const wide = tf.reshape(dPre, [b, s * out]) as tf.Tensor2D;
  // dW_t = xᵀ δ_t for every task t at once: [in, B] × [B, S·out].
  const dw = tasksFirst(tf.matMul(transposeOf(cache.input), wide), s, inputs, out);
  const db = tf.reshape(columnSums(wide), [s, out]) as tf.Tensor2D;
  if (!wantInput) return { dw, db };
  const dx = tf.reshape(tf.matMul(tf.reshape(dPre, [b * s, out]), tf.transpose(layer.w)), [
    b,
    s,
    inputs,
  ]) as tf.Tensor3D;
  return { dw, db, dx };
}

/** A stack of dense layers. */
export type Mlp = readonly Dense[];

export function mlpForward(
  layers: Mlp,
  x: tf.Tensor2D,
  ctx: ForwardContext,
): { out: tf.Tensor2D; caches: DenseCache[] } {
  const caches: DenseCache[] = [];
  let h = x;
  for (const layer of layers) {
    const { out, cache } = denseForward(layer, h, ctx);
    if (cache) caches.push(cache);
    h = out;
  }
  return { out: h, caches };
}

export interface ParamGrad {
  readonly variable: tf.Variable;
  readonly tasks: readonly number[];
  /** [S, ...variable shape] */
  readonly grad: tf.Tensor;
}

export function mlpBackward(
  layers: Mlp,
  caches: DenseCache[],
  upstream: TaskGrad,
  wantInput: boolean,
  into: ParamGrad[],
): TaskGrad | undefined {
  let delta = upstream.grad as tf.Tensor3D;
  for (let i = layers.length - 1; i >= 0; i--) {
    const needInput = wantInput || i > 0;
    const { dw, db, dx } = denseBackward(layers[i], caches[i], delta, needInput);
    into.push({ variable: layers[i].w, tasks: upstream.tasks, grad: dw });
    into.push({ variable: layers[i].b, tasks: upstream.tasks, grad: db });
    if (dx) delta = dx;
  }
  return wantInput ? { tasks: upstream.tasks, grad: delta } : undefined;
}

/**
 * A softmax gate: mixes expert outputs with per-example weights softmax(x W + b).
 */
export interface GateCache {
  readonly input: tf.Tensor2D;
  readonly weights: tf.Tensor2D; // [B, E]
  /** Each expert's weight as a [B, 1, 1] column, to scale δ [B, S, H]. */
  readonly columns: tf.Tensor3D[];
  readonly experts: tf.Tensor2D[]; // E × [B, H]
}

export function gateForward(
  gate: Dense,
  x: tf.Tensor2D,
  experts: tf.Tensor2D[],
  keep: boolean,
): { out: tf.Tensor2D; cache?: GateCache } {
  const weights = tf.softmax(tf.add(tf.matMul(x, gate.w), gate.b)) as tf.Tensor2D;
  const b = x.shape[0];
  const columns = tf.split(weights, experts.length, 1) as tf.Tensor2D[];
  const out = tf.addN(experts.map((expert, e) => tf.mul(expert, columns[e]))) as tf.Tensor2D;
  return {
    out,
    cache: keep
      ? { input: x, weights, columns: columns.map((c) => tf.reshape(c, [b, 1, 1]) as tf.Tensor3D), experts }
      : undefined,
  };
}

/** Back-propagates δ [B, S, H] of a gate's output to each expert, the gate's parameters and its input. */
export function gateBackward(
  gate: Dense,
  cache: GateCache,
  upstream: TaskGrad,
  into: ParamGrad[],
): { experts: TaskGrad[]; input: TaskGrad } {
  const delta = upstream.grad as tf.Tensor3D;
  const [b, s] = delta.shape;
  const e = cache.experts.length;
  const inputs = gate.w.shape[0];
  // ∂z/∂expert_e = g_e;  ∂z/∂g_e = expert_e.
  const experts = cache.columns.map((column) => ({ tasks: upstream.tasks, grad: tf.mul(delta, column) }));
  const dWeights = tf.stack(
    cache.experts.map((expert) => tf.sum(tf.mul(delta, tf.expandDims(expert, 1)), 2)),
    2,
  ) as tf.Tensor3D; // [B, S, E]
  // Softmax Jacobian: g ⊙ (δg − ⟨δg, g⟩).
  const g = tf.expandDims(cache.weights, 1);
  const dLogits = tf.mul(g, tf.sub(dWeights, tf.sum(tf.mul(dWeights, g), 2, true))) as tf.Tensor3D;
  const wide = tf.reshape(dLogits, [b, s * e]) as tf.Tensor2D;
  into.push({
    variable: gate.w,
    tasks: upstream.tasks,
    grad: tasksFirst(tf.matMul(transposeOf(cache.input), wide), s, inputs, e),
  });
  into.push({ variable: gate.b, tasks: upstream.tasks, grad: tf.reshape(columnSums(wide), [s, e]) });
  const dx = tf.reshape(tf.matMul(tf.reshape(dLogits, [b * s, e]), tf.transpose(gate.w)), [b, s, inputs]);
  return { experts, input: { tasks: upstream.tasks, grad: dx } };
}

/**
 * Sums activation-gradient contributions [B, S_i, n] that may cover different task sets into one
 * stack over the union of their tasks (a missing task contributes zero).
 */
export function mergeTaskGrads(parts: readonly TaskGrad[]): TaskGrad | undefined {
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  const union = [...new Set(parts.flatMap((p) => p.tasks))].sort((a, b) => a - b);
  // Stacks over all tasks of the union add up directly; the others are summed per task first.
  const whole = parts.filter((p) => sameTasks(p.tasks, union)).map((p) => p.grad);
  const perTask = new Map<number, tf.Tensor[]>();
  for (const part of parts) {
    if (sameTasks(part.tasks, union)) continue;
    const slices = part.tasks.length === 1 ? [part.grad] : tf.split(part.grad, part.tasks.length, 1);
    part.tasks.forEach((t, i) => {
      const list = perTask.get(t) ?? [];
      list.push(slices[i]);
      perTask.set(t, list);
    });
  }
  if (perTask.size > 0) {
    const shape = parts[0].grad.shape;
    const zero = tf.zeros([shape[0], 1, shape[2] ?? 1]);
    const columns = union.map((t) => {
      const list = perTask.get(t);
      return !list ? zero : list.length === 1 ? list[0] : tf.addN(list);
    });
    whole.push(columns.length === 1 ? columns[0] : tf.concat(columns, 1));
  }
  return { tasks: union, grad: whole.length === 1 ? whole[0] : tf.addN(whole) };
}

export function sameTasks(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** Σ_s α[tasks[s]] · grad[s] over a parameter stack [S, ...]: the combined gradient (task -1). */
export function combineParamGrad(part: ParamGrad, alpha: ArrayLike<number>): tf.Tensor {
  const s = part.tasks.length;
  if (sameTasks(part.tasks, [COMBINED])) return part.grad;
  if (s === 1) return tf.mul(part.grad, alpha[part.tasks[0]]);
  const weights = tf.tensor2d(
    part.tasks.map((t) => alpha[t]),
    [1, s],
  );
  return tf.matMul(weights, tf.reshape(part.grad, [s, -1]));
}

/** Σ_s α[tasks[s]] · δ[:, s, :] over an activation stack [B, S, n]: the combined gradient [B, 1, n]. */
export function combineTaskGrad(part: TaskGrad, alpha: ArrayLike<number>): TaskGrad {
  if (sameTasks(part.tasks, [COMBINED])) return part;
  const s = part.tasks.length;
  const [b, , n] = part.grad.shape;
  if (s === 1) return { tasks: [COMBINED], grad: tf.mul(part.grad, alpha[part.tasks[0]]) };
  const weights = tf.reshape(tf.tensor1d(part.tasks.map((t) => alpha[t])), [1, s, 1]);
  return { tasks: [COMBINED], grad: tf.reshape(tf.sum(tf.mul(part.grad, weights), 1), [b, 1, n]) };
}
