import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { ModelConfig } from "../../../src/protocol/config";
import { selectBackend } from "../../../src/trainer/backend";
import {
  activeStrategy,
  GradientEngine,
  type StepReport,
  type TrainBatch,
} from "../../../src/trainer/gradients";
import { type ModelShape, MultiTaskModel } from "../../../src/trainer/model/model";
import { Adam } from "../../../src/trainer/optimizer";
import { WorkerPool } from "../../../src/trainer/parallel/pool";
import { sliceSizes } from "../../../src/trainer/parallel/slice";
import { dropoutMask, Rng } from "../../../src/trainer/rng";
import { maxAbsDiff, TINY_SHAPE, tinyBatch } from "./helpers";

/**
 * A training step split over worker threads (src/trainer/parallel/) against the same step on
 * one thread: same model, same batches, same seed.
 */

const CONFIG = ModelConfig.parse({
  type: "ple",
  embeddingDim: 4,
  experts: [12, 6],
  towers: [4],
  dropout: 0.3,
});

interface Trace {
  reports: StepReport[];
  dense: Float32Array;
  tables: Float32Array[];
}

/** Three steps of `strategy` on batches of 30 (with numeric features and repeated ids). */
async function train(
  options: { scope: "params" | "representation"; plain?: boolean; strategy: string },
  pool?: WorkerPool,
  shape: ModelShape = TINY_SHAPE,
  batchOf: (size: number, seed: number) => TrainBatch = tinyBatch,
): Promise<Trace> {
  const model = new MultiTaskModel(CONFIG, shape, 3);
  const optimizer = new Adam({ learningRate: 0.01, l2: 1e-4, clipNorm: 0 }, model.denseVariables());
  const engine = new GradientEngine(model, optimizer, options.scope, 5, pool);
  engine.plainEw = options.plain ?? false;
  engine.minSlice = 4;
  const strategy = activeStrategy(options.strategy, {}, shape.tasks);
  const reports: StepReport[] = [];
  for (let step = 1; step <= 3; step++) reports.push(await engine.step(batchOf(30, step), strategy, step));
  const dense = tf.tidy(() => tf.concat(model.denseVariables().map((v) => tf.reshape(v, [-1]))).dataSync());
  const trace = {
    reports,
    dense: Float32Array.from(dense),
    tables: model.embeddings.tables.map((t) => t.slice()),
  };
  optimizer.dispose();
  model.dispose();
  return trace;
}

describe("dropout masks", () => {
  test("a slice of the batch draws exactly the rows of the whole batch's mask", () => {
    const whole = dropoutMask(77, 0.3, 9, 0, 40);
    const slice = dropoutMask(77, 0.3, 9, 13, 20);
    assert.deepEqual(slice, whole.subarray(13 * 9, 33 * 9));
    assert.notDeepEqual(dropoutMask(78, 0.3, 9, 0, 40), whole, "another seed, another mask");
  });

  test("units are kept at 1 − rate and scaled by 1/(1 − rate)", () => {
    const mask = dropoutMask(5, 0.25, 100, 0, 400);
    const kept = mask.filter((m) => m > 0);
    assert.ok(Math.abs(kept.length / mask.length - 0.75) < 0.01, `kept ${kept.length / mask.length}`);
    assert.ok(kept.every((m) => Math.abs(m - 1 / 0.75) < 1e-6));
  });
});

describe("a step split over threads", () => {
  let pool: WorkerPool;
  before(async () => {
    await selectBackend("wasm");
    pool = await WorkerPool.start(2, { backend: "wasm", config: CONFIG, shape: TINY_SHAPE, seed: 3 });
  });
  after(async () => {
    await pool?.close();
  });

  test("batches are cut into near-equal slices; small batches stay on one thread", () => {
    assert.deepEqual(sliceSizes(30, 3), [10, 10, 10]);
    assert.deepEqual(sliceSizes(31, 3), [11, 10, 10]);
    const model = new MultiTaskModel(CONFIG, TINY_SHAPE, 3);
    const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
    const engine = new GradientEngine(model, optimizer, "params", 5, pool);
    engine.minSlice = 8;
    assert.equal(engine.threadsFor(30), 3);
    assert.equal(engine.threadsFor(20), 2, "two slices of 10, not three of 6");
    assert.equal(engine.threadsFor(12), 1);
    assert.equal(
      new GradientEngine(model, optimizer, "params", 5).threadsFor(1000),
      1,
      "no pool: one thread",
    );
    optimizer.dispose();
    model.dispose();
  });

  for (const options of [
    { scope: "params", strategy: "gradcraft" },
    { scope: "params", strategy: "db-mtl" }, // the loss transform scales each task's gradient
    { scope: "representation", strategy: "mgda" },
    { scope: "params", plain: true, strategy: "ew" },
  ] as const)
    test(`equals the one-thread step to float32 rounding: losses, Gram matrix, weights and embedding rows (${JSON.stringify(options)})`, async () => {
      assertSameTraining(options, await train(options), await train(options, pool));
    });

  // A multi-hot feature (4 id slots, lists of 1..4 items) pools over its slots: each slice
  // carries its examples' slot weights, and its pooling positions counted from its first example.
  const multiHot = { vocabularies: [7, 9, 3], numericFeatures: 2, tasks: 3, slots: [1, 4, 1] };
  const multiHotBatch = (size: number, seed: number): TrainBatch => {
    const rng = new Rng(seed);
    const categorical = new Int32Array(size * 6);
    for (let b = 0; b < size; b++) {
      const items = 1 + rng.int(4);
      categorical.set(
        [rng.int(7), ...Array.from({ length: 4 }, (_, s) => (s < items ? rng.int(9) : -1)), rng.int(3)],
        b * 6,
      );
    }
    return { ...tinyBatch(size, seed, multiHot), categorical };
  };
  for (const options of [
    { scope: "params", strategy: "gradcraft" },
    { scope: "representation", strategy: "mgda" },
  ] as const)
    test(`with a multi-hot feature, equals the one-thread step to float32 rounding (${JSON.stringify(options)})`, async () => {
      const workers = await WorkerPool.start(2, {
        backend: "wasm",
        config: CONFIG,
        shape: multiHot,
        seed: 3,
      });
      try {
        const one = await train(options, undefined, multiHot, multiHotBatch);
        const three = await train(options, workers, multiHot, multiHotBatch);
        assertSameTraining(options, one, three);
      } finally {
        await workers.close();
      }
    });

  test("a step that fails leaves the pool usable: the next step runs on every thread", async () => {
    const model = new MultiTaskModel(CONFIG, TINY_SHAPE, 3);
    const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
    const engine = new GradientEngine(model, optimizer, "params", 5, pool);
    engine.minSlice = 4;
    const strategy = activeStrategy("gradcraft", {}, TINY_SHAPE.tasks);
    const batch = tinyBatch(30, 1);
    // Without its numeric features the batch fails on this thread and on the workers alike.
    await assert.rejects(engine.step({ ...batch, numeric: undefined }, strategy, 1), /numeric values/);
    const report = await engine.step(batch, strategy, 1);
    assert.equal(report.status, "applied");
    optimizer.dispose();
    model.dispose();
  });

  test("a worker whose model differs fails the step and says why", async () => {
    const other = await WorkerPool.start(1, {
      backend: "wasm",
      config: { ...CONFIG, experts: [12, 5] },
      shape: TINY_SHAPE,
      seed: 3,
    });
    try {
      const model = new MultiTaskModel(CONFIG, TINY_SHAPE, 3);
      const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
      const engine = new GradientEngine(model, optimizer, "params", 5, other);
      engine.minSlice = 4;
      await assert.rejects(
        engine.step(tinyBatch(30, 1), activeStrategy("ew", {}, TINY_SHAPE.tasks), 1),
        /different models/,
      );
      optimizer.dispose();
      model.dispose();
    } finally {
      await other.close();
    }
  });
});

/** Two traces of the same training, one on a single thread and one split over threads. */
function assertSameTraining(options: { scope: string; plain?: boolean }, one: Trace, three: Trace): void {
  for (let s = 0; s < 3; s++) {
    const [a, b] = [one.reports[s], three.reports[s]];
    assert.equal(a.status, "applied");
    assert.equal(b.status, "applied");
    if (a.status !== "applied" || b.status !== "applied") return;
    assert.ok(maxAbsDiff(a.losses, b.losses) < 1e-6, `step ${s + 1} losses`);
    const scale = Math.max(...a.gram.map(Math.abs));
    assert.ok(maxAbsDiff(a.gram, b.gram) <= 1e-5 * scale, `step ${s + 1} Gram matrix`);
    if (!options.plain) assert.ok(scale > 0, "the Gram matrix is not trivially zero");
  }
  assert.ok(maxAbsDiff(one.dense, three.dense) < 1e-5, "dense weights after three steps");
  one.tables.forEach((table, f) => {
    assert.ok(maxAbsDiff(table, three.tables[f]) < 1e-6, `embedding table ${f}`);
  });
}
