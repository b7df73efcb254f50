import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import { ModelConfig } from "../../../src/protocol/config";
import type { TrainBatch } from "../../../src/trainer/gradients";
import { MultiTaskModel } from "../../../src/trainer/model/model";
import { Rng } from "../../../src/trainer/rng";

/** Tiny shapes keep each test file in seconds on two shared cores. */
export const TINY_SHAPE = { vocabularies: [7, 5, 3], numericFeatures: 2, tasks: 3 };

export async function useCpu(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
}

export function tinyModel(
  type: "shared-bottom" | "mmoe" | "ple",
  extra: Record<string, unknown> = {},
  seed = 3,
) {
  const config = ModelConfig.parse({
    type,
    embeddingDim: 4,
    experts: [6, 5],
    towers: [4],
    dropout: 0,
    numExperts: 3,
    ...extra,
  });
  return new MultiTaskModel(config, TINY_SHAPE, seed);
}

/** A random batch with repeated ids (so duplicate embedding rows occur). */
export function tinyBatch(size: number, seed: number, shape = TINY_SHAPE): TrainBatch {
  const rng = new Rng(seed);
  const f = shape.vocabularies.length;
  const categorical = Int32Array.from({ length: size * f }, (_, i) => rng.int(shape.vocabularies[i % f]));
  const numeric = Float32Array.from({ length: size * shape.numericFeatures }, () => rng.normal());
  const labels = Float32Array.from({ length: size * shape.tasks }, () => (rng.next() < 0.4 ? 1 : 0));
  return { size, categorical, numeric, labels };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
