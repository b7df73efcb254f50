/**
 * Evaluation metrics of multi-task recommenders: AUC, GAUC and log loss, per task and their means.
 * Sort-based on typed arrays: O(n log n), no per-element objects.
 */

type Numbers = ArrayLike<number>;

function checkLengths(labels: Numbers, scores: Numbers, what: string): void {
  if (labels.length !== scores.length)
    throw new RangeError(`${what}: ${labels.length} labels but ${scores.length} scores`);
}

/**
 * Mann-Whitney AUC of already sorted positive and negative scores: the probability that a random
 * positive outranks a random negative, ties counting one half (the same as average ranks).
 */
function aucOfSorted(pos: Float64Array, nPos: number, neg: Float64Array, nNeg: number): number {
  let below = 0; // negatives strictly below the current positive score
  let wins = 0;
  let i = 0;
  while (i < nPos) {
    const s = pos[i];
    while (below < nNeg && neg[below] < s) below++;
    let equal = 0;
    while (below + equal < nNeg && neg[below + equal] === s) equal++;
    let run = 1; // positives sharing this score count the same
    while (i + run < nPos && pos[i + run] === s) run++;
    wins += run * (below + equal / 2);
    i += run;
  }
  return wins / (nPos * nNeg);
}

/** Scratch buffers reused across groups, grown on demand. */
class Scratch {
  pos = new Float64Array(16);
  neg = new Float64Array(16);
  ensure(n: number): void {
    if (this.pos.length < n) {
      this.pos = new Float64Array(n);
      this.neg = new Float64Array(n);
    }
  }
}

function label01(y: number, index: number): boolean {
  if (y === 1) return true;
  if (y === 0) return false;
  throw new RangeError(`label at index ${index} is ${y}: labels must be 0 or 1`);
}

/** AUC of rows `indices` (or all rows) into the scratch; NaN when only one class is present. */
function aucOf(
  labels: Numbers,
  scores: Numbers,
  scratch: Scratch,
  indices?: Uint32Array,
  from = 0,
  to?: number,
): number {
  const end = to ?? (indices ? indices.length : labels.length);
  scratch.ensure(end - from);
  let nPos = 0;
  let nNeg = 0;
  for (let j = from; j < end; j++) {
    const r = indices ? indices[j] : j;
    const s = scores[r];
    if (Number.isNaN(s)) throw new RangeError(`score at index ${r} is NaN`);
    if (label01(labels[r], r)) scratch.pos[nPos++] = s;
    else scratch.neg[nNeg++] = s;
  }
  if (nPos === 0 || nNeg === 0) return Number.NaN;
  const pos = scratch.pos.subarray(0, nPos).sort();
  const neg = scratch.neg.subarray(0, nNeg).sort();
  return aucOfSorted(pos, nPos, neg, nNeg);
}

/** Area under the ROC curve; NaN when the labels hold only one class. Ties count one half. */
export function auc(labels: Numbers, scores: Numbers): number {
  checkLengths(labels, scores, "auc");
  return aucOf(labels, scores, new Scratch());
}

/** Row indices ordered by user id (stable): counting sort when ids are dense enough, else a comparison sort. */
function orderByUser(users: Numbers): Uint32Array {
  const n = users.length;
  const order = new Uint32Array(n);
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const u = users[i];
    if (!Number.isInteger(u))
      throw new RangeError(`user id at index ${i} is ${u}: user ids must be integers`);
    if (u < min) min = u;
    if (u > max) max = u;
  }
  const range = max - min + 1;
  if (n > 0 && range <= 4 * n + 1024) {
    const counts = new Uint32Array(range + 1);
    for (let i = 0; i < n; i++) counts[users[i] - min + 1]++;
    for (let v = 1; v <= range; v++) counts[v] += counts[v - 1];
    for (let i = 0; i < n; i++) order[counts[users[i] - min]++] = i;
    return order;
  }
  for (let i = 0; i < n; i++) order[i] = i;
  return order.sort((a, b) => users[a] - users[b] || a - b);
}

/**
 * Group AUC: the AUC of each user's rows, weighted by the user's number of rows; users whose rows
 * hold one class only are skipped. NaN when no user has both classes.
 */
export function gauc(labels: Numbers, scores: Numbers, users: Numbers): number {
  checkLengths(labels, scores, "gauc");
  if (users.length !== labels.length)
    throw new RangeError(`gauc: ${labels.length} labels but ${users.length} user ids`);
  return gaucOrdered(labels, scores, users, orderByUser(users), new Scratch());
}

function gaucOrdered(
  labels: Numbers,
  scores: Numbers,
  users: Numbers,
  order: Uint32Array,
  scratch: Scratch,
): number {
  let weighted = 0;
  let weight = 0;
  let start = 0;
  while (start < order.length) {
    const user = users[order[start]];
    let end = start + 1;
    while (end < order.length && users[order[end]] === user) end++;
    const a = aucOf(labels, scores, scratch, order, start, end);
    if (!Number.isNaN(a)) {
      weighted += a * (end - start);
      weight += end - start;
    }
    start = end;
  }
  return weight > 0 ? weighted / weight : Number.NaN;
}

/**
 * Mean binary cross-entropy of probabilities, clipped to [eps, 1 − eps] so a confident miss costs
 * −log(eps) rather than infinity.
 */
export function logLoss(labels: Numbers, probabilities: Numbers, eps = 1e-7): number {
  checkLengths(labels, probabilities, "logLoss");
  if (labels.length === 0) return Number.NaN;
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = Math.min(1 - eps, Math.max(eps, probabilities[i]));
    if (Number.isNaN(p)) throw new RangeError(`probability at index ${i} is NaN`);
    sum -= label01(labels[i], i) ? Math.log(p) : Math.log(1 - p);
  }
  return sum / labels.length;
}

export interface TaskMetrics {
  auc: number;
  gauc: number;
  logloss: number;
  /** Why the task has no metrics (all NaN), e.g. predictions that are not numbers. */
  failure?: string;
}

export interface MultiTaskMetrics {
  tasks: TaskMetrics[];
  /** Means over tasks of the finite values (a task with one class in the split has NaN AUC). */
  mean: TaskMetrics;
  /** false when there were no user ids to group by: every GAUC is then NaN, meaning "not applicable". */
  gaucApplicable: boolean;
}

/** Mean of the finite values; NaN when there are none. */
export function finiteMean(values: readonly number[]): number {
  let sum = 0;
  let n = 0;
  for (const v of values)
    if (Number.isFinite(v)) {
      sum += v;
      n++;
    }
  return n > 0 ? sum / n : Number.NaN;
}

/**
 * Per-task metrics of row-major size×K labels and predicted probabilities, with `users` (size)
 * grouping rows for GAUC. The user grouping is computed once and shared by all tasks. Without
 * users (null) GAUC is not applicable: NaN, and `gaucApplicable` says why.
 */
export function evaluateTasks(
  labels: Numbers,
  probabilities: Numbers,
  users: Numbers | null,
  taskCount: number,
): MultiTaskMetrics {
  const k = taskCount;
  if (!Number.isInteger(k) || k <= 0) throw new RangeError(`taskCount must be a positive integer, got ${k}`);
  checkLengths(labels, probabilities, "evaluateTasks");
  if (labels.length % k !== 0)
    throw new RangeError(`evaluateTasks: ${labels.length} labels is not a multiple of ${k} tasks`);
  const size = labels.length / k;
  if (users && users.length !== size)
    throw new RangeError(`evaluateTasks: ${size} rows but ${users.length} user ids`);
  const order = users && orderByUser(users);
  const scratch = new Scratch();
  const y = new Float32Array(size);
  const p = new Float64Array(size);
  const tasks: TaskMetrics[] = [];
  for (let t = 0; t < k; t++) {
    let notNumbers = 0;
    for (let r = 0; r < size; r++) {
      y[r] = labels[r * k + t];
      p[r] = probabilities[r * k + t];
      if (Number.isNaN(p[r])) notNumbers++;
    }
    // A model gone bad is reported, task by task, not thrown: the run still writes its summary.
    if (notNumbers > 0) {
      const failure = `${notNumbers} of ${size} predictions are NaN`;
      tasks.push({ auc: Number.NaN, gauc: Number.NaN, logloss: Number.NaN, failure });
      continue;
    }
    tasks.push({
      auc: aucOf(y, p, scratch),
      gauc: users && order ? gaucOrdered(y, p, users, order, scratch) : Number.NaN,
      logloss: logLoss(y, p),
    });
  }
  return {
    tasks,
    mean: {
      auc: finiteMean(tasks.map((m) => m.auc)),
      gauc: finiteMean(tasks.map((m) => m.gauc)),
      logloss: finiteMean(tasks.map((m) => m.logloss)),
    },
    gaucApplicable: users !== null,
  };
}

/** Mean of the finite values; null when there are none (a metric undefined for a task is null). */
export function meanOf(values: readonly (number | null | undefined)[]): number | null {
  let sum = 0;
  let n = 0;
  for (const v of values)
    if (typeof v === "number" && Number.isFinite(v)) {
      sum += v;
      n++;
    }
  return n === 0 ? null : sum / n;
}

/**
 * RI, the paper's relative improvement: the mean over tasks of (x_t − b_t)/b_t against a baseline
 * (Single). Tasks where either value is undefined (one class in the split) are left out; null
 * when none remains.
 */
export function relativeImprovement(
  values: readonly (number | null)[],
  baseline: readonly (number | null)[],
): number | null {
  if (values.length !== baseline.length)
    throw new Error(
      `relative improvement: ${values.length} values against ${baseline.length} baseline values`,
    );
  const ratios = values.map((x, t) => {
    const b = baseline[t];
    return x === null || b === null || !Number.isFinite(x) || !Number.isFinite(b) || b === 0
      ? null
      : (x - b) / b;
  });
  return meanOf(ratios);
}
