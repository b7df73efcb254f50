/**
 * The loader's in-memory pieces: growable typed arrays for rows whose count is known only at
 * the end, and the vocabulary of one categorical feature (provisional ids in order of first
 * sight, fixed from the training counts once every file is read).
 */

export class GrowableInt32 {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Int32Array {
    return this.data.subarray(0, this.length);
  }
}

export class GrowableFloat64 {
  data = new Float64Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
  view(): Float64Array {
    return this.data.subarray(0, this.length);
  }
}

/** Provisional id of a missing value: always the out-of-vocabulary bucket. */
export const MISSING_ID = 0;
/** An unused id slot of a multi-hot feature (a list shorter than maxItems). */
export const EMPTY_SLOT = -1;

/** Categories of one feature: provisional ids in order of first sight, and training counts. */
export class Categories {
  readonly ids = new Map<string, number>();
  readonly trainCounts = new GrowableInt32();
  constructor() {
    this.trainCounts.push(0); // provisional id 0: a missing value, always OOV
  }
  provisional(value: string): number {
    let id = this.ids.get(value);
    if (id === undefined) {
      id = this.trainCounts.length;
      this.ids.set(value, id);
      this.trainCounts.push(0);
    }
    return id;
  }
  /**
   * Provisional id -> final id: categories seen at least `minCount` times in training get ids
   * from 1 in order of first appearance; the rest share 0, the OOV bucket.
   */
  finalIds(minCount: number): { map: Int32Array; size: number } {
    const map = new Int32Array(this.trainCounts.length);
    let next = 1;
    for (let p = 1; p < this.trainCounts.length; p++)
      map[p] = this.trainCounts.data[p] >= minCount ? next++ : 0;
    return { map, size: next };
  }
}
