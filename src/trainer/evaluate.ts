import * as tf from "@tensorflow/tfjs-core";
import { evaluateTasks, type MultiTaskMetrics } from "../core/metrics";
import type { MetricSet, SplitMetrics } from "../protocol/messages";
import { batches, type Split } from "./data/index";
import type { MultiTaskModel } from "./model/model";

/**
 * The evaluator: predicted probabilities on a whole split (no dropout), then per task AUC, GAUC
 * and log loss from core/metrics, and their means.
 */

const EVAL_BATCH = 8192;

/** Probabilities, row-major [size × K]. */
export async function predict(model: MultiTaskModel, split: Split): Promise<Float32Array> {
  const k = model.shape.tasks;
  const out = new Float32Array(split.size * k);
  let offset = 0;
  for (const batch of batches(split, { batchSize: EVAL_BATCH, shuffle: false })) {
    const probabilities = tf.tidy(() => {
      const state = model.forward(batch, { training: false, seed: 0, keep: false });
      return tf.sigmoid(state.logits);
    });
    out.set(await probabilities.data(), offset);
    probabilities.dispose();
    offset += batch.size * k;
  }
  return out;
}

export async function evaluateSplit(model: MultiTaskModel, split: Split): Promise<MultiTaskMetrics> {
  const probabilities = await predict(model, split);
  return evaluateTasks(split.labels, probabilities, split.users, model.shape.tasks);
}

const orNull = (x: number) => (Number.isFinite(x) ? x : null);

function metricSet(m: { auc: number; gauc: number; logloss: number }): MetricSet {
  return { auc: orNull(m.auc), gauc: orNull(m.gauc), logloss: orNull(m.logloss) };
}

/**
 * The protocol's shape: undefined metrics (one class in a split) become null; without a user
 * column the split says GAUC is not applicable.
 */
export function toSplitMetrics(metrics: MultiTaskMetrics, taskNames: readonly string[]): SplitMetrics {
  return {
    tasks: metrics.tasks.map((m, t) => ({
      task: taskNames[t],
      ...metricSet(m),
      ...(m.failure ? { error: m.failure } : {}),
    })),
    mean: metricSet(metrics.mean),
    ...(metrics.gaucApplicable ? {} : { gaucApplicable: false }),
  };
}
