import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { gramMatrix } from "../../../src/core/linalg/gram";
import { ew } from "../../../src/core/strategies/ew";
import { ModelConfig } from "../../../src/protocol/config";
import { GradientEngine, gramOf, type TrainBatch, taskLosses } from "../../../src/trainer/gradients";
import { fieldSumMatrix, fmForward } from "../../../src/trainer/model/fm";
import { gateForward, mlpForward, type TaskGrad } from "../../../src/trainer/model/layers";
import { MultiTaskModel } from "../../../src/trainer/model/model";
import { Adam } from "../../../src/trainer/optimizer";
import { Rng } from "../../../src/trainer/rng";
import { maxAbsDiff, tinyBatch, tinyModel, useCpu } from "./helpers";

/**
 * Brute force: for each task, tfjs autodiff of that task's loss alone w.r.t. every shared
 * variable and the batch's unique embedding rows. Returns one flat row per task, in the order
 * [shared variables..., embedding rows].
 */
function bruteForce(
  model: MultiTaskModel,
  batch: TrainBatch,
): { rows: Float32Array[]; towers: Float32Array[][] } {
  const k = model.shape.tasks;
  const rows = model.embeddings.gatherBatch(batch.categorical, batch.size);
  const shared = model.sharedVariables();
  const out: Float32Array[] = [];
  const towers: Float32Array[][] = [];
  for (let t = 0; t < k; t++) {
    tf.tidy(() => {
      const table = tf.tensor2d(rows.rows, [rows.unique, model.config.embeddingDim]);
      const loss = (tableIn: tf.Tensor) => {
        const state = model.forwardRows(batch, rows, tableIn as tf.Tensor2D, {
          training: false,
          seed: 1,
          keep: false,
        });
        const labels = tf.tensor2d(batch.labels, [batch.size, k]);
        return tf.sum(tf.slice(taskLosses(state.logits, labels), t, 1)) as tf.Scalar;
      };
      const { grads } = tf.variableGrads(() => loss(table), [...shared, ...model.denseVariables()]);
      const tableGrad = tf.grad(loss)(table);
      const parts = shared.map((v) => grads[v.name].dataSync());
      parts.push(tableGrad.dataSync());
      const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const p of parts) {
        flat.set(p, offset);
        offset += p.length;
      }
      out.push(flat);
      towers.push(model.towerVariables(t).map((v) => grads[v.name].dataSync() as Float32Array));
    });
  }
  return { rows: out, towers };
}

/**
 * Embeddings start at normal(0, 0.01), where the FM input of a deepfm model is ~1e-4 and its path
 * to the embeddings would hide under the tolerance: scale them up so every path carries weight.
 */
function widenEmbeddings(model: MultiTaskModel, factor: number): void {
  for (const table of model.embeddings.tables) for (let i = 0; i < table.length; i++) table[i] *= factor;
}

/** The largest |fm| of a deepfm model's batch. */
function largestFm(model: MultiTaskModel, batch: TrainBatch): number {
  return tf.tidy(() => {
    const rows = model.embeddings.gatherBatch(batch.categorical, batch.size);
    const dim = model.config.embeddingDim;
    const features = model.shape.vocabularies.length;
    const embedded = tf.reshape(
      tf.gather(tf.tensor2d(rows.rows, [rows.unique, dim]), tf.tensor1d(rows.inverse, "int32")),
      [batch.size, features * dim],
    ) as tf.Tensor2D;
    return tf.max(tf.abs(fmForward(embedded, fieldSumMatrix(features, dim), false).fm)).dataSync()[0];
  });
}

/** Our engine's per-task gradients, laid out like bruteForce (zeros where a task does not reach). */
function engineGrads(model: MultiTaskModel, batch: TrainBatch) {
  return tf.tidy(() => {
    const k = model.shape.tasks;
    const state = model.forward(batch, { training: false, seed: 1, keep: true });
    const labels = tf.tensor2d(batch.labels, [batch.size, k]);
    const dLogits = tf.div(tf.sub(tf.sigmoid(state.logits), labels), batch.size) as tf.Tensor2D;
    const shared: Parameters<MultiTaskModel["backwardTop"]>[3] = [];
    const towers: Parameters<MultiTaskModel["backwardTop"]>[4] = [];
    const pending = model.backwardTop(state, dLogits, 0, shared, towers);
    const dx = pending.get("x") ?? [];
    assert.ok(dx.length > 0);
    const merged =
      dx.length === 1 ? dx[0] : (require("../../../src/trainer/model/layers").mergeTaskGrads(dx) as TaskGrad);
    const rowGrads = model.embeddingRowGrads(state, merged);
    const perTask = (part: TaskGrad, size: number) =>
      Array.from({ length: k }, (_, t) => {
        const s = part.tasks.indexOf(t);
        return s < 0
          ? new Float32Array(size)
          : (tf
              .slice(tf.reshape(part.grad, [part.tasks.length, -1]), [s, 0], [1, size])
              .dataSync() as Float32Array);
      });
    const byVariable = model.sharedVariables().map((v) => {
      const found = shared.filter((p) => p.variable === v);
      assert.equal(found.length, 1, `one gradient stack for ${v.name}`);
      return perTask(found[0], v.size);
    });
    const rowsPerTask = perTask(rowGrads, rowGrads.grad.shape[1] ?? 0);
    const rows = Array.from({ length: k }, (_, t) => {
      const parts = [...byVariable.map((g) => g[t]), rowsPerTask[t]];
      const flat = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
      let offset = 0;
      for (const p of parts) {
        flat.set(p, offset);
        offset += p.length;
      }
      return flat;
    });
    const blocks = [...shared, rowGrads];
    const gram = gramOf(blocks, k).dataSync();
    const towerGrads = Array.from({ length: k }, (_, t) =>
      model.towerVariables(t).map((v) => {
        const found = towers.find((p) => p.variable === v);
        assert.ok(found);
        return found.grad.dataSync() as Float32Array;
      }),
    );
    return { rows, gram, towerGrads };
  });
}

describe("gradient engine", () => {
  before(useCpu);

  for (const [type, extra] of [
    ["shared-bottom", {}],
    ["mmoe", {}],
    ["ple", {}],
    ["ple", { levels: 2, sharedExperts: 2, activation: "gelu" }],
    ["mmoe", { activation: "elu" }],
    ["shared-bottom", { activation: "tanh" }],
    ["shared-bottom", { deepfm: true }],
    ["mmoe", { deepfm: true }],
    ["ple", { deepfm: true }],
    ["ple", { deepfm: true, levels: 2, activation: "gelu" }],
  ] as const) {
    test(`per-task shared gradients, tower gradients and the Gram matrix equal separate autodiff per task (${type} ${JSON.stringify(extra)})`, () => {
      const model = tinyModel(type, extra);
      const batch = tinyBatch(12, 5);
      if ("deepfm" in extra) {
        widenEmbeddings(model, 40);
        assert.ok(largestFm(model, batch) > 0.1, "the FM input is large enough for its path to count");
      }
      const reference = bruteForce(model, batch);
      const ours = engineGrads(model, batch);
      for (let t = 0; t < 3; t++) {
        assert.ok(maxAbsDiff(ours.rows[t], reference.rows[t]) < 1e-5, `task ${t} shared gradient`);
        for (let i = 0; i < reference.towers[t].length; i++)
          assert.ok(maxAbsDiff(ours.towerGrads[t][i], reference.towers[t][i]) < 1e-5, `task ${t} tower ${i}`);
      }
      const expected = gramMatrix(reference.rows);
      assert.ok(maxAbsDiff(ours.gram, expected) < 1e-6 + 1e-4 * Math.max(...expected.map(Math.abs)));
      // The test would pass trivially on zero gradients: make sure they are not.
      assert.ok(expected[0] > 0 && expected[4] > 0);
    });
  }

  for (const deepfm of [false, true])
    test(`a multi-hot feature is the mean of its items' rows, and its per-task gradients and Gram matrix equal separate autodiff per task, in the model and in the engine's step (deepfm ${deepfm})`, async () => {
      const shape = { vocabularies: [7, 9, 3], numericFeatures: 2, tasks: 3, slots: [1, 4, 1] };
      const config = ModelConfig.parse({
        type: "ple",
        embeddingDim: 4,
        experts: [6, 5],
        towers: [4],
        dropout: 0,
        activation: "elu",
        deepfm,
      });
      const model = new MultiTaskModel(config, shape, 3);
      // The FM term is quadratic in the embeddings: widen them so that it matters.
      if (deepfm) widenEmbeddings(model, 40);
      // Lists of 1..4 items (repeats allowed), unused slots -1.
      const rng = new Rng(11);
      const size = 12;
      const base = tinyBatch(size, 5, shape);
      const categorical = new Int32Array(size * 6);
      for (let b = 0; b < size; b++) {
        const items = 1 + rng.int(4);
        categorical.set(
          [rng.int(7), ...Array.from({ length: 4 }, (_, s) => (s < items ? rng.int(9) : -1)), rng.int(3)],
          b * 6,
        );
      }
      const batch = { ...base, categorical };
      tf.tidy(() => {
        const input = model.forward(batch, { training: false, seed: 1, keep: false }).input.arraySync();
        const table = model.embeddings.tables[1];
        for (let b = 0; b < size; b++) {
          const items = Array.from(categorical.subarray(b * 6 + 1, b * 6 + 5)).filter((id) => id >= 0);
          for (let d = 0; d < 4; d++) {
            const mean = items.reduce((sum, id) => sum + table[id * 4 + d], 0) / items.length;
            assert.ok(Math.abs(input[b][4 + d] - mean) < 1e-6, `example ${b} dim ${d}`);
          }
        }
      });
      const reference = bruteForce(model, batch);
      const ours = engineGrads(model, batch);
      for (let t = 0; t < 3; t++) assert.ok(maxAbsDiff(ours.rows[t], reference.rows[t]) < 1e-5, `task ${t}`);
      const expected = gramMatrix(reference.rows);
      assert.ok(
        maxAbsDiff(ours.gram, expected) < 1e-6 + 1e-4 * Math.max(...expected.map(Math.abs)),
        "Gram matrix",
      );
      assert.ok(expected[0] > 0 && expected[4] > 0, `non-zero gradients: ${expected}`);
      // The training step cuts the batch into slices (one here): each carries its slots' weights.
      const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
      const report = await new GradientEngine(model, optimizer, "params", 1).step(
        batch,
        { definition: ew, params: {}, state: null },
        1,
      );
      assert.equal(report.status, "applied");
      if (report.status === "applied")
        assert.ok(
          maxAbsDiff(report.gram, expected) < 1e-6 + 1e-4 * Math.max(...expected.map(Math.abs)),
          "the step's Gram matrix",
        );
      optimizer.dispose();
      model.dispose();
    });

  for (const [scope, extra] of [
    ["params", {}],
    ["representation", {}],
    ["params", { deepfm: true }],
    ["representation", { deepfm: true }],
  ] as const)
    test(`the applied update is Σ α_t g_t on shared parameters and embedding rows, each tower its own gradient (${scope} scope ${JSON.stringify(extra)})`, async () => {
      const model = tinyModel("ple", extra);
      if ("deepfm" in extra) widenEmbeddings(model, 40);
      const batch = tinyBatch(10, 9);
      const reference = bruteForce(model, batch);
      // Capture what the optimizer receives instead of applying it.
      let captured: { dense: Map<tf.Variable, Float32Array>; rows: Float32Array } | undefined;
      class Capture extends Adam {
        override async apply(
          dense: ReadonlyArray<{ variable: tf.Variable; update: tf.Tensor }>,
          _t: unknown,
          rows: { update: Float32Array },
        ) {
          captured = {
            dense: new Map(dense.map((d) => [d.variable, d.update.dataSync() as Float32Array])),
            rows: Float32Array.from(rows.update),
          };
          return true;
        }
      }
      const optimizer = new Capture({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
      // Non-uniform weights: a strategy that weights task t by t+1.
      const weighted = {
        ...ew,
        name: "test-weights",
        step: () => ({ weights: Float64Array.from([1, 2, 3]), state: null }),
      };
      const engine = new GradientEngine(model, optimizer, scope, 1);
      const report = await engine.step(batch, { definition: weighted, params: {}, state: null }, 1);
      assert.equal(report.status, "applied");
      assert.ok(captured);
      const expected = new Float64Array(reference.rows[0].length);
      reference.rows.forEach((row, t) => {
        for (let i = 0; i < row.length; i++) expected[i] += (t + 1) * row[i];
      });
      const shared = model.sharedVariables();
      const updates = captured.dense;
      const flat = [...shared.map((v) => updates.get(v) ?? new Float32Array()), captured.rows];
      const got = new Float32Array(expected.length);
      let offset = 0;
      for (const part of flat) {
        got.set(part, offset);
        offset += part.length;
      }
      assert.ok(maxAbsDiff(got, expected) < 1e-5);
      const towerUpdates = [0, 1, 2].flatMap((t) =>
        model.towerVariables(t).map((v) => updates.get(v) ?? new Float32Array()),
      );
      const towerReference = reference.towers.flat();
      towerUpdates.forEach((u, i) => {
        assert.ok(maxAbsDiff(u, towerReference[i]) < 1e-5);
      });
      optimizer.dispose();
    });

  test("the FM input is the sum over feature pairs of their embeddings' dot products", () => {
    // Two examples, three features of dimension 2.
    const e = [
      [
        [1, 2],
        [3, -1],
        [0.5, 4],
      ],
      [
        [-2, 1],
        [1, 1],
        [3, 0],
      ],
    ];
    const dot = (a: number[], b: number[]) => a[0] * b[0] + a[1] * b[1];
    const expected = e.map((x) => dot(x[0], x[1]) + dot(x[0], x[2]) + dot(x[1], x[2]));
    const got = tf.tidy(() =>
      fmForward(tf.tensor2d(e.map((x) => x.flat())), fieldSumMatrix(3, 2), false).fm.dataSync(),
    );
    assert.ok(maxAbsDiff(got, expected) < 1e-5, `${Array.from(got)} vs ${expected}`);
  });

  test("with deepfm, the plain EW step applies the same update as EW through the per-task engine", async () => {
    const updates: Array<{ dense: Float32Array[]; rows: Float32Array }> = [];
    class Capture extends Adam {
      override async apply(
        dense: ReadonlyArray<{ variable: tf.Variable; update: tf.Tensor }>,
        _t: unknown,
        rows: { update: Float32Array },
      ) {
        updates.push({
          dense: dense
            .slice()
            .sort((a, b) => a.variable.name.localeCompare(b.variable.name))
            .map((d) => d.update.dataSync() as Float32Array),
          rows: Float32Array.from(rows.update),
        });
        return true;
      }
    }
    for (const plain of [false, true]) {
      const model = tinyModel("ple", { deepfm: true });
      widenEmbeddings(model, 40);
      const optimizer = new Capture({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
      const engine = new GradientEngine(model, optimizer, "params", 1);
      engine.plainEw = plain;
      const report = await engine.step(tinyBatch(10, 4), { definition: ew, params: {}, state: null }, 1);
      assert.equal(report.status, "applied");
      optimizer.dispose();
      model.dispose();
    }
    const [full, plain] = updates;
    assert.equal(full.dense.length, plain.dense.length);
    full.dense.forEach((u, i) => {
      assert.ok(maxAbsDiff(u, plain.dense[i]) < 1e-6, `dense update ${i}`);
    });
    assert.ok(maxAbsDiff(full.rows, plain.rows) < 1e-6);
    assert.ok(Math.max(...full.rows.map(Math.abs)) > 1e-3);
  });

  test("the sparse embedding update equals a dense Adam update of the full table on touched rows", async () => {
    const model = tinyModel("shared-bottom");
    const batch = tinyBatch(16, 4);
    const before = model.embeddings.tables.map((t) => Float32Array.from(t));
    const optimizer = new Adam({ learningRate: 0.05, l2: 0.01, clipNorm: 0 }, model.denseVariables());
    const engine = new GradientEngine(model, optimizer, "params", 1);
    const reference = bruteForce(model, batch);
    const report = await engine.step(batch, { definition: ew, params: {}, state: null }, 1);
    assert.equal(report.status, "applied");
    // Dense reference: scatter the mean row gradient into a full table, then one Adam step.
    const rows = model.embeddings.gatherBatch(batch.categorical, batch.size);
    const dim = model.config.embeddingDim;
    const rowOffset = reference.rows[0].length - rows.unique * dim;
    for (let f = 0; f < before.length; f++) {
      const grad = new Float32Array(before[f].length);
      for (let u = 0; u < rows.unique; u++) {
        if (rows.ownerFeature[u] !== f) continue;
        for (let d = 0; d < dim; d++) {
          let g = 0;
          for (const row of reference.rows) g += row[rowOffset + u * dim + d] / 3;
          grad[rows.ownerRow[u] * dim + d] = g;
        }
      }
      const touched = new Set<number>();
      for (let u = 0; u < rows.unique; u++) if (rows.ownerFeature[u] === f) touched.add(rows.ownerRow[u]);
      for (let i = 0; i < before[f].length; i++) {
        const row = Math.floor(i / dim);
        if (!touched.has(row)) {
          assert.equal(model.embeddings.tables[f][i], before[f][i], "untouched rows do not move");
          continue;
        }
        const g = grad[i] + 0.01 * before[f][i];
        const m = 0.1 * g;
        const v = 0.001 * g * g;
        const expected = before[f][i] - (0.05 * (m / 0.1)) / (Math.sqrt(v / 0.001) + 1e-8);
        assert.ok(Math.abs(model.embeddings.tables[f][i] - expected) < 1e-5, `feature ${f} entry ${i}`);
      }
    }
    optimizer.dispose();
  });

  for (const type of ["mmoe", "ple"] as const) {
    test(`representation scope (${type}): the Gram matrix is that of the per-task gradients w.r.t. all expert outputs`, async () => {
      const model = tinyModel(type);
      const batch = tinyBatch(8, 6);
      const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
      const engine = new GradientEngine(model, optimizer, "representation", 1);
      const expected = tf.tidy(() => {
        const rows = model.embeddings.gatherBatch(batch.categorical, batch.size);
        const table = tf.tensor2d(rows.rows, [rows.unique, 4]);
        const state = model.forwardRows(batch, rows, table, { training: false, seed: 1, keep: false });
        const labels = tf.tensor2d(batch.labels, [batch.size, 3]);
        return [0, 1, 2].map((t) => {
          const gate = model.gates[model.taskGate[t]];
          // Task t's loss as a function of every expert output (zero gradient for experts its gate skips).
          const f = (...experts: tf.Tensor[]) => {
            const mixed = gate.dense
              ? gateForward(
                  gate.dense,
                  state.input,
                  gate.experts.map((e) => experts[e] as tf.Tensor2D),
                  false,
                ).out
              : (experts[gate.experts[0]] as tf.Tensor2D);
            const logit = mlpForward(model.towers[t], mixed, { training: false, seed: 1, keep: false }).out;
            const all = tf.concat([logit, logit, logit], 1) as tf.Tensor2D;
            // 0·Σ keeps every expert on the tape (tf.grads refuses inputs the output ignores).
            const untouched = tf.mul(0, tf.addN(experts.map((e) => tf.sum(e))));
            return tf.add(tf.sum(tf.slice(taskLosses(all, labels), t, 1)), untouched);
          };
          const grads = tf.grads(f)(state.expertOut);
          return Float32Array.from(grads.flatMap((g) => Array.from(g.dataSync())));
        });
      });
      const report = await engine.step(batch, { definition: ew, params: {}, state: null }, 1);
      assert.equal(report.status, "applied");
      const gram = gramMatrix(expected);
      assert.ok(gram[0] > 0 && gram[4] > 0 && gram[8] > 0);
      assert.ok(maxAbsDiff(report.gram, gram) < 1e-6 + 1e-4 * Math.max(...gram.map(Math.abs)));
      optimizer.dispose();
    });
  }

  test("representation scope: the Gram matrix is that of the per-task gradients w.r.t. the bottom's output", async () => {
    const model = tinyModel("shared-bottom");
    const batch = tinyBatch(8, 2);
    const optimizer = new Adam({ learningRate: 0.01, l2: 0, clipNorm: 0 }, model.denseVariables());
    const engine = new GradientEngine(model, optimizer, "representation", 1);
    const expected = tf.tidy(() => {
      const rows = model.embeddings.gatherBatch(batch.categorical, batch.size);
      const table = tf.tensor2d(rows.rows, [rows.unique, 4]);
      const state = model.forwardRows(batch, rows, table, { training: false, seed: 1, keep: false });
      const z = state.expertOut[0];
      const labels = tf.tensor2d(batch.labels, [batch.size, 3]);
      return [0, 1, 2].map((t) => {
        const f = (zIn: tf.Tensor) => {
          let h = zIn as tf.Tensor2D;
          for (const layer of model.towers[t]) {
            h = tf.add(tf.matMul(h, layer.w), layer.b) as tf.Tensor2D;
            if (layer.activation === "relu") h = tf.relu(h);
          }
          return tf.sum(tf.slice(taskLosses(tf.concat([h, h, h], 1) as tf.Tensor2D, labels), t, 1));
        };
        return tf.grad(f)(z).dataSync() as Float32Array;
      });
    });
    const report = await engine.step(batch, { definition: ew, params: {}, state: null }, 1);
    assert.equal(report.status, "applied");
    const gram = gramMatrix(expected);
    assert.ok(maxAbsDiff(report.gram, gram) < 1e-6 + 1e-4 * Math.max(...gram.map(Math.abs)));
    optimizer.dispose();
  });
});
