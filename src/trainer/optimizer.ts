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

type EmbeddingRows = { ownerFeature: Int32Array; ownerRow: Int32Array; update: Float32Array };
type StepConstants = { l2: number; stepSize: number; epsilon: number; scale: number };
/** An embedding step computed and checked: `write` puts it in place. */
type EmbeddingWrite = { write(): void };

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
   * The new weights and moments are computed and checked before anything is written: when one
   * is NaN or infinite (an update that overflows float32), nothing changes, the step count
   * stays, and `apply` returns false, so the run goes on from the weights before the step.
   */
  async apply(
    dense: ReadonlyArray<{ variable: tf.Variable; update: tf.Tensor }>,
    tables: EmbeddingTables,
    rows: { ownerFeature: Int32Array; ownerRow: Int32Array; update: Float32Array },
    scale: number,
  ): Promise<boolean> {
    const step = this.step + 1;
    const lr = this.settings.learningRate;
    const correction1 = 1 - BETA1 ** step;
    const correction2 = 1 - BETA2 ** step;
    const stepSize = (lr * Math.sqrt(correction2)) / correction1;
    const epsilon = EPSILON * Math.sqrt(correction2);
    const l2 = this.settings.l2;
    const next = tf.tidy(() =>
      dense.map(({ variable, update }) => {
        const moment = this.momentsOf(variable);
        const clipped = scale === 1 ? update : tf.mul(update, scale);
        const g = l2 > 0 ? tf.add(clipped, tf.mul(variable, l2)) : clipped;
        const m = tf.add(tf.mul(moment.m, BETA1), tf.mul(g, 1 - BETA1));
        const v = tf.add(tf.mul(moment.v, BETA2), tf.mul(tf.square(g), 1 - BETA2));
        // torch's form: w -= lr/c1 · m / (√(v/c2) + ε), written with one step size.
        const denom = tf.add(tf.sqrt(v), epsilon);
        return { m, v, w: tf.sub(variable, tf.mul(tf.div(m, denom), stepSize)) };
      }),
    );
    const constants = { l2, stepSize, epsilon, scale };
    const embeddings =
      this.embeddingOptimizer === "dense-adam"
        ? this.wholeTablesStep(tables, rows, constants)
        : touchedRowsStep(tables, rows, constants);
    const computed = next.flatMap(({ m, v, w }) => [m, v, w]);
    const finite = embeddings !== null && (await allFinite(computed));
    if (finite) {
      dense.forEach(({ variable }, i) => {
        const moment = this.momentsOf(variable);
        moment.m.assign(next[i].m);
        moment.v.assign(next[i].v);
        variable.assign(next[i].w);
      });
      embeddings.write();
      this.step = step;
    }
    tf.dispose(computed);
    return finite;
  }

  private momentsOf(variable: tf.Variable): { m: tf.Variable; v: tf.Variable } {
    const moment = this.moments.get(variable);
    if (!moment) throw new Error(`optimizer has no moments for ${variable.name}`);
    return moment;
  }

  /**
   * dense-adam: one Adam step on every row of every table. The tables are large, so instead of
   * copies the step is computed twice: once to check it, once to write it.
   */
  private wholeTablesStep(
    tables: EmbeddingTables,
    rows: EmbeddingRows,
    step: StepConstants,
  ): EmbeddingWrite | null {
    const dim = tables.dim;
    if (this.tableGrads.length !== tables.tables.length)
      this.tableGrads = tables.tables.map((t) => new Float32Array(t.length));
    for (let u = 0; u < rows.ownerRow.length; u++) {
      const grad = this.tableGrads[rows.ownerFeature[u]];
      const base = rows.ownerRow[u] * dim;
      for (let d = 0; d < dim; d++) grad[base + d] = rows.update[u * dim + d] * step.scale;
    }
    const clear = () => {
      for (let u = 0; u < rows.ownerRow.length; u++) {
        const base = rows.ownerRow[u] * dim;
        this.tableGrads[rows.ownerFeature[u]].fill(0, base, base + dim);
      }
    };
    const pass = (write: boolean): boolean => {
      for (let f = 0; f < tables.tables.length; f++) {
        const table = tables.tables[f];
        const grad = this.tableGrads[f];
        const m = tables.m[f];
        const v = tables.v[f];
        for (let i = 0; i < table.length; i++) {
          const g = grad[i] + step.l2 * table[i];
          const mi = Math.fround(BETA1 * m[i] + (1 - BETA1) * g);
          const vi = Math.fround(BETA2 * v[i] + (1 - BETA2) * g * g);
          const wi = table[i] - (step.stepSize * mi) / (Math.sqrt(vi) + step.epsilon);
          if (!write) {
            if (!Number.isFinite(wi) || !Number.isFinite(vi)) return false;
            continue;
          }
          m[i] = mi;
          v[i] = vi;
          table[i] = wi;
        }
      }
      return true;
    };
    if (!pass(false)) {
      clear();
      return null;
    }
    return {
      write() {
        pass(true);
        clear();
      },
    };
  }

  /** Moments in a stable order (for checkpoints). */
  momentVariables(variables: readonly tf.Variable[]): tf.Variable[] {
    return variables.flatMap((variable) => {
      const moment = this.momentsOf(variable);
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

/** True when no value of the tensors is NaN or infinite (one read of the device). */
async function allFinite(tensors: readonly tf.Tensor[]): Promise<boolean> {
  if (tensors.length === 0) return true;
  const flag = tf.tidy(() => tf.all(tf.stack(tensors.map((t) => tf.all(tf.isFinite(t))))));
  const [value] = await flag.data();
  flag.dispose();
  return value === 1;
}

/** lazy-adam: Adam on the batch's rows only, computed into copies; null when a value is not finite. */
function touchedRowsStep(
  tables: EmbeddingTables,
  rows: EmbeddingRows,
  step: StepConstants,
): EmbeddingWrite | null {
  const dim = tables.dim;
  const count = rows.ownerRow.length * dim;
  const values = new Float32Array(count);
  const m = new Float32Array(count);
  const v = new Float32Array(count);
  for (let u = 0; u < rows.ownerRow.length; u++) {
    const f = rows.ownerFeature[u];
    const base = rows.ownerRow[u] * dim;
    for (let d = 0; d < dim; d++) {
      const i = base + d;
      const k = u * dim + d;
      const weight = tables.tables[f][i];
      const g = rows.update[k] * step.scale + step.l2 * weight;
      m[k] = BETA1 * tables.m[f][i] + (1 - BETA1) * g;
      v[k] = BETA2 * tables.v[f][i] + (1 - BETA2) * g * g;
      values[k] = weight - (step.stepSize * m[k]) / (Math.sqrt(v[k]) + step.epsilon);
      if (!Number.isFinite(values[k]) || !Number.isFinite(v[k])) return null;
    }
  }
  return {
    write() {
      for (let u = 0; u < rows.ownerRow.length; u++) {
        const f = rows.ownerFeature[u];
        const base = rows.ownerRow[u] * dim;
        tables.tables[f].set(values.subarray(u * dim, (u + 1) * dim), base);
        tables.m[f].set(m.subarray(u * dim, (u + 1) * dim), base);
        tables.v[f].set(v.subarray(u * dim, (u + 1) * dim), base);
      }
    },
  };
}
