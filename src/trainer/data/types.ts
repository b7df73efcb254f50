/** One split of a dataset, stored column-block by row: every array is row-major. */
export interface Split {
  size: number;
  /**
   * size×featureCount categorical ids: one per feature, maxItems per multi-hot feature (featureSlots
   * says how many each takes), each in [0, vocabularySizes[f]); 0 is the out-of-vocabulary
   * bucket; -1 marks an unused slot of a multi-hot feature (a shorter list).
   */
  categorical: Int32Array;
  /** size×N numeric features, standardised on the training split. */
  numeric: Float32Array;
  /** size×K binary labels (0 or 1). */
  labels: Float32Array;
  /**
   * A dense id per distinct user, shared by all splits (never the OOV bucket): groups rows for
   * GAUC. null when the data has no user column: GAUC is then not applicable.
   */
  users: Int32Array | null;
  /** Ids per row (the sum of featureSlots), N and K: a split can be cut into batches on its own, even when empty. */
  featureCount: number;
  numericCount: number;
  taskCount: number;
}

export interface DatasetStats {
  rows: { train: number; validation: number; test: number };
  /** Positive rate of each task (in taskNames order) per split; NaN for an empty split. */
  positiveRate: { train: number[]; validation: number[]; test: number[] };
  /** Bad rows skipped under onBadRow: "skip". */
  skippedRows: number;
  /** The first few skipped rows' error messages (file, line, column, reason). */
  badRowExamples: string[];
  /** Rows whose split-column value is in no list, dropped under split.other: "drop". */
  droppedRows: number;
  /** Per join (config order): log rows whose key was absent from the side table (features set to OOV / 0). */
  joinMisses: number[];
  /**
   * Per feature (categorical or numeric) with any: rows whose value was missing (absent or one of
   * missingValues), sent to the OOV bucket or the training mean. Join misses are not counted here.
   */
  missingValues: Record<string, number>;
  /** Share of categorical values that fell in the OOV bucket, per feature, on the test split. */
  testOovRate: number[];
}

export interface Dataset {
  name: string;
  taskNames: string[];
  featureNames: string[];
  /** Per categorical feature, the number of ids including the OOV bucket 0. */
  vocabularySizes: number[];
  /** Per categorical feature, the id slots it takes in a row: 1, or maxItems for a multi-hot feature. */
  featureSlots: number[];
  numericNames: string[];
  train: Split;
  validation: Split;
  test: Split;
  stats: DatasetStats;
}

/**
 * A batch: views into buffers the iterator reuses, valid until the iterator advances.
 * Copy what must outlive the step.
 */
export interface Batch {
  /** Batch number within the epoch (0-based): with the epoch, what a checkpoint records. */
  index: number;
  size: number;
  categorical: Int32Array;
  numeric: Float32Array;
  labels: Float32Array;
  users: Int32Array | null;
}

export interface LoadOptions {
  /** Folder that relative paths in the config resolve from (the config file's folder). */
  baseDir: string;
  onProgress?: (phase: string, fraction: number) => void;
  signal?: AbortSignal;
  /** Bytes per read from disk (stream highWaterMark); default 1 MiB. */
  readChunkBytes?: number;
}

/** Positive rate per task of a split (NaN when the split is empty). */
export function positiveRates(split: Split): number[] {
  const k = split.taskCount;
  const sums = new Float64Array(k);
  for (let r = 0; r < split.size; r++) for (let t = 0; t < k; t++) sums[t] += split.labels[r * k + t];
  return Array.from(sums, (s) => (split.size > 0 ? s / split.size : Number.NaN));
}

/** Row counts and positive rates per split: the part of DatasetStats every loader reports alike. */
export function splitStats(
  train: Split,
  validation: Split,
  test: Split,
): Pick<DatasetStats, "rows" | "positiveRate"> {
  return {
    rows: { train: train.size, validation: validation.size, test: test.size },
    positiveRate: {
      train: positiveRates(train),
      validation: positiveRates(validation),
      test: positiveRates(test),
    },
  };
}
