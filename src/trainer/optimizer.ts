import * as tf from "@tensorflow/tfjs-core";
import type { EmbeddingOptimizer } from "../protocol/config";
import type { EmbeddingTables } from "./model/embeddings";

/**
 * Adam with bias correction (Kingma & Ba), as torch.optim.Adam: L2 is added to the update
 * before the moments (`g + l2·w`, torch's `weight_decay`), never to the per-task gradients, so
 * it does not enter the Gram matrix.
 *
 * Embedding tables take one of two recipes (docs/architecture.md, "Optimizer"):
 * - `lazy-adam` (default): only the rows a batch touched have their moments and values updated
 *   (and decayed by L2); untouched rows keep stale moments, and bias correction uses the global
 *   step. This is what sparse Adam implementations do (TF's LazyAdam, torch.optim.SparseAdam),
 *   and it keeps a step's cost independent of the vocabulary sizes.
 * - `dense-adam`: the official GradCraft code's recipe (dense embedding gradients and
 *   torch.optim.Adam over every parameter): every row of every table takes an Adam step each
 *   step, with the batch's gradient on its rows (zero elsewhere) plus L2 on all rows, so rows
 *   outside the batch decay and keep moving with their momentum. The cost grows with the tables.
 */
export interface OptimizerSettings {
  learningRate: number;
  l2: number;
  /** Clip the global norm of the combined update (dense + embedding rows) to this; 0: off. */
  clipNorm: number;
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-8;

export class Adam {
  /** Number of updates applied so far. */
  step = 0;
  private readonly moments = new Map<tf.Variable, { m: tf.Variable; v: tf.Variable }>();
  /** dense-adam: each table's batch gradient, scattered (zero outside the batch's rows). */
  private tableGrads: Float32Array[] = [];

  constructor(
    readonly settings: OptimizerSettings,
    variables: readonly tf.Variable[],
    readonly embeddingOptimizer: EmbeddingOptimizer = "lazy-adam",
  ) {
    for (const variable of variables)
      this.moments.set(variable, {
        m: tf.variable(tf.zerosLike(variable), false),
        v: tf.variable(tf.zerosLike(variable), false),
      });
  }

  /**
   * One Adam step. `dense`: each variable with its combined update; `rows`: the touched
   * embedding rows and their update [U·dim]; `scale`: the clipping factor (applied before L2).
   */
  apply(
    dense: ReadonlyArray<{ variable: tf.Variable; update: tf.Tensor }>,
    tables: EmbeddingTables,
    rows: { ownerFeature: Int32Array; ownerRow: Int32Array; update: Float32Array },
    scale: number,
  ): void {
    this.step++;
    const lr = this.settings.learningRate;
    const correction1 = 1 - BETA1 ** this.step;
    const correction2 = 1 - BETA2 ** this.step;
    const stepSize = (lr * Math.sqrt(correction2)) / correction1;
    const l2 = this.settings.l2;
    tf.tidy(() => {
      for (const { variable, update } of dense) {
        const moment = this.moments.get(variable);
        if (!moment) throw new Error(`optimizer has no moments for ${variable.name}`);
        const clipped = scale === 1 ? update : tf.mul(update, scale);
        const g = l2 > 0 ? tf.add(clipped, tf.mul(variable, l2)) : clipped;
        const m = tf.add(tf.mul(moment.m, BETA1), tf.mul(g, 1 - BETA1));
        const v = tf.add(tf.mul(moment.v, BETA2), tf.mul(tf.square(g), 1 - BETA2));
        moment.m.assign(m);
        moment.v.assign(v);
        // torch's form: w -= lr/c1 · m / (√(v/c2) + ε), written with one step size.
        const denom = tf.add(tf.sqrt(v), EPSILON * Math.sqrt(correction2));
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, denom), stepSize)));
      }
    });
    const epsilon = EPSILON * Math.sqrt(correction2);
    if (this.embeddingOptimizer === "dense-adam") {
      this.applyWholeTables(tables, rows, scale, stepSize, epsilon);
      return;
    }
    const dim = tables.dim;
    for (let u = 0; u < rows.ownerRow.length; u++) {
      const f = rows.ownerFeature[u];
      const table = tables.tables[f];
      const m = tables.m[f];
      const v = tables.v[f];
      const base = rows.ownerRow[u] * dim;
      for (let d = 0; d < dim; d++) {
        const i = base + d;
        const g = rows.update[u * dim + d] * scale + l2 * table[i];
        m[i] = BETA1 * m[i] + (1 - BETA1) * g;
        v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
        table[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) + epsilon);
      }
    }
  }

  /** dense-adam: one Adam step on every row of every table. */
  private applyWholeTables(
    tables: EmbeddingTables,
    rows: { ownerFeature: Int32Array; ownerRow: Int32Array; update: Float32Array },
    scale: number,
    stepSize: number,
    epsilon: number,
  ): void {
    const dim = tables.dim;
    const l2 = this.settings.l2;
    if (this.tableGrads.length !== tables.tables.length)
      this.tableGrads = tables.tables.map((t) => new Float32Array(t.length));
    for (let u = 0; u < rows.ownerRow.length; u++) {
      const grad = this.tableGrads[rows.ownerFeature[u]];
      const base = rows.ownerRow[u] * dim;
      for (let d = 0; d < dim; d++) grad[base + d] = rows.update[u * dim + d] * scale;
    }
    tables.tables.forEach((table, f) => {
      const grad = this.tableGrads[f];
      const m = tables.m[f];
      const v = tables.v[f];
      for (let i = 0; i < table.length; i++) {
        const g = grad[i] + l2 * table[i];
        m[i] = BETA1 * m[i] + (1 - BETA1) * g;
        v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
        table[i] -= (stepSize * m[i]) / (Math.sqrt(v[i]) + epsilon);
      }
    });
    for (let u = 0; u < rows.ownerRow.length; u++) {
      const base = rows.ownerRow[u] * dim;
      this.tableGrads[rows.ownerFeature[u]].fill(0, base, base + dim);
    }
  }

  /** Moments in a stable order (for checkpoints). */
  momentVariables(variables: readonly tf.Variable[]): tf.Variable[] {
    return variables.flatMap((variable) => {
      const moment = this.moments.get(variable);
      if (!moment) throw new Error(`optimizer has no moments for ${variable.name}`);
      return [moment.m, moment.v];
    });
  }

  dispose(): void {
    for (const { m, v } of this.moments.values()) {
      m.dispose();
      v.dispose();
    }
  }
}
