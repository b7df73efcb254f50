import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { batchCount, batches } from "../../../src/trainer/data/batches";
import type { Split } from "../../../src/trainer/data/types";

/** Row r carries r in every field, so a batch shows which rows it holds. */
function numberedSplit(size: number): Split {
  const f = 2;
  const n = 1;
  const k = 3;
  const users = new Int32Array(size);
  const split: Split = {
    size,
    categorical: new Int32Array(size * f),
    numeric: new Float32Array(size * n),
    labels: new Float32Array(size * k),
    users,
    featureCount: f,
    numericCount: n,
    taskCount: k,
  };
  for (let r = 0; r < size; r++) {
    split.categorical.fill(r, r * f, r * f + f);
    split.numeric[r] = r;
    split.labels.fill(r % 2, r * k, r * k + k);
    users[r] = r;
  }
  return split;
}

/** Copies each batch while it is current: the iterator reuses its buffers. */
function rowsOf(split: Split, opts: Parameters<typeof batches>[1]) {
  const out: { index: number; rows: number[] }[] = [];
  for (const b of batches(split, opts)) out.push({ index: b.index, rows: Array.from(b.users ?? []) });
  return out;
}

describe("batches", () => {
  it("covers every row once per epoch, the last batch smaller", () => {
    const split = numberedSplit(10);
    const got = rowsOf(split, { batchSize: 4, seed: 1, epoch: 0 });
    assert.deepEqual(
      got.map((b) => b.rows.length),
      [4, 4, 2],
    );
    assert.deepEqual(
      got.flatMap((b) => b.rows).sort((a, b) => a - b),
      [...Array(10).keys()],
    );
    assert.equal(batchCount(split, 4), 3);
    assert.equal(batchCount(split, 4, true), 2);
    assert.equal(rowsOf(split, { batchSize: 4, dropRemainder: true }).length, 2);
  });

  it("reuses its buffers: a batch's arrays are overwritten by the next one", () => {
    const [first] = [...batches(numberedSplit(8), { batchSize: 4, shuffle: false })];
    assert.deepEqual(Array.from(first.users ?? []), [4, 5, 6, 7]);
  });

  it("keeps each row's fields together when shuffling", () => {
    const split = numberedSplit(50);
    for (const b of batches(split, { batchSize: 16, seed: 9 }))
      for (let i = 0; i < b.size; i++) {
        const r = b.users?.[i] ?? -1;
        assert.deepEqual([b.categorical[i * 2], b.categorical[i * 2 + 1], b.numeric[i]], [r, r, r]);
        assert.deepEqual(Array.from(b.labels.subarray(i * 3, i * 3 + 3)), [r % 2, r % 2, r % 2]);
      }
  });

  it("shuffles deterministically by seed and epoch, differently across epochs", () => {
    const split = numberedSplit(100);
    const a = rowsOf(split, { batchSize: 32, seed: 5, epoch: 2 });
    assert.deepEqual(rowsOf(split, { batchSize: 32, seed: 5, epoch: 2 }), a);
    assert.notDeepEqual(rowsOf(split, { batchSize: 32, seed: 5, epoch: 3 }), a);
    assert.notDeepEqual(rowsOf(split, { batchSize: 32, seed: 6, epoch: 2 }), a);
  });

  it("a resumed epoch (startBatch) continues exactly where the interrupted one stopped", () => {
    const split = numberedSplit(100);
    const whole = rowsOf(split, { batchSize: 7, seed: 5, epoch: 4 });
    const resumed = rowsOf(split, { batchSize: 7, seed: 5, epoch: 4, startBatch: 6 });
    assert.deepEqual(resumed, whole.slice(6));
  });

  it("keeps stored order without shuffle (evaluation)", () => {
    const got = rowsOf(numberedSplit(5), { batchSize: 2, shuffle: false });
    assert.deepEqual(got, [
      { index: 0, rows: [0, 1] },
      { index: 1, rows: [2, 3] },
      { index: 2, rows: [4] },
    ]);
  });

  it("rejects a batch size that is not a positive integer", () => {
    assert.throws(() => batchCount(numberedSplit(3), 0), /batchSize must be a positive integer, got 0/);
    assert.throws(() => [...batches(numberedSplit(3), { batchSize: 2.5 })], /got 2.5/);
  });
});
