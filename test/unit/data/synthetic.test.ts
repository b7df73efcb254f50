import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { auc } from "../../../src/core/metrics";
import { SYNTHETIC_TASKS, SyntheticDataConfig } from "../../../src/protocol/config";
import { generateSynthetic } from "../../../src/trainer/data/synthetic";
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

  it("carries learnable signal: the user and item ids alone rank the view tasks above chance", () => {
    // Per-item positive rate estimated on train, scored on test: a crude model any learner beats.
    const d = generateSynthetic(small);
    const items = d.vocabularySizes[1];
    const pos = new Float64Array(items);
    const seen = new Float64Array(items);
    for (let r = 0; r < d.train.size; r++) {
      const item = d.train.categorical[r * d.train.featureCount + 1];
      seen[item]++;
      pos[item] += d.train.labels[r * 6];
    }
    const scores = new Float64Array(d.test.size);
    for (let r = 0; r < d.test.size; r++) {
      const item = d.test.categorical[r * d.test.featureCount + 1];
      scores[r] = (pos[item] + 0.3) / (seen[item] + 1);
    }
    const a = auc(labelColumn(d.test, 0), scores);
    assert.ok(a > 0.6, `item-rate AUC on effective_view: ${a}`);
  });

  it("generates 120k rows well under a few seconds", () => {
    const start = performance.now();
    generateSynthetic({});
    const ms = performance.now() - start;
    assert.ok(ms < 3000, `took ${ms.toFixed(0)} ms`);
  });

  it("rejects a config whose splits leave no training rows, naming the field", () => {
    assert.throws(
      () => generateSynthetic({ validation: 0.5, test: 0.5 }),
      /test[\s\S]*must leave rows for training/,
    );
  });
});
