/**
 * The latest cosine matrices of a run, at most `capacity` of them, the oldest dropped first: what
 * the heatmap's window averages over and the insights count conflicts in.
 */
import type { HeatmapState } from "./snapshot";

export class CosineRing {
  private items: HeatmapState[] = [];
  /** Where the oldest item is once the ring is full. */
  private start = 0;

  constructor(private capacity: number) {}

  push(entry: HeatmapState): void {
    if (this.items.length < this.capacity) this.items.push(entry);
    else {
      this.items[this.start] = entry;
      this.start = (this.start + 1) % this.capacity;
    }
  }

  /** The kept matrices, oldest first. */
  list(): HeatmapState[] {
    return [...this.items.slice(this.start), ...this.items.slice(0, this.start)];
  }

  /** Holds the last `capacity` of `entries` (oldest first) instead. */
  reset(entries: readonly HeatmapState[], capacity = this.capacity): void {
    this.capacity = capacity;
    this.items = entries.slice(-capacity);
    this.start = 0;
  }
}

/** Mean of the last `window` cosine matrices of a list (oldest first), dated by the last one's step. */
export function averageCosines(matrices: readonly HeatmapState[], window: number): HeatmapState | null {
  if (matrices.length === 0) return null;
  const used = matrices.slice(-Math.max(1, Math.floor(window)));
  const size = used[used.length - 1].cosines.length;
  const sum = new Array<number>(size).fill(0);
  let n = 0;
  for (const m of used) {
    if (m.cosines.length !== size) continue;
    for (let i = 0; i < size; i++) sum[i] += m.cosines[i];
    n++;
  }
  return { step: used[used.length - 1].step, cosines: sum.map((s) => s / n) };
}
