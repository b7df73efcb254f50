import type { Rng } from "../rng";

/**
 * Embedding tables live on the host, one per categorical feature. A step touches only the rows
 * its batch uses: those rows are uploaded once, differentiated as a small dense block, and
 * updated sparsely (lazy Adam, see optimizer.ts). No vocabulary-sized gradient ever exists.
 *
 * A multi-hot feature (a list column) takes several id slots per example; its embedding is the
 * mean of its items' rows. Pooling is linear, so each item's row gets the example's gradient
 * times its weight (1/items): the gradient of every unique row, and so the Gram matrix, stays exact.
 */
export class EmbeddingTables {
  readonly tables: Float32Array[];
  /** Adam moments, same layout as the tables. */
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  /** Id slots per example of each feature (1, or maxItems for a multi-hot feature). */
  readonly slots: readonly number[];
  /** Ids per example: the sum of the slots. */
  readonly width: number;
  private readonly stamp: Int32Array[];
  private readonly slot: Int32Array[];
  private generation = 0;

  constructor(
    readonly vocabularies: readonly number[],
    readonly dim: number,
    rng: Rng,
    std = 0.01,
    slots?: readonly number[],
  ) {
    this.tables = vocabularies.map((size) => {
      const table = new Float32Array(size * dim);
      for (let i = 0; i < table.length; i++) table[i] = rng.normal() * std;
      return table;
    });
    this.m = vocabularies.map((size) => new Float32Array(size * dim));
    this.v = vocabularies.map((size) => new Float32Array(size * dim));
    this.stamp = vocabularies.map((size) => new Int32Array(size));
    this.slot = vocabularies.map((size) => new Int32Array(size));
    this.slots = slots ?? vocabularies.map(() => 1);
    if (this.slots.length !== vocabularies.length || this.slots.some((n) => !(Number.isInteger(n) && n >= 1)))
      throw new Error(`slots (${this.slots.join(", ")}) must give a positive count per feature`);
    this.width = this.slots.reduce((a, b) => a + b, 0);
  }

  get parameterCount(): number {
    return this.tables.reduce((sum, t) => sum + t.length, 0);
  }

  /**
   * `categorical` is row-major [size × width] (a multi-hot feature's slots side by side, -1 for an
   * unused one). The batch's unique rows, feature after feature: `rows` [U·dim] holds their
   * values, `owner` says which feature and row each came from, `inverse` [B·width] points each
   * example's slot at its unique row; with multi-hot features, `weights` [B·width] is each slot's
   * share of its feature's mean (0 for an unused slot) and `position` [B·width] the example's
   * feature (b·F + f) the slot pools into.
   */
  gatherBatch(categorical: Int32Array, size: number, names?: readonly string[]): BatchRows {
    const features = this.vocabularies.length;
    const width = this.width;
    if (categorical.length < size * width)
      throw new Error(`batch has ${categorical.length} categorical ids, the model expects ${size}×${width}`);
    this.generation++;
    const inverse = new Int32Array(size * width);
    const pooled = width !== features;
    const weights = pooled ? new Float32Array(size * width) : undefined;
    const position = pooled ? new Int32Array(size * width) : undefined;
    const ownerFeature: number[] = [];
    const ownerRow: number[] = [];
    let first = 0;
    for (let f = 0; f < features; f++) {
      const vocab = this.vocabularies[f];
      const stamp = this.stamp[f];
      const slot = this.slot[f];
      const slots = this.slots[f];
      for (let b = 0; b < size; b++) {
        let used = 0;
        for (let s = 0; s < slots; s++) {
          const at = b * width + first + s;
          const id = categorical[at];
          // An unused slot points at the example's first item with weight 0: no row, no gradient.
          if (id === -1 && s > 0) {
            inverse[at] = inverse[b * width + first];
            continue;
          }
          if (!(id >= 0 && id < vocab))
            throw new Error(
              `feature ${names?.[f] ?? f}: id ${id} at batch position ${b} is outside its vocabulary (0..${vocab - 1})`,
            );
          if (stamp[id] !== this.generation) {
            stamp[id] = this.generation;
            slot[id] = ownerRow.length;
            ownerFeature.push(f);
            ownerRow.push(id);
          }
          inverse[at] = slot[id];
          used++;
        }
        if (weights && position)
          for (let s = 0; s < slots; s++) {
            const at = b * width + first + s;
            weights[at] = s === 0 || categorical[at] !== -1 ? 1 / used : 0;
            position[at] = b * features + f;
          }
      }
      first += slots;
    }
    const unique = ownerRow.length;
    const dim = this.dim;
    const rows = new Float32Array(unique * dim);
    for (let u = 0; u < unique; u++) {
      const table = this.tables[ownerFeature[u]];
      rows.set(table.subarray(ownerRow[u] * dim, ownerRow[u] * dim + dim), u * dim);
    }
    return {
      rows,
      inverse,
      ...(weights && position ? { weights, position } : {}),
      ownerFeature: Int32Array.from(ownerFeature),
      ownerRow: Int32Array.from(ownerRow),
      unique,
    };
  }
}

export interface BatchRows {
  readonly rows: Float32Array;
  readonly inverse: Int32Array;
  /** With multi-hot features: each slot's weight in its feature's mean (0: unused). */
  readonly weights?: Float32Array;
  /** With multi-hot features: the example's feature, b·F + f, each slot pools into. */
  readonly position?: Int32Array;
  readonly ownerFeature: Int32Array;
  readonly ownerRow: Int32Array;
  readonly unique: number;
}
