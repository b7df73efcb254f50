import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { auc } from "../../../src/core/metrics";
import { SYNTHETIC_TASKS, SyntheticDataConfig } from "../../../src/protocol/config";
import {
  generateSynthetic,
  WECHAT_LIKE_VOCABULARIES,
  wechatLikeDataConfig,
} from "../../../src/trainer/data/synthetic";
import type { Split } from "../../../src/trainer/data/types";

function labelColumn(split: Split, task: number): Float32Array {
  const out = new Float32Array(split.size);
  for (let r = 0; r < split.size; r++) out[r] = split.labels[r * split.taskCount + task];
  return out;
}

function correlation(split: Split, a: number, b: number): number {
  const x = labelColumn(split, a);
  const y = labelColumn(split, b);
  const n = split.size;
  let sx = 0;
  let sy = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i];
    sy += y[i];
    sxy += x[i] * y[i];
  }
  const mx = sx / n;
  const my = sy / n;
  return (sxy / n - mx * my) / Math.sqrt(mx * (1 - mx) * my * (1 - my));
}

const small = { rows: 40_000, users: 800, items: 2_000, authors: 100 };

describe("synthetic generator", () => {
  it("is deterministic by seed, and another seed gives other data", () => {
    const a = generateSynthetic({ ...small, rows: 5_000, seed: 3 });
    const b = generateSynthetic({ ...small, rows: 5_000, seed: 3 });
    const c = generateSynthetic({ ...small, rows: 5_000, seed: 4 });
    assert.deepEqual(a.train.categorical, b.train.categorical);
    assert.deepEqual(a.test.labels, b.test.labels);
    assert.deepEqual(a.validation.numeric, b.validation.numeric);
    assert.notDeepEqual(a.train.categorical, c.train.categorical);
  });

  it("hits the default positive rates of the six tasks (30/20/10/3/1/1 %)", () => {
    const d = generateSynthetic({ ...small, rows: 100_000 });
    assert.deepEqual(d.taskNames, [...SYNTHETIC_TASKS]);
    const all = d.stats.positiveRate.train;
    const target = SyntheticDataConfig.parse({ source: "synthetic" }).positiveRates;
    all.forEach((rate, t) => {
      // tolerance: 10 % relative plus 3 binomial standard errors
      const tol = 0.1 * target[t] + 3 * Math.sqrt((target[t] * (1 - target[t])) / d.train.size);
      assert.ok(Math.abs(rate - target[t]) < tol, `${d.taskNames[t]}: ${rate} vs ${target[t]}`);
    });
  });

  it("expresses the wechat-like preset: vocabularies and rates as configured", () => {
    const rates = [0.3, 0.2, 0.1, 0.03, 0.01, 0.01];
    const d = generateSynthetic({
      rows: 30_000,
      users: 20_000,
      items: 100_000,
      authors: 2_000,
      contextVocabularies: [50, 50, 10, 10, 100, 100, 1000],
      positiveRates: rates,
    });
    // one OOV id (0) on top of each vocabulary
    assert.deepEqual(d.vocabularySizes, [20_001, 100_001, 2_001, 51, 51, 11, 11, 101, 101, 1001]);
    assert.equal(d.featureNames.length, 10);
    for (const split of [d.train, d.validation, d.test])
      for (let r = 0; r < split.size; r++)
        for (let j = 0; j < split.featureCount; j++) {
          const id = split.categorical[r * split.featureCount + j];
          assert.ok(id >= 1 && id < d.vocabularySizes[j], `feature ${j} id ${id}`);
        }
    assert.equal(d.stats.rows.train + d.stats.rows.validation + d.stats.rows.test, 30_000);
    assert.equal(d.stats.rows.validation, 3_000);
  });

  it("wechatLikeDataConfig gives exactly the wechat-like embedding-table sizes", () => {
    const d = generateSynthetic(wechatLikeDataConfig({ rows: 2_000 }));
    assert.deepEqual(d.vocabularySizes, [...WECHAT_LIKE_VOCABULARIES]);
    assert.deepEqual(d.vocabularySizes, [20_000, 100_000, 2_000, 50, 50, 10, 10, 100, 100, 1000]);
  });

  it("nests the view tasks: a complete view is mostly a long view, a long view mostly an effective one", () => {
    const d = generateSynthetic(small);
    const s = d.train;
    let long = 0;
    let longAndEffective = 0;
    let complete = 0;
    let completeAndLong = 0;
    for (let r = 0; r < s.size; r++) {
      const [e, l, c] = s.labels.subarray(r * 6, r * 6 + 3);
      long += l;
      longAndEffective += l * e;
      complete += c;
      completeAndLong += c * l;
    }
    assert.ok(longAndEffective / long > 0.9, `P(effective | long) = ${longAndEffective / long}`);
    assert.ok(completeAndLong / complete > 0.6, `P(long | complete) = ${completeAndLong / complete}`);
  });

  it("the conflict knob turns view/engagement label correlation from positive to negative", () => {
    const corr = (conflict: number) => {
      const s = generateSynthetic({ ...small, rows: 40_000, conflict }).train;
      return correlation(s, 0, 3); // effective_view vs like
    };
    const shared = corr(0);
    const neutral = corr(0.5);
    const opposed = corr(1);
    assert.ok(shared > 0.05, `conflict 0: ${shared}`);
    assert.ok(Math.abs(neutral) < 0.03, `conflict 0.5: ${neutral}`);
    assert.ok(opposed < -0.03, `conflict 1: ${opposed}`);
  });

  it("the conflict knob makes view and engagement gradients on a shared linear layer point apart", () => {
    // The gradient of each task's standardised log loss w.r.t. per-value weights at the base-rate
    // model: the direction a shared embedding is first pushed by that task.
    const gradientCosine = (conflict: number, a: number, b: number) => {
      const d = generateSynthetic({ ...small, conflict });
      const s = d.train;
      const f = s.featureCount;
      const k = s.taskCount;
      const offsets = d.vocabularySizes.map((_, j) =>
        d.vocabularySizes.slice(0, j).reduce((x, y) => x + y, 0),
      );
      const total = d.vocabularySizes.reduce((x, y) => x + y, 0);
      const rates = d.stats.positiveRate.train;
      const grads = [a, b].map((t) => {
        const g = new Float64Array(total);
        const scale = Math.sqrt(rates[t] * (1 - rates[t]));
        for (let r = 0; r < s.size; r++) {
          const e = (rates[t] - s.labels[r * k + t]) / scale;
          for (let j = 0; j < f; j++) g[offsets[j] + s.categorical[r * f + j]] += e;
        }
        return g;
      });
      let ab = 0;
      let aa = 0;
      let bb = 0;
      for (let i = 0; i < total; i++) {
        ab += grads[0][i] * grads[1][i];
        aa += grads[0][i] ** 2;
        bb += grads[1][i] ** 2;
      }
      return ab / Math.sqrt(aa * bb);
    };
    const shared = gradientCosine(0, 1, 3); // long_view vs like
    const opposed = gradientCosine(1, 1, 3);
    assert.ok(shared > 0.2, `conflict 0: cosine ${shared}`);
    assert.ok(opposed < -0.2, `conflict 1: cosine ${opposed}`);
  });

  it("carries learnable signal: a one-epoch logistic model on the ids reaches mean test AUC >= 0.65", () => {
    // A per-value weight per task (a "wide" model) trained by Adagrad: far weaker than the trainer's
    // networks, so the data's signal is within reach of any of them.
    const d = generateSynthetic({});
    const k = d.taskNames.length;
    const f = d.featureNames.length;
    const offsets = d.vocabularySizes.map((_, j) => d.vocabularySizes.slice(0, j).reduce((a, b) => a + b, 0));
    const total = d.vocabularySizes.reduce((a, b) => a + b, 0);
    const w = new Float64Array(total * k);
    const g2 = new Float64Array(total * k).fill(1e-8);
    const bias = new Float64Array(k);
    const logit = (cat: Int32Array, r: number, t: number) => {
      let z = bias[t];
      for (let j = 0; j < f; j++) z += w[(offsets[j] + cat[r * f + j]) * k + t];
      return z;
    };
    const s = d.train;
    for (let r = 0; r < s.size; r++)
      for (let t = 0; t < k; t++) {
        const g = 1 / (1 + Math.exp(-logit(s.categorical, r, t))) - s.labels[r * k + t];
        bias[t] -= 0.01 * g;
        for (let j = 0; j < f; j++) {
          const i = (offsets[j] + s.categorical[r * f + j]) * k + t;
          g2[i] += g * g;
          w[i] -= (0.1 * g) / Math.sqrt(g2[i]);
        }
      }
    const aucs = d.taskNames.map((_, t) => {
      const scores = Float64Array.from({ length: d.test.size }, (_, r) => logit(d.test.categorical, r, t));
      return auc(labelColumn(d.test, t), scores);
    });
    const mean = aucs.reduce((a, b) => a + b, 0) / k;
    assert.ok(mean >= 0.65, `test AUC per task ${aucs.map((a) => a.toFixed(3))}`);
    assert.ok(mean < 0.95, `suspiciously easy: ${aucs.map((a) => a.toFixed(3))}`);
  });

  it("rejects a config whose splits leave no training rows, naming the field", () => {
    assert.throws(
      () => generateSynthetic({ validation: 0.5, test: 0.5 }),
      /test[\s\S]*must leave rows for training/,
    );
  });
});
