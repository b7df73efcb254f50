import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { auc, evaluateTasks, finiteMean, gauc, logLoss } from "../../../src/core/metrics";

/** The definition: over all positive-negative pairs, 1 when the positive scores higher, 1/2 on a tie. O(n²). */
function bruteAuc(labels: number[], scores: number[]): number {
  let wins = 0;
  let pairs = 0;
  for (let i = 0; i < labels.length; i++)
    for (let j = 0; j < labels.length; j++)
      if (labels[i] === 1 && labels[j] === 0) {
        pairs++;
        wins += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
      }
  return pairs ? wins / pairs : Number.NaN;
}

function bruteGauc(labels: number[], scores: number[], users: number[]): number {
  let weighted = 0;
  let weight = 0;
  for (const u of new Set(users)) {
    const rows = users.flatMap((v, i) => (v === u ? [i] : []));
    const a = bruteAuc(
      rows.map((i) => labels[i]),
      rows.map((i) => scores[i]),
    );
    if (!Number.isNaN(a)) {
      weighted += a * rows.length;
      weight += rows.length;
    }
  }
  return weight ? weighted / weight : Number.NaN;
}

const close = (a: number, b: number, tol = 1e-12) =>
  assert.ok(Math.abs(a - b) <= tol || (Number.isNaN(a) && Number.isNaN(b)), `${a} vs ${b}`);

describe("auc", () => {
  it("is 1 for a perfect ranking, 0 for a reversed one, 1/2 when every score ties", () => {
    assert.equal(auc([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]), 1);
    assert.equal(auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]), 0);
    assert.equal(auc([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.5]), 0.5);
  });

  it("counts a tied positive-negative pair as one half (average ranks)", () => {
    // pairs: (p .5 vs n .5) tie, (p .5 vs n .2) win, (p .9 vs both) wins: (0.5 + 1 + 2) / 4
    assert.equal(auc([1, 0, 1, 0], [0.5, 0.5, 0.9, 0.2]), 3.5 / 4);
  });

  it("is NaN when only one class is present", () => {
    assert.ok(Number.isNaN(auc([1, 1], [0.2, 0.4])));
    assert.ok(Number.isNaN(auc([], [])));
  });

  it("rejects non-binary labels, NaN scores and length mismatches, naming the index", () => {
    assert.throws(() => auc([0, 2], [0.1, 0.2]), /index 1 is 2/);
    assert.throws(() => auc([0, 1], [0.1, Number.NaN]), /index 1 is NaN/);
    assert.throws(() => auc([0, 1], [0.1]), /2 labels but 1 scores/);
  });

  it("equals the O(n²) pair count on random data with many ties", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.integer({ min: -5, max: 5 })), {
          maxLength: 60,
        }),
        (rows) => {
          const labels = rows.map((r) => r[0]);
          const scores = rows.map((r) => r[1] / 4);
          close(auc(labels, Float64Array.from(scores)), bruteAuc(labels, scores));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("gauc", () => {
  it("weights each user's AUC by the user's rows and skips one-class users", () => {
    const labels = [1, 0, 0, /* user 2 */ 1, 0, 1, 0, /* user 3: all positive */ 1, 1];
    const scores = [0.9, 0.1, 0.5, 0.2, 0.8, 0.6, 0.4, 0.1, 0.9];
    const users = [1, 1, 1, 2, 2, 2, 2, 3, 3];
    // user 1: AUC 1 over 3 rows; user 2: positives .2,.6 vs negatives .8,.4 -> 1 win of 4 = .25 over 4 rows
    close(gauc(labels, scores, users), (1 * 3 + 0.25 * 4) / 7);
  });

  it("is NaN when no user has both classes", () => {
    assert.ok(Number.isNaN(gauc([1, 0], [0.3, 0.4], [1, 2])));
  });

  it("equals a brute-force per-user computation, for dense and for sparse user ids", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(
            fc.integer({ min: 0, max: 1 }),
            fc.integer({ min: 0, max: 6 }),
            fc.integer({ min: 0, max: 5 }),
          ),
          { maxLength: 80 },
        ),
        fc.boolean(),
        (rows, sparse) => {
          const labels = rows.map((r) => r[0]);
          const scores = rows.map((r) => r[1]);
          // sparse ids force the comparison-sort grouping instead of the counting sort
          const users = rows.map((r) => (sparse ? r[2] * 1_000_003 - 2_000_000 : r[2]));
          close(gauc(labels, scores, users), bruteGauc(labels, scores, users));
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("logLoss", () => {
  it("is the mean binary cross-entropy", () => {
    close(logLoss([1, 0], [0.8, 0.25]), -(Math.log(0.8) + Math.log(0.75)) / 2);
  });

  it("clips probabilities so a confident miss costs -log(eps), not infinity", () => {
    close(logLoss([1], [0]), -Math.log(1e-7), 1e-9);
    close(logLoss([0], [1], 1e-3), -Math.log(1e-3), 1e-9);
  });
});

describe("evaluateTasks", () => {
  it("reads row-major size×K columns per task and averages the finite values over tasks", () => {
    // two tasks, four rows; task 1 has no positives (AUC NaN) and is left out of the AUC mean
    const labels = [1, 0, 0, 0, 1, 0, 0, 0];
    const probs = [0.9, 0.1, 0.2, 0.2, 0.6, 0.3, 0.1, 0.4];
    const users = [1, 1, 2, 2];
    const m = evaluateTasks(labels, probs, users, 2);
    close(m.tasks[0].auc, auc([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.1]));
    assert.ok(Number.isNaN(m.tasks[1].auc));
    close(m.mean.auc, m.tasks[0].auc);
    close(m.tasks[0].gauc, gauc([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.1], users));
    close(m.tasks[1].logloss, logLoss([0, 0, 0, 0], [0.1, 0.2, 0.3, 0.4]));
    close(m.mean.logloss, (m.tasks[0].logloss + m.tasks[1].logloss) / 2);
  });

  it("a task whose predictions are NaN is reported failed with the reason; the others and the means are still computed", () => {
    const labels = [1, 0, 0, 1, 1, 0, 0, 1];
    const probs = [0.9, Number.NaN, 0.2, 0.3, 0.6, Number.NaN, 0.1, 0.2];
    const users = [1, 1, 2, 2];
    const m = evaluateTasks(labels, probs, users, 2);
    assert.equal(m.tasks[1].failure, "2 of 4 predictions are NaN");
    assert.ok([m.tasks[1].auc, m.tasks[1].gauc, m.tasks[1].logloss].every(Number.isNaN));
    assert.equal(m.tasks[0].failure, undefined);
    close(m.tasks[0].auc, auc([1, 0, 1, 0], [0.9, 0.2, 0.6, 0.1]));
    close(m.mean.auc, m.tasks[0].auc);
  });

  it("rejects shapes that do not fit", () => {
    assert.throws(() => evaluateTasks([1, 0, 1], [0.1, 0.2, 0.3], [1], 2), /not a multiple of 2 tasks/);
    assert.throws(() => evaluateTasks([1, 0], [0.1, 0.2], [1, 2], 2), /1 rows but 2 user ids/);
  });

  it("handles a million rows (its speed is measured by benchmarks, not here)", () => {
    const n = 1_000_000;
    const labels = new Float32Array(n);
    const probs = new Float32Array(n);
    const users = new Int32Array(n);
    let s = 1;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      probs[i] = (s >>> 8) / 16777216;
      labels[i] = probs[i] + ((s & 255) / 255 - 0.5) > 0.5 ? 1 : 0;
      users[i] = s % 20000;
    }
    const m = evaluateTasks(labels, probs, users, 1);
    assert.ok(m.tasks[0].auc > 0.7 && m.tasks[0].gauc > 0.7, JSON.stringify(m));
  });
});

describe("finiteMean", () => {
  it("ignores NaN and is NaN for none", () => {
    assert.equal(finiteMean([1, Number.NaN, 3]), 2);
    assert.ok(Number.isNaN(finiteMean([Number.NaN])));
  });
});
