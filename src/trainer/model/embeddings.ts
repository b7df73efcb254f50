import type { Rng } from "../rng";

/**
 * Embedding tables live on the host, one per categorical feature. A step touches only the rows
 * its batch uses: those rows are uploaded once, differentiated as a small dense block, and
 * updated sparsely (lazy Adam, see optimizer.ts). No vocabulary-sized gradient ever exists.
 */
export class EmbeddingTables {
  readonly tables: Float32Array[];
  /** Adam moments, same layout as the tables. */
  readonly m: Float32Array[];
  readonly v: Float32Array[];
  private readonly stamp: Int32Array[];
  private readonly slot: Int32Array[];
  private generation = 0;

  constructor(
    readonly vocabularies: readonly number[],
    readonly dim: number,
    rng: Rng,
    std = 0.01,
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
  }

  get parameterCount(): number {
    return this.tables.reduce((sum, t) => sum + t.length, 0);
  }

  /**
   * `categorical` is row-major [size × F]. The batch's unique rows, feature after feature: `rows` [U·dim] holds their values, `owner`
   * says which feature and row each came from, `inverse` [B·F] (example-major) points each
   * example's feature at its unique row.
   */
  gatherBatch(categorical: Int32Array, size: number, names?: readonly string[]): BatchRows {
    const features = this.vocabularies.length;
    if (categorical.length < size * features)
      throw new Error(
        `batch has ${categorical.length} categorical ids, the model expects ${size}×${features}`,
      );
    this.generation++;
    const inverse = new Int32Array(size * features);
    const ownerFeature: number[] = [];
    const ownerRow: number[] = [];
    for (let f = 0; f < features; f++) {
      const vocab = this.vocabularies[f];
      const stamp = this.stamp[f];
      const slot = this.slot[f];
      for (let b = 0; b < size; b++) {
        const id = categorical[b * features + f];
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
        inverse[b * features + f] = slot[id];
      }
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
      ownerFeature: Int32Array.from(ownerFeature),
      ownerRow: Int32Array.from(ownerRow),
      unique,
    };
  }
}

export interface BatchRows {
  readonly rows: Float32Array;
  readonly inverse: Int32Array;
  readonly ownerFeature: Int32Array;
  readonly ownerRow: Int32Array;
  readonly unique: number;
}
