/**
 * Small deterministic random sources for data generation and shuffling. Math.random cannot be
 * seeded, and the data must be identical for a seed on every machine and Node version.
 */

/** Mixes 32-bit words into one well-spread 32-bit hash (murmur3's finaliser on a running state). */
export function hash32(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    h = Math.imul(h ^ (w | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** A uniform number in [0, 1) from a hash of the words: stateless, for per-row decisions. */
export function hashUniform(...words: number[]): number {
  return hash32(...words) / 4294967296;
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state, passes
 * PractRand, a handful of 32-bit operations per draw.
 */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spareNormal = Number.NaN;

  constructor(seed: number, stream = 0) {
    this.a = hash32(seed, stream, 1);
    this.b = hash32(seed, stream, 2);
    this.c = hash32(seed, stream, 3);
    this.d = 1;
    for (let i = 0; i < 15; i++) this.nextUint32();
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform in (0, 1): safe under log. */
  open(): number {
    return (this.nextUint32() + 0.5) / 4294967296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Marsaglia's polar method, the second value kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spareNormal)) {
      const v = this.spareNormal;
      this.spareNormal = Number.NaN;
      return v;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * this.uniform() - 1;
      v = 2 * this.uniform() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spareNormal = v * f;
    return u * f;
  }

  /** Standard logistic noise: P(x < t) = sigmoid(t), so thresholding a score plus this is a logit model. */
  logistic(): number {
    const u = this.open();
    return Math.log(u / (1 - u));
  }

  /** Fills `out` with a uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(out: Uint32Array): Uint32Array {
    for (let i = 0; i < out.length; i++) out[i] = i;
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      const t = out[i];
      out[i] = out[j];
      out[j] = t;
    }
    return out;
  }
}

/**
 * Draws ids 0..n-1 with probability proportional to 1/(rank+1)^skew, in a seeded random order of
 * ranks (so id 0 is not always the most popular). Inverse-CDF by binary search: O(log n) a draw.
 */
export class ZipfSampler {
  private readonly cdf: Float64Array;
  private readonly idOfRank: Uint32Array;

  constructor(n: number, skew: number, random: Random) {
    this.cdf = new Float64Array(n);
    let total = 0;
    for (let r = 0; r < n; r++) {
      total += 1 / (r + 1) ** skew;
      this.cdf[r] = total;
    }
    for (let r = 0; r < n; r++) this.cdf[r] /= total;
    this.idOfRank = random.permutation(new Uint32Array(n));
  }

  /** Probability of an id (used to compute popularity features). */
  probability(id: number): number {
    const r = this.rankOf(id);
    return this.cdf[r] - (r > 0 ? this.cdf[r - 1] : 0);
  }

  private rankCache: Uint32Array | undefined;
  private rankOf(id: number): number {
    if (!this.rankCache) {
      this.rankCache = new Uint32Array(this.idOfRank.length);
      for (let r = 0; r < this.idOfRank.length; r++) this.rankCache[this.idOfRank[r]] = r;
    }
    return this.rankCache[id];
  }

  sample(random: Random): number {
    const u = random.uniform();
    let lo = 0;
    let hi = this.cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    return this.idOfRank[lo];
  }
}
