import * as tf from "@tensorflow/tfjs-core";
import type { EmbeddingTables } from "./model/embeddings";

/**
 * Adam with bias correction (Kingma & Ba), as torch.optim.Adam: L2 is added to the update
 * before the moments (`g + l2·w`, torch's `weight_decay`, which is what the official GradCraft
 * code passes), never to the per-task gradients, so it does not enter the Gram matrix.
 *
 * Embedding rows follow lazy-Adam semantics: only the rows a batch touched have their moments
 * and values updated (and decayed by L2); untouched rows keep stale moments, and bias correction
 * uses the global step. This is what sparse Adam implementations do (TF's LazyAdam,
 * torch.optim.SparseAdam), and it keeps a step's cost independent of the vocabulary sizes.
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

  constructor(
    readonly settings: OptimizerSettings,
    variables: readonly tf.Variable[],
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
    const dim = tables.dim;
    const epsilon = EPSILON * Math.sqrt(correction2);
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
