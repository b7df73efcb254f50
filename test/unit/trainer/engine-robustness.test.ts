import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { requireStrategy } from "../../../src/core/combine";
import { GradientEngine } from "../../../src/trainer/gradients";
import { Adam } from "../../../src/trainer/optimizer";
import { tinyBatch, tinyModel, useCpu } from "./helpers";

describe("gradient engine robustness", () => {
  before(useCpu);

  test("no tensor leaks: the tensor count stays flat over 200 steps (100 per scope)", async () => {
    for (const scope of ["params", "representation"] as const) {
      const model = tinyModel("ple", { dropout: 0.2 });
      const optimizer = new Adam({ learningRate: 0.01, l2: 1e-4, clipNorm: 1 }, model.denseVariables());
      const engine = new GradientEngine(model, optimizer, scope, 5);
      const definition = requireStrategy("gradcraft");
      const strategy = { definition, params: { tau: 0.5, eps: 0 }, state: definition.init(3, {}) };
      const batches = [tinyBatch(16, 1), tinyBatch(16, 2), tinyBatch(9, 3)];
      await engine.step(batches[0], strategy, 1); // warm-up allocations
      const start = tf.memory().numTensors;
      for (let s = 2; s <= 100; s++) {
        const report = await engine.step(batches[s % 3], strategy, s);
        assert.equal(report.status, "applied");
      }
      assert.equal(tf.memory().numTensors, start, `${scope}: tensors leaked`);
      optimizer.dispose();
      model.dispose();
    }
  });

  test("a non-finite loss skips the step, names the task and leaves every weight intact", async () => {
    const model = tinyModel("mmoe");
    const optimizer = new Adam({ learningRate: 0.05, l2: 0, clipNorm: 0 }, model.denseVariables());
    const engine = new GradientEngine(model, optimizer, "params", 1);
    const definition = requireStrategy("ew");
    const strategy = { definition, params: {}, state: null };
    const batch = tinyBatch(8, 4);
    // A NaN label poisons task 1's loss only.
    const labels = Float32Array.from(batch.labels);
    labels[3 * 3 + 1] = Number.NaN;
    const dense = model.denseVariables().map((v) => v.dataSync().slice());
    const tables = model.embeddings.tables.map((t) => t.slice());
    const report = await engine.step({ ...batch, labels }, strategy, 1);
    assert.equal(report.status, "skipped");
    if (report.status === "skipped") assert.deepEqual(report.tasks, [1]);
    model.denseVariables().forEach((v, i) => {
      assert.deepEqual(v.dataSync(), dense[i]);
    });
    model.embeddings.tables.forEach((t, i) => {
      assert.deepEqual(t, tables[i]);
    });
    assert.equal(optimizer.step, 0, "Adam did not count the skipped step");
    const next = await engine.step(batch, strategy, 1);
    assert.equal(next.status, "applied");
    optimizer.dispose();
    model.dispose();
  });

  test("clipping scales the whole update to the clip norm and reports the norm before clipping", async () => {
    const model = tinyModel("shared-bottom");
    const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 1e-4 }, model.denseVariables());
    const engine = new GradientEngine(model, optimizer, "params", 1);
    const definition = requireStrategy("ew");
    const report = await engine.step(tinyBatch(12, 8), { definition, params: {}, state: null }, 1);
    assert.equal(report.status, "applied");
    if (report.status !== "applied") return;
    assert.ok(report.updateNorm > 1e-4);
    assert.ok(Math.abs(report.clipScale - 1e-4 / report.updateNorm) < 1e-12);
    optimizer.settings.clipNorm = 0;
    const unclipped = await engine.step(tinyBatch(12, 8), { definition, params: {}, state: null }, 2);
    assert.equal(unclipped.status === "applied" && unclipped.clipScale, 1);
    optimizer.dispose();
    model.dispose();
  });

  test("an update that would make weights non-finite is rolled back: weights, moments and Adam's count unchanged", async () => {
    const model = tinyModel("ple");
    // Beyond the config's bounds on purpose: L2·w overflows float32 in the moments.
    const optimizer = new Adam({ learningRate: 0.01, l2: 1e39, clipNorm: 0 }, model.denseVariables());
    const engine = new GradientEngine(model, optimizer, "params", 1);
    const definition = requireStrategy("ew");
    const strategy = { definition, params: {}, state: null };
    const dense = model.denseVariables().map((v) => v.dataSync().slice());
    const moments = optimizer.momentVariables(model.denseVariables()).map((v) => v.dataSync().slice());
    const tables = model.embeddings.tables.map((t) => t.slice());
    const report = await engine.step(tinyBatch(8, 4), strategy, 1);
    assert.equal(report.status, "skipped");
    if (report.status === "skipped") assert.match(report.reason, /non-finite .*rolled back/);
    for (const [i, v] of model.denseVariables().entries()) assert.deepEqual(v.dataSync(), dense[i]);
    for (const [i, v] of optimizer.momentVariables(model.denseVariables()).entries())
      assert.deepEqual(v.dataSync(), moments[i]);
    for (const [i, t] of model.embeddings.tables.entries()) assert.deepEqual(t, tables[i]);
    assert.equal(optimizer.step, 0);
    optimizer.settings.l2 = 1e-4;
    assert.equal((await engine.step(tinyBatch(8, 4), strategy, 1)).status, "applied");
    optimizer.dispose();
    model.dispose();
  });
});
