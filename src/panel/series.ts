/**
 * A bounded, downsampled series: the history behind every chart line of the panel. The host keeps
 * one per series of a run; the webview keeps a mirror continued with tails of the host's (see
 * `tail` and `applyTail`), so both hold the same points and memory is bounded on both sides.
 */

/**
 * A bounded series of (step, time, value) points. Raw points are grouped into buckets of `width`
 * consecutive points; each bucket remembers its minimum and its maximum with the step and time
 * at which they occurred. When the buckets fill the budget, neighbours merge pairwise and the
 * width doubles: memory stays within `maxPoints` however long the run, and no extreme value (a
 * loss spike, a collapsing weight) is ever averaged away, it survives with its exact step.
 */
export class DownsampledSeries {
  /** Most points `points()` returns (two per bucket). */
  readonly maxPoints: number;
  private readonly maxBuckets: number;
  /** Raw points per full bucket. */
  private width = 1;
  private n = 0;
  private readonly xMin: Float64Array;
  private readonly tMin: Float64Array;
  private readonly yMin: Float64Array;
  private readonly xMax: Float64Array;
  private readonly tMax: Float64Array;
  private readonly yMax: Float64Array;
  private readonly count: Float64Array;
  private lastY = Number.NaN;
  private lastX = Number.NaN;
  private total = 0;
  /** Times the buckets merged: a mirror's copy of any bucket older than that is stale. */
  private merges = 0;

  constructor(maxPoints: number) {
    if (!Number.isInteger(maxPoints) || maxPoints < 8)
      throw new RangeError(`maxPoints must be an integer >= 8 (got ${maxPoints})`);
    this.maxPoints = maxPoints;
    // An even bucket count so that pairwise merging leaves no orphan.
    this.maxBuckets = Math.floor(maxPoints / 4) * 2;
    const b = this.maxBuckets;
    this.xMin = new Float64Array(b);
    this.tMin = new Float64Array(b);
    this.yMin = new Float64Array(b);
    this.xMax = new Float64Array(b);
    this.tMax = new Float64Array(b);
    this.yMax = new Float64Array(b);
    this.count = new Float64Array(b);
  }

  /** Appends one point; non-finite values are ignored (a diverged loss is a log line, not a point). */
  append(x: number, t: number, y: number): void {
    if (!Number.isFinite(y) || !Number.isFinite(x)) return;
    this.lastX = x;
    this.lastY = y;
    this.total++;
    let i = this.n - 1;
    if (i < 0 || this.count[i] >= this.width) {
      if (this.n === this.maxBuckets) {
        this.mergePairs();
      }
      i = this.n - 1;
      if (i < 0 || this.count[i] >= this.width) {
        i = this.n++;
        this.xMin[i] = this.xMax[i] = x;
        this.tMin[i] = this.tMax[i] = t;
        this.yMin[i] = this.yMax[i] = y;
        this.count[i] = 1;
        return;
      }
    }
    if (y < this.yMin[i]) {
      this.yMin[i] = y;
      this.xMin[i] = x;
      this.tMin[i] = t;
    }
    if (y > this.yMax[i]) {
      this.yMax[i] = y;
      this.xMax[i] = x;
      this.tMax[i] = t;
    }
    this.count[i]++;
  }

  private mergePairs(): void {
    const half = this.n >> 1;
    for (let j = 0; j < half; j++) {
      const a = 2 * j;
      const b = a + 1;
      const minFrom = this.yMin[b] < this.yMin[a] ? b : a;
      const maxFrom = this.yMax[b] > this.yMax[a] ? b : a;
      const xMin = this.xMin[minFrom];
      const tMin = this.tMin[minFrom];
      const yMin = this.yMin[minFrom];
      const xMax = this.xMax[maxFrom];
      const tMax = this.tMax[maxFrom];
      const yMax = this.yMax[maxFrom];
      this.xMin[j] = xMin;
      this.tMin[j] = tMin;
      this.yMin[j] = yMin;
      this.xMax[j] = xMax;
      this.tMax[j] = tMax;
      this.yMax[j] = yMax;
      this.count[j] = this.count[a] + this.count[b];
    }
    this.n = half;
    this.width *= 2;
    this.merges++;
  }

  /** Buckets held now (a tail from `buckets - 1` on carries every change of the next appends). */
  get buckets(): number {
    return this.n;
  }

  /** Counts the merges: a tail taken across some tells the mirror to merge its own as often. */
  get generation(): number {
    return this.merges;
  }

  /** Number of points `points()` would return. */
  get length(): number {
    let length = 0;
    for (let i = 0; i < this.n; i++) length += this.xMin[i] === this.xMax[i] ? 1 : 2;
    return length;
  }

  /** How many raw points were appended in all. */
  get appended(): number {
    return this.total;
  }

  /** The latest raw value (NaN before the first). */
  get last(): number {
    return this.lastY;
  }

  get lastStep(): number {
    return this.lastX;
  }

  /** Visits the kept points in step order: each bucket's min and max, in the order they occurred. */
  forEach(visit: (x: number, t: number, y: number) => void): void {
    for (let i = 0; i < this.n; i++) {
      const minFirst = this.xMin[i] <= this.xMax[i];
      if (this.xMin[i] === this.xMax[i]) {
        visit(this.xMax[i], this.tMax[i], this.yMax[i]);
      } else if (minFirst) {
        visit(this.xMin[i], this.tMin[i], this.yMin[i]);
        visit(this.xMax[i], this.tMax[i], this.yMax[i]);
      } else {
        visit(this.xMax[i], this.tMax[i], this.yMax[i]);
        visit(this.xMin[i], this.tMin[i], this.yMin[i]);
      }
    }
  }

  points(): { x: number; t: number; y: number }[] {
    const out: { x: number; t: number; y: number }[] = [];
    this.forEach((x, t, y) => {
      out.push({ x, t, y });
    });
    return out;
  }

  toJSON(): SeriesSnapshot {
    const { from: _from, merged: _merged, ...snapshot } = this.tail();
    return snapshot;
  }

  /**
   * What a mirror needs to become this series: merge its own buckets `merged` times (merging is
   * deterministic, so its finished buckets merge into exactly ours), then take ours from `from`
   * on. `sent` is what the mirror holds: this series' bucket count and generation when it was
   * last sent (undefined: nothing, the tail is the whole series). A merge thus costs the mirror
   * no more data than an append.
   */
  tail(sent?: { buckets: number; generation: number }): SeriesTail {
    let from = 0;
    let merged = 0;
    if (sent && sent.generation <= this.merges) {
      // The last bucket sent may have grown since; the ones before it are final.
      from = Math.max(0, sent.buckets - 1);
      merged = this.merges - sent.generation;
      // After a merge, bucket j is the pair (2j, 2j+1): final only if both were.
      for (let m = 0; m < merged; m++) from >>= 1;
    }
    const n = this.n;
    const start = Math.min(from, n);
    const round = (a: Float64Array) => Array.from(a.subarray(start, n));
    return {
      from: start,
      merged,
      maxPoints: this.maxPoints,
      width: this.width,
      total: this.total,
      last: Number.isFinite(this.lastY) ? [this.lastX, this.lastY] : null,
      count: round(this.count),
      xMin: round(this.xMin),
      tMin: round(this.tMin),
      yMin: round(this.yMin),
      xMax: round(this.xMax),
      tMax: round(this.tMax),
      yMax: round(this.yMax),
    };
  }

  /** Continues this series with a tail of the series it mirrors (see `tail`). */
  applyTail(tail: SeriesTail): void {
    if (tail.maxPoints !== this.maxPoints)
      throw new RangeError(
        `series tail is for ${tail.maxPoints} points, this series keeps ${this.maxPoints}`,
      );
    // An odd last bucket is dropped by the merge: the tail always restarts at or before it.
    for (let m = 0; m < tail.merged; m++) this.mergePairs();
    if (tail.from > this.n)
      throw new RangeError(`series tail starts at bucket ${tail.from}, this series holds only ${this.n}`);
    const n = tail.from + tail.count.length;
    if (n > this.maxBuckets) throw new RangeError(`series tail holds ${n} buckets, more than it allows`);
    for (let j = 0; j < tail.count.length; j++) {
      const i = tail.from + j;
      this.count[i] = tail.count[j];
      this.xMin[i] = tail.xMin[j];
      this.tMin[i] = tail.tMin[j];
      this.yMin[i] = tail.yMin[j];
      this.xMax[i] = tail.xMax[j];
      this.tMax[i] = tail.tMax[j];
      this.yMax[i] = tail.yMax[j];
    }
    this.n = n;
    this.width = tail.width;
    this.total = tail.total;
    if (tail.last) [this.lastX, this.lastY] = tail.last;
  }

  /** Rebuilds a series from its snapshot; `maxPoints` may shrink it (merging), never grow it. */
  static fromJSON(snapshot: SeriesSnapshot, maxPoints = snapshot.maxPoints): DownsampledSeries {
    const series = new DownsampledSeries(snapshot.maxPoints);
    series.applyTail({ ...snapshot, from: 0, merged: 0 });
    return maxPoints < snapshot.maxPoints ? series.resized(maxPoints) : series;
  }

  /** A copy with another budget (used when the user changes the points-per-series setting). */
  resized(maxPoints: number): DownsampledSeries {
    const copy = new DownsampledSeries(maxPoints);
    // Re-appending the kept extremes keeps every spike; widths restart from the kept points.
    this.forEach((x, t, y) => {
      copy.append(x, t, y);
    });
    copy.total = this.total;
    // The latest raw point need not be an extreme that survived.
    copy.lastX = this.lastX;
    copy.lastY = this.lastY;
    return copy;
  }

  /**
   * A copy without the points after `step` (the steps a resumed run trains again). Its latest
   * point is the last one kept, and `appended` counts only the kept points.
   */
  truncated(step: number): DownsampledSeries {
    const copy = new DownsampledSeries(this.maxPoints);
    this.forEach((x, t, y) => {
      if (x <= step) copy.append(x, t, y);
    });
    return copy;
  }
}

/** Buckets [from, from + count.length) of a series after `merged` merges, and its state after them. */
export interface SeriesTail extends SeriesSnapshot {
  from: number;
  merged: number;
}

export interface SeriesSnapshot {
  maxPoints: number;
  width: number;
  total: number;
  last: [number, number] | null;
  count: number[];
  xMin: number[];
  tMin: number[];
  yMin: number[];
  xMax: number[];
  tMax: number[];
  yMax: number[];
}
