import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend } from "../../../src/trainer/backend";
import { installFastMatMulGradient, restoreStockMatMulGradient } from "../../../src/trainer/matmulGradient";
import { Rng } from "../../../src/trainer/rng";
import { maxAbsDiff } from "./helpers";

/** Gradients of Σ w ⊙ matMul(a, b, ta, tb) w.r.t. a and b, with whichever BatchMatMul gradient is registered. */
function gradients(
  a: Float32Array,
  aShape: number[],
  b: Float32Array,
  bShape: number[],
  w: Float32Array,
  ta: boolean,
  tb: boolean,
) {
  return tf.tidy(() => {
    const weight = (product: tf.Tensor) => tf.tensor(w, product.shape);
    const f = (x: tf.Tensor, y: tf.Tensor) => {
      const product = tf.matMul(x, y, ta, tb);
      return tf.sum(tf.mul(product, weight(product)));
    };
    const [da, db] = tf.grads(f)([tf.tensor(a, aShape), tf.tensor(b, bShape)]);
    return [da.dataSync().slice(), db.dataSync().slice()];
  });
}

function random(n: number, rng: Rng): Float32Array {
  return Float32Array.from({ length: n }, () => rng.normal());
}

describe("BatchMatMul gradient with explicit transposes (wasm)", () => {
  let backend = "";
  before(async () => {
    backend = (await selectBackend("wasm")).name;
  });
  after(() => installFastMatMulGradient());

  test("runs on the wasm backend", () => {
    assert.equal(backend, "wasm");
    assert.equal(tf.getBackend(), "wasm");
  });

  const rng = new Rng(11);
  for (const batch of [undefined, 3]) {
    for (const ta of [false, true]) {
      for (const tb of [false, true]) {
        test(`equals tfjs's stock gradient (batch ${batch ?? "none"}, transposeA ${ta}, transposeB ${tb})`, () => {
          const [m, k, n] = [5 + rng.int(6), 4 + rng.int(6), 3 + rng.int(6)];
          const lead = batch ? [batch] : [];
          const aShape = [...lead, ...(ta ? [k, m] : [m, k])];
          const bShape = [...lead, ...(tb ? [n, k] : [k, n])];
          const size = (s: number[]) => s.reduce((x, y) => x * y, 1);
          const a = random(size(aShape), rng);
          const b = random(size(bShape), rng);
          const w = random(size([...lead, m, n]), rng);
          restoreStockMatMulGradient();
          const [stockA, stockB] = gradients(a, aShape, b, bShape, w, ta, tb);
          installFastMatMulGradient();
          const [oursA, oursB] = gradients(a, aShape, b, bShape, w, ta, tb);
          assert.ok(maxAbsDiff(oursA, stockA) < 1e-4, "gradient w.r.t. a");
          assert.ok(maxAbsDiff(oursB, stockB) < 1e-4, "gradient w.r.t. b");
          assert.ok(Math.max(...Array.from(oursA, Math.abs)) > 0);
        });
      }
    }
  }
});
