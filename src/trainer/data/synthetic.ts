import { SYNTHETIC_TASKS, SyntheticDataConfig } from "../../protocol/config";
import { Random, ZipfSampler } from "./random";
import { type Dataset, type Split, splitStats } from "./types";

/**
 * The embedded feed-log generator (docs/data.md has the full story).
 *
 * Each row is an impression: a user (activity skewed), an item (popularity skewed) with its author,
 * and context values. Two hidden drivers per row:
 *   view driver  a = content match (user taste · item content) + item quality + user watch bias + context
 *   engage driver b = creator affinity (user · author style) + item engagingness + user sociality + context
 * View tasks threshold one latent watch utility (shared logistic noise), so their labels nest:
 * complete ⊂ long ⊂ effective as tendencies, with video duration pulling long and complete views
 * apart. Engagement tasks (like, follow, forward) load on b plus ρ·a with ρ = 0.8·(1 − 2·conflict):
 * at conflict 0 they share the view driver, at 1 they favour content the view tasks disfavour.
 * Every label is Bernoulli(σ(β_t + s·score_t)), with β_t calibrated to the target positive rate.
 */

const LATENT = 8;
const SOCIAL_TASKS = 3;

export type SyntheticConfig = SyntheticDataConfig;
type SyntheticInput = Partial<SyntheticConfig>;

export const SYNTHETIC_NUMERIC = ["duration", "user_activity"] as const;

interface Tables {
  userTaste: Float32Array;
  userCreator: Float32Array;
  userWatchBias: Float32Array;
  userSocial: Float32Array;
  userActivity: Float32Array;
  itemContent: Float32Array;
  itemQuality: Float32Array;
  itemEngaging: Float32Array;
  itemDuration: Float32Array;
  itemAuthor: Int32Array;
  authorStyle: Float32Array;
  authorQuality: Float32Array;
  /** Per context feature, per value: [view effect, engagement effect]. */
  contextEffects: Float32Array[];
}

function normals(random: Random, n: number, scale: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = random.normal() * scale;
  return out;
}

function standardise(values: Float32Array): void {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const sd = Math.sqrt(variance / values.length) || 1;
  for (let i = 0; i < values.length; i++) values[i] = (values[i] - mean) / sd;
}

function buildTables(c: SyntheticConfig, random: Random, users: ZipfSampler): Tables {
  const factorScale = 1 / Math.sqrt(Math.sqrt(LATENT)); // so a dot product of two factors has variance 1
  const authors = new ZipfSampler(c.authors, c.popularitySkew, random);
  const itemAuthor = new Int32Array(c.items + 1);
  for (let i = 1; i <= c.items; i++) itemAuthor[i] = authors.sample(random) + 1;
  const itemDuration = normals(random, c.items + 1, 1);
  const userActivity = new Float32Array(c.users + 1);
  for (let u = 1; u <= c.users; u++) userActivity[u] = Math.log(users.probability(u - 1));
  standardise(userActivity.subarray(1));
  const contextCount = c.contextVocabularies.length;
  const contextScale = 0.5 / Math.sqrt(Math.max(1, contextCount));
  return {
    userTaste: normals(random, (c.users + 1) * LATENT, factorScale),
    userCreator: normals(random, (c.users + 1) * LATENT, factorScale),
    userWatchBias: normals(random, c.users + 1, 0.6),
    userSocial: normals(random, c.users + 1, 0.6),
    userActivity,
    itemContent: normals(random, (c.items + 1) * LATENT, factorScale),
    itemQuality: normals(random, c.items + 1, 0.7),
    itemEngaging: normals(random, c.items + 1, 0.6),
    itemDuration,
    itemAuthor,
    authorStyle: normals(random, (c.authors + 1) * LATENT, factorScale),
    authorQuality: normals(random, c.authors + 1, 0.4),
    contextEffects: c.contextVocabularies.map((v) => normals(random, (v + 1) * 2, contextScale)),
  };
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number): number {
  let s = 0;
  for (let d = 0; d < LATENT; d++) s += a[i * LATENT + d] * b[j * LATENT + d];
  return s;
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** The intercept β with mean σ(β + score) = rate over the rows (bisection: the mean is monotone in β). */
export function calibrateIntercept(
  scores: Float32Array,
  stride: number,
  offset: number,
  rate: number,
): number {
  const rows = scores.length / stride;
  const step = Math.max(1, Math.floor(rows / 50_000)); // an even subsample is plenty for a mean
  let lo = -30;
  let hi = 30;
  for (let iter = 0; iter < 60; iter++) {
    const mid = (lo + hi) / 2;
    let sum = 0;
    let n = 0;
    for (let r = 0; r < rows; r += step, n++) sum += sigmoid(mid + scores[r * stride + offset]);
    if (sum / n < rate) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Embedding-table sizes of the wechat-like reference configuration (docs/data.md), OOV row included. */
export const WECHAT_LIKE_VOCABULARIES = [20_000, 100_000, 2_000, 50, 50, 10, 10, 100, 100, 1_000] as const;

/**
 * The generator set up for the wechat-like preset: vocabularySizes come out exactly as
 * WECHAT_LIKE_VOCABULARIES (each count is one less, for the OOV id 0), paper-like positive rates.
 */
export function wechatLikeDataConfig(overrides: Partial<SyntheticConfig> = {}): SyntheticConfig {
  const [users, items, authors, ...context] = WECHAT_LIKE_VOCABULARIES.map((v) => v - 1);
  return SyntheticDataConfig.parse({
    rows: 500_000,
    users,
    items,
    authors,
    contextVocabularies: context,
    positiveRates: [0.3, 0.2, 0.1, 0.03, 0.01, 0.01],
    ...overrides,
    source: "synthetic",
  });
}

function userColumn(categorical: Int32Array, f: number, begin: number, end: number): Int32Array {
  const out = new Int32Array(end - begin);
  for (let r = begin; r < end; r++) out[r - begin] = categorical[r * f];
  return out;
}

/** Generates the whole dataset in memory; deterministic for a config (seed included). */
export function generateSynthetic(input: SyntheticInput = {}): Dataset {
  const c = SyntheticDataConfig.parse({ ...input, source: "synthetic" });
  const random = new Random(c.seed, 1);
  const userSampler = new ZipfSampler(c.users, c.popularitySkew / 2, random);
  const itemSampler = new ZipfSampler(c.items, c.popularitySkew, random);
  const contextSamplers = c.contextVocabularies.map((v) => new ZipfSampler(v, 0.5, random));
  const t = buildTables(c, random, userSampler);

  const rows = c.rows;
  const k = SYNTHETIC_TASKS.length;
  const f = 3 + c.contextVocabularies.length;
  const n = SYNTHETIC_NUMERIC.length;
  const categorical = new Int32Array(rows * f);
  const numeric = new Float32Array(rows * n);
  const scores = new Float32Array(rows * k);
  const s = 1.3 * c.signal;
  const rho = 0.8 * (1 - 2 * c.conflict);
  const rowRandom = new Random(c.seed, 2);

  for (let r = 0; r < rows; r++) {
    const user = userSampler.sample(rowRandom) + 1;
    const item = itemSampler.sample(rowRandom) + 1;
    const author = t.itemAuthor[item];
    const base = r * f;
    categorical[base] = user;
    categorical[base + 1] = item;
    categorical[base + 2] = author;
    let contextView = 0;
    let contextEngage = 0;
    for (let j = 0; j < contextSamplers.length; j++) {
      const value = contextSamplers[j].sample(rowRandom) + 1;
      categorical[base + 3 + j] = value;
      contextView += t.contextEffects[j][value * 2];
      contextEngage += t.contextEffects[j][value * 2 + 1];
    }
    const duration = t.itemDuration[item];
    numeric[r * n] = duration;
    numeric[r * n + 1] = t.userActivity[user];

    const contentMatch = dot(t.userTaste, user, t.itemContent, item);
    const creatorAffinity = dot(t.userCreator, user, t.authorStyle, author);
    const view = 0.8 * contentMatch + t.itemQuality[item] + t.userWatchBias[user] + contextView;
    const engage =
      0.8 * creatorAffinity +
      t.itemEngaging[item] +
      t.authorQuality[author] +
      t.userSocial[user] +
      contextEngage;
    const social = engage + rho * view + 0.3 * t.userActivity[user];
    const o = r * k;
    scores[o] = s * view;
    scores[o + 1] = s * (view + 0.35 * duration);
    scores[o + 2] = s * (view - 0.6 * duration);
    scores[o + 3] = s * social;
    scores[o + 4] = s * (social + 0.8 * creatorAffinity);
    scores[o + 5] = s * (social + 0.6 * t.itemEngaging[item] + 0.4 * t.userSocial[user]);
  }

  const intercepts = c.positiveRates.map((rate, task) => calibrateIntercept(scores, k, task, rate));
  const labels = new Float32Array(rows * k);
  const noise = new Random(c.seed, 3);
  for (let r = 0; r < rows; r++) {
    const o = r * k;
    // One watch-utility noise for the three view tasks: thresholds of one latent, hence nesting.
    const watch = noise.logistic();
    for (let task = 0; task < 3; task++)
      labels[o + task] = intercepts[task] + scores[o + task] + watch > 0 ? 1 : 0;
    for (let task = 3; task < 3 + SOCIAL_TASKS; task++)
      labels[o + task] = intercepts[task] + scores[o + task] + noise.logistic() > 0 ? 1 : 0;
  }

  const validationRows = Math.round(rows * c.validation);
  const testRows = Math.round(rows * c.test);
  const trainRows = rows - validationRows - testRows;
  const slice = (begin: number, end: number): Split => ({
    size: end - begin,
    categorical: categorical.slice(begin * f, end * f),
    numeric: numeric.slice(begin * n, end * n),
    labels: labels.slice(begin * k, end * k),
    users: userColumn(categorical, f, begin, end),
    featureCount: f,
    numericCount: n,
    taskCount: k,
  });
  // Rows are i.i.d., so contiguous blocks are as good as a shuffled assignment.
  const train = slice(0, trainRows);
  const validation = slice(trainRows, trainRows + validationRows);
  const test = slice(trainRows + validationRows, rows);

  return {
    name: `synthetic(seed=${c.seed}, conflict=${c.conflict})`,
    taskNames: [...SYNTHETIC_TASKS],
    featureNames: [
      "user_id",
      "item_id",
      "author_id",
      ...c.contextVocabularies.map((_, j) => `context_${j + 1}`),
    ],
    vocabularySizes: [c.users + 1, c.items + 1, c.authors + 1, ...c.contextVocabularies.map((v) => v + 1)],
    featureSlots: new Array(f).fill(1),
    numericNames: [...SYNTHETIC_NUMERIC],
    train,
    validation,
    test,
    stats: {
      ...splitStats(train, validation, test),
      skippedRows: 0,
      badRowExamples: [],
      droppedRows: 0,
      joinMisses: [],
      missingValues: {},
      testOovRate: new Array(f).fill(0),
    },
  };
}
