import { Random } from "./random";
import type { Batch, Split } from "./types";

export interface BatchOptions {
  batchSize: number;
  /** Shuffle seed; the epoch's order is a function of (seed, epoch) only. */
  seed?: number;
  epoch?: number;
  /** First batch to yield: a resumed run passes the batch index its checkpoint recorded. */
  startBatch?: number;
  /** false: rows in stored order (evaluation). Default true. */
  shuffle?: boolean;
  /** Leave out the last, smaller batch. Default false. */
  dropRemainder?: boolean;
}

export function batchCount(split: Split, batchSize: number, dropRemainder = false): number {
  checkBatchSize(batchSize);
  return dropRemainder ? Math.floor(split.size / batchSize) : Math.ceil(split.size / batchSize);
}

function checkBatchSize(batchSize: number): void {
  if (!Number.isInteger(batchSize) || batchSize <= 0)
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
}

/**
 * The row order of one epoch: a seeded permutation, so an interrupted epoch replays identically
 * from any batch.
 */
export function epochOrder(size: number, seed: number, epoch: number): Uint32Array {
  return new Random(seed, 0x5eed0000 + epoch).permutation(new Uint32Array(size));
}

/**
 * Cuts a split into batches, copying rows into buffers allocated once per call. The arrays of a
 * yielded batch are overwritten by the next one.
 */
export function* batches(split: Split, options: BatchOptions): Generator<Batch> {
  const { batchSize, seed = 0, epoch = 0, startBatch = 0, shuffle = true, dropRemainder = false } = options;
  const count = batchCount(split, batchSize, dropRemainder);
  if (!Number.isInteger(startBatch) || startBatch < 0)
    throw new RangeError(`startBatch must be a non-negative integer, got ${startBatch}`);
  const order = shuffle ? epochOrder(split.size, seed, epoch) : undefined;
  const f = split.featureCount;
  const n = split.numericCount;
  const k = split.taskCount;
  const categorical = new Int32Array(batchSize * f);
  const numeric = new Float32Array(batchSize * n);
  const labels = new Float32Array(batchSize * k);
  const users = split.users && new Int32Array(batchSize);
  for (let index = startBatch; index < count; index++) {
    const begin = index * batchSize;
    const size = Math.min(batchSize, split.size - begin);
    if (order) {
      for (let i = 0; i < size; i++) {
        // Element loops, not subarray().set(): a view per row would allocate in the hot path.
        const row = order[begin + i];
        for (let j = 0; j < f; j++) categorical[i * f + j] = split.categorical[row * f + j];
        for (let j = 0; j < n; j++) numeric[i * n + j] = split.numeric[row * n + j];
        for (let j = 0; j < k; j++) labels[i * k + j] = split.labels[row * k + j];
        if (users && split.users) users[i] = split.users[row];
      }
    } else {
      categorical.set(split.categorical.subarray(begin * f, (begin + size) * f));
      numeric.set(split.numeric.subarray(begin * n, (begin + size) * n));
      labels.set(split.labels.subarray(begin * k, (begin + size) * k));
      if (users && split.users) users.set(split.users.subarray(begin, begin + size));
    }
    const whole = size === batchSize;
    yield {
      index,
      size,
      categorical: whole ? categorical : categorical.subarray(0, size * f),
      numeric: whole ? numeric : numeric.subarray(0, size * n),
      labels: whole ? labels : labels.subarray(0, size * k),
      users: whole || !users ? users : users.subarray(0, size),
    };
  }
}
