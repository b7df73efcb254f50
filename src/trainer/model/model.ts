import * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "../../protocol/config";
import { checkModelFits } from "../../protocol/preflight";
import { Rng } from "../rng";
import { type BatchRows, EmbeddingTables } from "./embeddings";
import { fieldSumMatrix, fmBackward, fmForward } from "./fm";
import {
  type Dense,
  type DenseCache,
  type ForwardContext,
  type GateCache,
  gateBackward,
  gateForward,
  type Mlp,
  makeDense,
  mergeTaskGrads,
  mlpBackward,
  mlpForward,
  type ParamGrad,
  setLayerId,
  type TaskGrad,
} from "./layers";

/**
 * Shared-Bottom, MMoE and PLE as one graph of experts (MLPs) and softmax gates, built from the
 * config. Every model is: embeddings (+ numeric features) -> experts/gates -> one tower per task
 * ending in a logit (the sigmoid is in the loss). Parameters fall in three groups: embedding
 * rows (host tables), shared dense (experts and gates) and per-task towers. With `deepfm`, each
 * tower also reads the FM interaction of the embeddings (fm.ts), as the official code's DeepFM
 * backbone does.
 */

export interface ModelShape {
  readonly vocabularies: readonly number[];
  readonly numericFeatures: number;
  readonly tasks: number;
  readonly featureNames?: readonly string[];
  /** Id slots per example of each feature: 1, or maxItems for a multi-hot one (mean-pooled). Default all 1. */
  readonly slots?: readonly number[];
}

/** Where a node reads its input: the embedded features, or a gate's output. */
type Source = { kind: "input" } | { kind: "gate"; index: number };

interface Expert {
  readonly name: string;
  readonly mlp: Mlp;
  readonly source: Source;
  readonly level: number;
}

interface Gate {
  readonly name: string;
  /** null: a pass-through of its single expert (Shared-Bottom). */
  readonly dense: Dense | null;
  readonly experts: readonly number[];
  readonly source: Source;
  readonly level: number;
}

type Node = { kind: "expert"; index: number } | { kind: "gate"; index: number };

export interface ModelBatch {
  readonly size: number;
  /** Row-major [size × F] categorical ids. */
  readonly categorical: Int32Array;
  /** Row-major [size × numericFeatures], or empty. */
  readonly numeric?: Float32Array;
}

export interface ForwardState {
  readonly batch: BatchRows;
  readonly size: number;
  readonly input: tf.Tensor2D;
  readonly logits: tf.Tensor2D; // [B, K]
  readonly expertCaches: DenseCache[][];
  readonly expertOut: tf.Tensor2D[];
  readonly gateCaches: (GateCache | undefined)[];
  readonly towerCaches: DenseCache[][];
  /** deepfm: ∂fm/∂(embedded features) [B, F·dim]. */
  readonly fmSlope?: tf.Tensor2D;
}

export class MultiTaskModel {
  readonly embeddings: EmbeddingTables;
  readonly experts: Expert[] = [];
  readonly gates: Gate[] = [];
  readonly towers: Mlp[] = [];
  /** Gate feeding each task's tower. */
  readonly taskGate: number[] = [];
  /** Experts and gates in forward order. */
  readonly nodes: Node[] = [];
  /**
   * Position in `nodes` of the last level's first gate: what flows into the nodes before it
   * (the last level's expert outputs) is the shared representation.
   */
  readonly representationStart: number;
  readonly inputWidth: number;
  /** deepfm: the matrix that sums the feature embeddings (null without deepfm). */
  private readonly fieldSum: tf.Tensor2D | null;

  constructor(
    readonly config: ModelConfig,
    readonly shape: ModelShape,
    seed: number,
  ) {
    const rng = new Rng(seed);
    const k = shape.tasks;
    // tfjs variable names are global: prefix them so several models can live in one process.
    const prefix = `model${++modelCount}`;
    if (k < 1) throw new Error("the model needs at least one task");
    // Before any table or variable exists: a size that cannot fit fails naming its field.
    checkModelFits(config, shape);
    this.embeddings = new EmbeddingTables(shape.vocabularies, config.embeddingDim, rng, 0.01, shape.slots);
    this.inputWidth = shape.vocabularies.length * config.embeddingDim + shape.numericFeatures;
    const act = config.activation;
    const expertWidth = config.experts[config.experts.length - 1];
    let layerId = 0;
    const mlp = (name: string, inputs: number, sizes: readonly number[], last: "act" | "logit"): Mlp => {
      const layers: Dense[] = [];
      let width = inputs;
      sizes.forEach((size, i) => {
        layers.push(makeDense(`${prefix}/${name}/${i}`, width, size, act, config.dropout, rng));
        width = size;
      });
      if (last === "logit") layers.push(makeDense(`${prefix}/${name}/out`, width, 1, "linear", 0, rng));
      for (const layer of layers) setLayerId(layer, ++layerId);
      return layers;
    };
    const addExpert = (name: string, inputs: number, source: Source, level: number) => {
      this.experts.push({ name, mlp: mlp(name, inputs, config.experts, "act"), source, level });
      this.nodes.push({ kind: "expert", index: this.experts.length - 1 });
      return this.experts.length - 1;
    };
    const addGate = (name: string, inputs: number, experts: number[], source: Source, level: number) => {
      const dense =
        experts.length > 1 ? makeDense(`${prefix}/${name}`, inputs, experts.length, "linear", 0, rng) : null;
      if (dense) setLayerId(dense, ++layerId);
      this.gates.push({ name, dense, experts, source, level });
      this.nodes.push({ kind: "gate", index: this.gates.length - 1 });
      return this.gates.length - 1;
    };
    const input: Source = { kind: "input" };
    let start = 0;
    if (config.type === "shared-bottom") {
      const bottom = addExpert("bottom", this.inputWidth, input, 0);
      start = this.nodes.length;
      for (let t = 0; t < k; t++)
        this.taskGate.push(addGate(`task${t}/pass`, this.inputWidth, [bottom], input, 0));
    } else if (config.type === "mmoe") {
      const all: number[] = [];
      for (let e = 0; e < config.numExperts; e++)
        all.push(addExpert(`expert${e}`, this.inputWidth, input, 0));
      start = this.nodes.length;
      for (let t = 0; t < k; t++) this.taskGate.push(addGate(`gate${t}`, this.inputWidth, all, input, 0));
    } else {
      // PLE: CGC levels. Task t's experts read task t's previous gate; shared experts read the shared gate.
      let taskSources: Source[] = Array.from({ length: k }, () => input);
      let sharedSource: Source = input;
      let width = this.inputWidth;
      for (let level = 0; level < config.levels; level++) {
        const last = level === config.levels - 1;
        const shared: number[] = [];
        for (let e = 0; e < config.sharedExperts; e++)
          shared.push(addExpert(`L${level}/shared${e}`, width, sharedSource, level));
        const specific: number[][] = [];
        for (let t = 0; t < k; t++) {
          specific.push([]);
          for (let e = 0; e < config.specificExperts; e++)
            specific[t].push(addExpert(`L${level}/task${t}/expert${e}`, width, taskSources[t], level));
        }
        if (last) start = this.nodes.length;
        const nextTask: Source[] = [];
        for (let t = 0; t < k; t++) {
          const g = addGate(
            `L${level}/task${t}/gate`,
            width,
            [...specific[t], ...shared],
            taskSources[t],
            level,
          );
          nextTask.push({ kind: "gate", index: g });
          if (last) this.taskGate.push(g);
        }
        if (!last) {
          const everything = [...shared, ...specific.flat()];
          const g = addGate(`L${level}/shared/gate`, width, everything, sharedSource, level);
          sharedSource = { kind: "gate", index: g };
        }
        taskSources = nextTask;
        width = expertWidth;
      }
    }
    this.representationStart = start;
    const towerWidth = expertWidth + (config.deepfm ? 1 : 0);
    for (let t = 0; t < k; t++) this.towers.push(mlp(`tower${t}`, towerWidth, config.towers, "logit"));
    this.fieldSum = config.deepfm ? fieldSumMatrix(shape.vocabularies.length, config.embeddingDim) : null;
  }

  dispose(): void {
    for (const variable of this.denseVariables()) variable.dispose();
    this.fieldSum?.dispose();
  }

  /** Dense variables shared by tasks (experts and gates), in a stable order. */
  sharedVariables(): tf.Variable[] {
    const out: tf.Variable[] = [];
    for (const node of this.nodes) {
      if (node.kind === "expert")
        for (const layer of this.experts[node.index].mlp) out.push(layer.w, layer.b);
      else {
        const dense = this.gates[node.index].dense;
        if (dense) out.push(dense.w, dense.b);
      }
    }
    return out;
  }

  towerVariables(task: number): tf.Variable[] {
    return this.towers[task].flatMap((layer) => [layer.w, layer.b]);
  }

  /** Every dense variable: shared first, then towers. */
  denseVariables(): tf.Variable[] {
    return [...this.sharedVariables(), ...this.towers.flatMap((_, t) => this.towerVariables(t))];
  }

  get parameterCount(): { embeddings: number; shared: number; towers: number } {
    const count = (vars: tf.Variable[]) => vars.reduce((sum, v) => sum + v.size, 0);
    return {
      embeddings: this.embeddings.parameterCount,
      shared: count(this.sharedVariables()),
      towers: this.towers.reduce((sum, _, t) => sum + count(this.towerVariables(t)), 0),
    };
  }

  /** Logits [B, K]; with ctx.keep, the caches a backward pass needs. */
  forward(batch: ModelBatch, ctx: ForwardContext): ForwardState {
    const rows = this.embeddings.gatherBatch(batch.categorical, batch.size, this.shape.featureNames);
    const table = tf.tensor2d(rows.rows, [rows.unique, this.config.embeddingDim]);
    return this.forwardRows(batch, rows, table, ctx);
  }

  /** The forward pass from the batch's unique embedding rows `table` [U, dim] (tests differentiate it). */
  forwardRows(batch: ModelBatch, rows: BatchRows, table: tf.Tensor2D, ctx: ForwardContext): ForwardState {
    const dim = this.config.embeddingDim;
    const features = this.shape.vocabularies.length;
    const gathered = tf.gather(table, tf.tensor1d(rows.inverse, "int32"));
    const embedded = tf.reshape(rows.weights ? this.meanPool(gathered, rows.weights, batch.size) : gathered, [
      batch.size,
      features * dim,
    ]) as tf.Tensor2D;
    const fm = this.fieldSum ? fmForward(embedded, this.fieldSum, ctx.keep) : undefined;
    let input = embedded;
    if (this.shape.numericFeatures > 0) {
      if (!batch.numeric || batch.numeric.length !== batch.size * this.shape.numericFeatures)
        throw new Error(`batch needs ${this.shape.numericFeatures} numeric values per example`);
      input = tf.concat([input, tf.tensor2d(batch.numeric, [batch.size, this.shape.numericFeatures])], 1);
    }
    const expertOut: tf.Tensor2D[] = [];
    const expertCaches: DenseCache[][] = [];
    const gateOut: tf.Tensor2D[] = [];
    const gateCaches: (GateCache | undefined)[] = [];
    const read = (source: Source) => (source.kind === "input" ? input : gateOut[source.index]);
    for (const node of this.nodes) {
      if (node.kind === "expert") {
        const expert = this.experts[node.index];
        const { out, caches } = mlpForward(expert.mlp, read(expert.source), ctx);
        expertOut[node.index] = out;
        expertCaches[node.index] = caches;
      } else {
        const gate = this.gates[node.index];
        if (!gate.dense) {
          gateOut[node.index] = expertOut[gate.experts[0]];
          continue;
        }
        const { out, cache } = gateForward(
          gate.dense,
          read(gate.source),
          gate.experts.map((e) => expertOut[e]),
          ctx.keep,
        );
        gateOut[node.index] = out;
        gateCaches[node.index] = cache;
      }
    }
    const towerCaches: DenseCache[][] = [];
    const logits = this.towers.map((tower, t) => {
      const mixed = gateOut[this.taskGate[t]];
      const { out, caches } = mlpForward(tower, fm ? tf.concat([mixed, fm.fm], 1) : mixed, ctx);
      towerCaches.push(caches);
      return out;
    });
    return {
      batch: rows,
      size: batch.size,
      input,
      logits: tf.concat(logits, 1) as tf.Tensor2D,
      expertCaches,
      expertOut,
      gateCaches,
      towerCaches,
      fmSlope: fm?.slope,
    };
  }

  /**
   * Multi-hot features: the weighted slots [B·width, dim] summed per feature into [B, F, dim]
   * (weights are 1/items, so each sum is the mean). Runs of single-slot features pass as one slice.
   */
  private meanPool(slots: tf.Tensor, weights: Float32Array, size: number): tf.Tensor {
    const dim = this.config.embeddingDim;
    const { width, slots: perFeature } = this.embeddings;
    const weighted = tf.reshape(tf.mul(slots, tf.tensor2d(weights, [weights.length, 1])), [size, width, dim]);
    const pieces: tf.Tensor[] = [];
    let first = 0;
    let run = 0; // single-slot features waiting to be sliced together
    const flush = () => {
      if (run > 0) pieces.push(tf.slice(weighted, [0, first - run, 0], [size, run, dim]));
      run = 0;
    };
    for (const n of perFeature) {
      if (n === 1) run++;
      else {
        flush();
        pieces.push(tf.sum(tf.slice(weighted, [0, first, 0], [size, n, dim]), 1, true));
      }
      first += n;
    }
    flush();
    return pieces.length === 1 ? pieces[0] : tf.concat(pieces, 1);
  }

  /**
   * Back-propagates per-task logit gradients through the towers and the nodes from the last
   * down to position `stop` in `nodes`. Returns the pending gradients still to flow further
   * down, keyed by where they arrive ("e3": expert 3's output, "g1": gate 1's output, "x": the
   * model input, which the FM input of deepfm towers reaches directly). Tower gradients land in
   * `towerGrads`, shared ones in `shared`.
   */
  backwardTop(
    state: ForwardState,
    dLogits: tf.Tensor2D,
    stop: number,
    shared: ParamGrad[],
    towerGrads: ParamGrad[],
  ): Map<string, TaskGrad[]> {
    const pending = new Map<string, TaskGrad[]>();
    const k = this.shape.tasks;
    const columns = tf.split(dLogits, k, 1);
    const dFm: tf.Tensor[] = [];
    const fmTasks: number[] = [];
    for (let t = 0; t < k; t++) {
      const upstream = { tasks: [t], grad: tf.expandDims(columns[t], 1) }; // [B, 1, 1]
      const down = mlpBackward(this.towers[t], state.towerCaches[t], upstream, true, towerGrads);
      if (!down) continue;
      if (!state.fmSlope) {
        push(pending, `g${this.taskGate[t]}`, down);
        continue;
      }
      // The tower read [gate output, fm]: split its input gradient between the two.
      const [b, , width] = down.grad.shape;
      const mixedWidth = (width ?? 1) - 1;
      push(pending, `g${this.taskGate[t]}`, {
        tasks: [t],
        grad: tf.slice(down.grad, [0, 0, 0], [b, 1, mixedWidth]),
      });
      dFm.push(tf.slice(down.grad, [0, 0, mixedWidth], [b, 1, 1]));
      fmTasks.push(t);
    }
    if (state.fmSlope && dFm.length > 0) {
      const stacked = (dFm.length === 1 ? dFm[0] : tf.concat(dFm, 1)) as tf.Tensor3D; // [B, K, 1]
      push(pending, "x", {
        tasks: fmTasks,
        grad: fmBackward(stacked, state.fmSlope, this.shape.numericFeatures),
      });
    }
    this.backwardNodes(state, pending, this.nodes.length - 1, stop, shared);
    return pending;
  }

  /** Continues a backward pass from node position `from` down to the input. */
  backwardRest(
    state: ForwardState,
    pending: Map<string, TaskGrad[]>,
    from: number,
    shared: ParamGrad[],
  ): TaskGrad | undefined {
    this.backwardNodes(state, pending, from, 0, shared);
    return mergeTaskGrads(pending.get("x") ?? []);
  }

  private backwardNodes(
    state: ForwardState,
    pending: Map<string, TaskGrad[]>,
    from: number,
    stop: number,
    shared: ParamGrad[],
  ): void {
    const sourceKey = (source: Source) => (source.kind === "input" ? "x" : `g${source.index}`);
    for (let n = from; n >= stop; n--) {
      const node = this.nodes[n];
      const key = node.kind === "expert" ? `e${node.index}` : `g${node.index}`;
      const upstream = mergeTaskGrads(pending.get(key) ?? []);
      pending.delete(key);
      if (!upstream) continue;
      if (node.kind === "expert") {
        const expert = this.experts[node.index];
        const down = mlpBackward(expert.mlp, state.expertCaches[node.index], upstream, true, shared);
        if (down) push(pending, sourceKey(expert.source), down);
      } else {
        const gate = this.gates[node.index];
        if (!gate.dense) {
          push(pending, `e${gate.experts[0]}`, upstream);
          continue;
        }
        const cache = state.gateCaches[node.index];
        if (!cache) throw new Error("backward needs a forward pass run with keep: true");
        const { experts, input } = gateBackward(gate.dense, cache, upstream, shared);
        gate.experts.forEach((e, i) => {
          push(pending, `e${e}`, experts[i]);
        });
        push(pending, sourceKey(gate.source), input);
      }
    }
  }

  /**
   * Turns gradients w.r.t. the model input [B, S, F·dim + numeric] into gradients of the batch's
   * unique embedding rows [S, U·dim] (duplicates summed), without touching the tables.
   */
  embeddingRowGrads(state: ForwardState, dInput: TaskGrad): TaskGrad {
    const s = dInput.tasks.length;
    const dim = this.config.embeddingDim;
    const features = this.shape.vocabularies.length;
    const b = state.size;
    let grad = dInput.grad as tf.Tensor3D;
    if (this.shape.numericFeatures > 0) grad = tf.slice(grad, [0, 0, 0], [b, s, features * dim]);
    // [B, S, F, dim] -> [B·F, S·dim]: one row per (example, feature), matching `inverse`.
    const perPosition =
      s === 1
        ? tf.reshape(grad, [b * features, dim])
        : tf.reshape(tf.transpose(tf.reshape(grad, [b, s, features, dim]), [0, 2, 1, 3]), [
            b * features,
            s * dim,
          ]);
    // A multi-hot feature's slots each take the feature's gradient times their weight.
    const { inverse, weights, position } = state.batch;
    const perSlot =
      weights && position
        ? tf.mul(
            tf.gather(perPosition, tf.tensor1d(position, "int32")),
            tf.tensor2d(weights, [weights.length, 1]),
          )
        : perPosition;
    const indices = tf.tensor2d(inverse, [inverse.length, 1], "int32");
    const rows = tf.scatterND(indices, perSlot, [state.batch.unique, s * dim]);
    const stacked =
      s === 1
        ? tf.reshape(rows, [1, state.batch.unique * dim])
        : tf.reshape(tf.transpose(tf.reshape(rows, [state.batch.unique, s, dim]), [1, 0, 2]), [
            s,
            state.batch.unique * dim,
          ]);
    return { tasks: dInput.tasks, grad: stacked };
  }
}

let modelCount = 0;

function push(pending: Map<string, TaskGrad[]>, key: string, grad: TaskGrad): void {
  const list = pending.get(key);
  if (list) list.push(grad);
  else pending.set(key, [grad]);
}
