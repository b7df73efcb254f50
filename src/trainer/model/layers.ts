import * as tf from "@tensorflow/tfjs-core";
import type { Rng } from "../rng";

/**
 * Layers with a hand-written backward pass. tfjs's autodiff gives one gradient per call; the
 * gradient engine needs the gradients of K losses from ONE forward pass, so each layer here
 * back-propagates a stack of per-task upstream gradients [S, B, n] at once (S tasks in one
 * batched product), and reports its parameter gradients per task.
 *
 * Products use no transpose flags (explicit transposes instead): the wasm backend's fast matrix
 * product only runs on non-transposed operands (DESIGN §4).
 */

export type Activation = "relu" | "elu" | "gelu" | "tanh" | "sigmoid" | "linear";

/**
 * Gradients of several tasks stacked on axis 0: row s belongs to task `tasks[s]`. Task -1 is the
 * already-combined gradient Σ α_t g_t (after the strategy has spoken).
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
    const keepProbability = 1 - layer.dropout;
    const seed = (ctx.seed + layerId(layer) * 7919) % 2147483647;
    const mask = tf.div(
      tf.step(tf.sub(tf.randomUniform(out.shape, 0, 1, "float32", seed), layer.dropout)),
      keepProbability,
    );
    out = tf.mul(out, mask) as tf.Tensor2D;
    if (ctx.keep) slope = (slope ? tf.mul(slope, mask) : mask) as tf.Tensor2D;
  }
  return { out, cache: ctx.keep ? { input: x, gain: slope } : undefined };
}

/** Adds a batch-of-one leading axis: [B, n] -> [1, B, n]. */
const lead = (x: tf.Tensor) => tf.expandDims(x, 0);

/**
 * Back-propagates stacked upstream gradients δ [S, B, out] through one dense layer. Returns the
 * per-task parameter gradients ([S, in, out] and [S, out]) and, when asked, δ for the input.
 */
export function denseBackward(
  layer: Dense,
  cache: DenseCache,
  delta: tf.Tensor3D,
  wantInput: boolean,
): { dw: tf.Tensor3D; db: tf.Tensor2D; dx?: tf.Tensor3D } {
  const [s, b, out] = delta.shape;
  const dPre = (cache.gain ? tf.mul(delta, cache.gain) : delta) as tf.Tensor3D;
  // dW_t = xᵀ δ_t for every task t at once: [1, in, B] × [S, B, out].
  const dw = tf.matMul(lead(tf.transpose(cache.input)), dPre) as tf.Tensor3D;
  const db = tf.sum(dPre, 1) as tf.Tensor2D;
  if (!wantInput) return { dw, db };
  const inputs = layer.w.shape[0];
  const dx = tf.reshape(tf.matMul(tf.reshape(dPre, [s * b, out]), tf.transpose(layer.w)), [
    s,
    b,
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
  readonly experts: tf.Tensor3D; // [B, E, H]
}

export function gateForward(
  gate: Dense,
  x: tf.Tensor2D,
  experts: tf.Tensor2D[],
  keep: boolean,
): { out: tf.Tensor2D; cache?: GateCache } {
  const weights = tf.softmax(tf.add(tf.matMul(x, gate.w), gate.b)) as tf.Tensor2D;
  const stacked = tf.stack(experts, 1) as tf.Tensor3D;
  const out = tf.sum(tf.mul(stacked, tf.expandDims(weights, 2)), 1) as tf.Tensor2D;
  return { out, cache: keep ? { input: x, weights, experts: stacked } : undefined };
}

/** Back-propagates δ [S, B, H] of a gate's output to each expert, the gate's parameters and its input. */
export function gateBackward(
  gate: Dense,
  cache: GateCache,
  upstream: TaskGrad,
  into: ParamGrad[],
): { experts: TaskGrad[]; input: TaskGrad } {
  const delta = upstream.grad as tf.Tensor3D;
  const [s, b] = delta.shape;
  const e = cache.weights.shape[1];
  const spread = tf.expandDims(delta, 2); // [S, B, 1, H]
  // ∂z/∂expert_e = g_e;  ∂z/∂g_e = expert_e.
  const toExperts = tf.mul(spread, tf.expandDims(cache.weights, 2)) as tf.Tensor4D; // [S, B, E, H]
  const dWeights = tf.sum(tf.mul(spread, cache.experts), 3) as tf.Tensor3D; // [S, B, E]
  // Softmax Jacobian: g ⊙ (δg − ⟨δg, g⟩).
  const dLogits = tf.mul(
    cache.weights,
    tf.sub(dWeights, tf.sum(tf.mul(dWeights, cache.weights), 2, true)),
  ) as tf.Tensor3D;
  into.push({
    variable: gate.w,
    tasks: upstream.tasks,
    grad: tf.matMul(lead(tf.transpose(cache.input)), dLogits),
  });
  into.push({ variable: gate.b, tasks: upstream.tasks, grad: tf.sum(dLogits, 1) });
  const inputs = gate.w.shape[0];
  const dx = tf.reshape(tf.matMul(tf.reshape(dLogits, [s * b, e]), tf.transpose(gate.w)), [s, b, inputs]);
  const experts = tf.unstack(toExperts, 2).map((grad) => ({ tasks: upstream.tasks, grad }));
  return { experts, input: { tasks: upstream.tasks, grad: dx } };
}

/**
 * Sums gradient contributions that may cover different task sets into one stack over the
 * union of their tasks (missing tasks contribute zero).
 */
export function mergeTaskGrads(parts: readonly TaskGrad[]): TaskGrad | undefined {
  if (parts.length === 0) return undefined;
  if (parts.length === 1) return parts[0];
  const all = parts.flatMap((p) => p.tasks);
  const union = [...new Set(all)].sort((a, b) => a - b);
  if (union.length === all.length) {
    // Disjoint task sets (e.g. one per task from K gates): stack them, then put tasks in order.
    const stacked = tf.concat(
      parts.map((p) => p.grad),
      0,
    );
    const order = union.map((t) => all.indexOf(t));
    const sorted = order.every((o, i) => o === i);
    return { tasks: union, grad: sorted ? stacked : tf.gather(stacked, tf.tensor1d(order, "int32"), 0) };
  }
  const aligned = parts.map((part) => {
    if (sameTasks(part.tasks, union)) return part.grad;
    // Gather rows into union order; a padded zero row stands for absent tasks.
    const zero = tf.zerosLike(tf.slice(part.grad, 0, 1));
    const padded = tf.concat([part.grad, zero], 0);
    const index = union.map((t) => {
      const at = part.tasks.indexOf(t);
      return at >= 0 ? at : part.tasks.length;
    });
    return tf.gather(padded, tf.tensor1d(index, "int32"), 0);
  });
  return { tasks: union, grad: aligned.length === 1 ? aligned[0] : tf.addN(aligned) };
}

export function sameTasks(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

/** Σ_s α[tasks[s]] · grad[s]: collapses a stack to the combined gradient (task -1). */
export function combineTaskGrad(part: TaskGrad, alpha: ArrayLike<number>): TaskGrad {
  if (sameTasks(part.tasks, [COMBINED])) return part;
  const rest = part.grad.shape.slice(1);
  const s = part.tasks.length;
  const weights = tf.tensor2d(
    part.tasks.map((t) => alpha[t]),
    [1, s],
  );
  const flat = tf.reshape(part.grad, [s, -1]);
  const grad = tf.reshape(tf.matMul(weights, flat), [1, ...rest]);
  return { tasks: [COMBINED], grad };
}
