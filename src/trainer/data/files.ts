/**
 * The loader for the user's own logs (docs/data.md). One streaming pass over each file: every
 * categorical value gets a provisional id on first sight and rows are stored as those ids in
 * growable typed arrays; at the end the vocabulary is fixed from the training rows alone (minCount,
 * OOV bucket 0), the ids are remapped in place and numeric columns are standardised with the
 * training mean and deviation. Memory holds the encoded rows and the distinct values, never a file.
 */
import { isAbsolute, resolve } from "node:path";
import type { FileDataConfig } from "../../protocol/config";
import { hashUniform } from "./random";
import { DataFileError, detectFormat, readTable, type TableFormat, type TableRow } from "./readers";
import { type Dataset, type LoadOptions, type Split, splitStats } from "./types";

const BAD_ROW_EXAMPLES = 5;
const SPLITS = ["train", "validation", "test"] as const;
type SplitName = (typeof SPLITS)[number];

class GrowableInt32 {
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

class GrowableFloat64 {
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

class SplitBuilder {
  rows = 0;
  categorical = new GrowableInt32();
  numeric = new GrowableFloat64();
  labels = new GrowableInt32();
  users = new GrowableInt32();
}

/** Categories of one feature: provisional ids in order of first sight, and training counts. */
class Categories {
  ids = new Map<string, number>();
  trainCounts = new GrowableInt32();
  constructor() {
    this.trainCounts.push(0); // provisional id 0: a missing join value, always OOV
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
}

/** A side table by key: provisional ids of its categorical features (one lookup per row, not per feature) and numerics. */
interface SideTable {
  file: string;
  categorical: Map<string, Int32Array>;
  numeric: Map<string, Float64Array>;
}

function signedLog1p(x: number): number {
  return Math.sign(x) * Math.log1p(Math.abs(x));
}

/** Parses a number, or says why not. */
function parseNumber(raw: string | undefined): number | string {
  if (raw === undefined) return "missing value";
  const text = raw.trim();
  const value = text === "" ? Number.NaN : Number(text);
  return Number.isFinite(value) ? value : `not a number: "${raw}"`;
}

function parseLabel(raw: string | undefined): 0 | 1 | string {
  if (raw === "0") return 0;
  if (raw === "1") return 1;
  if (raw === undefined) return "missing value";
  const text = raw.trim().toLowerCase();
  if (text === "1" || text === "1.0" || text === "true") return 1;
  if (text === "0" || text === "0.0" || text === "false") return 0;
  return `label must be 0 or 1, got "${raw}"`;
}

class BadRows {
  skipped = 0;
  examples: string[] = [];
  constructor(private readonly mode: "error" | "skip") {}
  /** Throws in error mode; in skip mode counts the row and keeps the first few messages. */
  report(error: DataFileError): void {
    if (this.mode === "error") throw error;
    this.skipped++;
    if (this.examples.length < BAD_ROW_EXAMPLES) this.examples.push(error.message);
  }
}

function checkConfig(config: FileDataConfig): void {
  const names = [
    ...config.features,
    ...config.joins.flatMap((j) => j.features),
    ...config.numericFeatures,
    ...config.joins.flatMap((j) => j.numericFeatures),
  ];
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined)
    throw new Error(`data: feature "${dup}" is listed twice (features, numericFeatures, joins)`);
  const numeric = new Set([...config.numericFeatures, ...config.joins.flatMap((j) => j.numericFeatures)]);
  const strayLog = config.logNumeric.find((c) => !numeric.has(c));
  if (strayLog !== undefined)
    throw new Error(
      `data.logNumeric: "${strayLog}" is not a numeric feature (numericFeatures or a join's numericFeatures)`,
    );
  const leak = config.labels.find((l) => names.includes(l) || l === config.userColumn);
  if (leak !== undefined)
    throw new Error(`data: label "${leak}" is also used as a feature or the user column`);
  config.joins.forEach((j, i) => {
    if (j.features.length + j.numericFeatures.length === 0)
      throw new Error(`data.joins[${i}]: give features or numericFeatures to take from ${j.path}`);
  });
}

export async function loadFileDataset(config: FileDataConfig, options: LoadOptions): Promise<Dataset> {
  checkConfig(config);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(options.baseDir, p));
  const bad = new BadRows(config.onBadRow);
  const readOptions = (phase: string) => ({
    chunkBytes: options.readChunkBytes,
    signal: options.signal,
    onFraction: options.onProgress && ((f: number) => options.onProgress?.(phase, f)),
  });

  const featureNames = [...config.features, ...config.joins.flatMap((j) => j.features)];
  const categories = featureNames.map(() => new Categories());

  // Side tables first: they are small (one row per user or item) and kept as key -> values.
  const tables: SideTable[] = [];
  let firstJoinFeature = config.features.length;
  for (const join of config.joins) {
    const file = at(join.path);
    const columns = [join.key, ...join.features, ...join.numericFeatures];
    const table: SideTable = { file, categorical: new Map(), numeric: new Map() };
    const format = detectFormat(file, join.format);
    for await (const row of readTable(file, format, columns, readOptions(`join ${join.path}`))) {
      if (row.error !== undefined) {
        bad.report(new DataFileError(file, row.line, undefined, row.error));
        continue;
      }
      const key = row.values[0];
      if (key === undefined) {
        bad.report(new DataFileError(file, row.line, join.key, "missing value"));
        continue;
      }
      if (table.categorical.has(key)) {
        bad.report(new DataFileError(file, row.line, join.key, `duplicate key "${key}"`));
        continue;
      }
      const values: string[] = [];
      let ok = true;
      for (let j = 0; j < join.features.length && ok; j++) {
        const v = row.values[1 + j];
        if (v === undefined) {
          bad.report(new DataFileError(file, row.line, join.features[j], "missing value"));
          ok = false;
        } else values.push(v);
      }
      const numeric = new Float64Array(join.numericFeatures.length);
      for (let j = 0; j < numeric.length && ok; j++) {
        const column = join.numericFeatures[j];
        const v = parseNumber(row.values[1 + join.features.length + j]);
        if (typeof v === "string") {
          bad.report(new DataFileError(file, row.line, column, v));
          ok = false;
        } else numeric[j] = config.logNumeric.includes(column) ? signedLog1p(v) : v;
      }
      if (!ok) continue;
      table.categorical.set(
        key,
        Int32Array.from(values, (v, j) => categories[firstJoinFeature + j].provisional(v)),
      );
      table.numeric.set(key, numeric);
    }
    tables.push(table);
    firstJoinFeature += join.features.length;
  }

  const numericNames = [...config.numericFeatures, ...config.joins.flatMap((j) => j.numericFeatures)];
  const taskNames = config.taskNames ?? [...config.labels];
  const f = featureNames.length;
  const n = numericNames.length;
  const k = config.labels.length;
  const userIds = new Map<string, number>();
  const builders: Record<SplitName, SplitBuilder> = {
    train: new SplitBuilder(),
    validation: new SplitBuilder(),
    test: new SplitBuilder(),
  };
  const joinMisses = config.joins.map(() => 0);
  let droppedRows = 0;

  // Columns read from the log, in this order.
  const split = config.split;
  const logColumns = [
    ...config.features,
    ...config.numericFeatures,
    ...config.labels,
    config.userColumn,
    ...config.joins.map((j) => j.key),
    ...(split.by === "column" ? [split.column] : []),
  ];
  const unique = [...new Set(logColumns)];
  const indexOf = (c: string) => unique.indexOf(c);
  const featureIdx = config.features.map(indexOf);
  const numericIdx = config.numericFeatures.map(indexOf);
  const labelIdx = config.labels.map(indexOf);
  const userIdx = indexOf(config.userColumn);
  const joinKeyIdx = config.joins.map((j) => indexOf(j.key));
  const splitIdx = split.by === "column" ? indexOf(split.column) : -1;
  const splitOfValue = new Map<string, SplitName>();
  if (split.by === "column")
    for (const name of SPLITS)
      for (const value of split[name]) {
        const other = splitOfValue.get(value);
        if (other !== undefined && other !== name)
          throw new Error(`data.split: value "${value}" is listed for both ${other} and ${name}`);
        splitOfValue.set(value, name);
      }
  const logLog = config.numericFeatures.map((c) => config.logNumeric.includes(c));

  // Scratch for one row, committed only when the whole row is valid.
  const rowIds = new Int32Array(f);
  const rowNumeric = new Float64Array(n);
  const rowLabels = new Int32Array(k);
  const rowJoinMissed = new Uint8Array(config.joins.length);

  const encodeRow = (file: string, row: TableRow, target: SplitName | "by-column"): void => {
    const v = row.values;
    let splitName: SplitName;
    if (target === "by-column") {
      const value = v[splitIdx] ?? "";
      const found = splitOfValue.get(value);
      if (found === undefined) {
        if (split.by === "column" && split.other === "drop") {
          droppedRows++;
          return;
        }
        throw new DataFileError(
          file,
          row.line,
          unique[splitIdx],
          `value "${value}" is in none of the split lists`,
        );
      }
      splitName = found;
    } else splitName = target;
    for (let j = 0; j < config.features.length; j++) {
      const value = v[featureIdx[j]];
      if (value === undefined) throw new DataFileError(file, row.line, config.features[j], "missing value");
      rowIds[j] = categories[j].provisional(value);
    }
    for (let j = 0; j < config.numericFeatures.length; j++) {
      const parsed = parseNumber(v[numericIdx[j]]);
      if (typeof parsed === "string")
        throw new DataFileError(file, row.line, config.numericFeatures[j], parsed);
      rowNumeric[j] = logLog[j] ? signedLog1p(parsed) : parsed;
    }
    for (let t = 0; t < k; t++) {
      const parsed = parseLabel(v[labelIdx[t]]);
      if (typeof parsed === "string") throw new DataFileError(file, row.line, config.labels[t], parsed);
      rowLabels[t] = parsed;
    }
    const user = v[userIdx];
    if (user === undefined) throw new DataFileError(file, row.line, config.userColumn, "missing value");
    let fj = config.features.length;
    let nj = config.numericFeatures.length;
    for (let t = 0; t < tables.length; t++) {
      const key = v[joinKeyIdx[t]];
      if (key === undefined) throw new DataFileError(file, row.line, config.joins[t].key, "missing value");
      const cats = tables[t].categorical.get(key);
      const nums = tables[t].numeric.get(key);
      rowJoinMissed[t] = cats === undefined ? 1 : 0;
      // An absent key is a fact about the side table, not a category: its features go to OOV.
      for (let j = 0; j < config.joins[t].features.length; j++) rowIds[fj++] = cats ? cats[j] : 0;
      for (let j = 0; j < config.joins[t].numericFeatures.length; j++)
        rowNumeric[nj++] = nums ? nums[j] : Number.NaN;
    }

    const b = builders[splitName];
    const train = splitName === "train";
    for (let j = 0; j < f; j++) {
      b.categorical.push(rowIds[j]);
      if (train) categories[j].trainCounts.data[rowIds[j]]++;
    }
    for (let t = 0; t < tables.length; t++) joinMisses[t] += rowJoinMissed[t];
    for (let j = 0; j < n; j++) b.numeric.push(rowNumeric[j]);
    for (let t = 0; t < k; t++) b.labels.push(rowLabels[t]);
    let uid = userIds.get(user);
    if (uid === undefined) {
      uid = userIds.size;
      userIds.set(user, uid);
    }
    b.users.push(uid);
    b.rows++;
  };

  const readLog = async (path: string, assign: (ordinal: number) => SplitName | "by-column") => {
    const file = at(path);
    const format: TableFormat = detectFormat(file, config.format);
    let ordinal = 0;
    for await (const row of readTable(file, format, unique, readOptions(`read ${path}`))) {
      ordinal++;
      try {
        if (row.error !== undefined) throw new DataFileError(file, row.line, undefined, row.error);
        encodeRow(file, row as TableRow, assign(ordinal));
      } catch (e) {
        if (!(e instanceof DataFileError)) throw e;
        bad.report(e);
      }
    }
  };

  // Split assignment hashes (seed, row ordinal): stable whatever rows are skipped, and the same
  // for a CSV and its JSON-lines twin (their line numbers differ by the header).
  if (split.by === "ratio")
    await readLog(config.path, (ordinal) => {
      const u = hashUniform(split.seed, ordinal);
      return u < split.test ? "test" : u < split.test + split.validation ? "validation" : "train";
    });
  else if (split.by === "files") {
    await readLog(config.path, (ordinal) =>
      hashUniform(split.seed, ordinal) < split.validation ? "validation" : "train",
    );
    await readLog(split.testPath, () => "test");
  } else await readLog(config.path, () => "by-column");

  if (builders.train.rows === 0)
    throw new Error(
      `data: no training rows in ${at(config.path)} (check the split settings and the bad-row count)`,
    );
  options.onProgress?.("encode", 0);

  // Vocabularies from the training rows: provisional id -> final id (0 when rarer than minCount).
  const vocabularySizes: number[] = [];
  const finalIds = categories.map((c) => {
    const map = new Int32Array(c.trainCounts.length);
    let next = 1;
    for (let p = 1; p < c.trainCounts.length; p++)
      map[p] = c.trainCounts.data[p] >= config.minCount ? next++ : 0;
    vocabularySizes.push(next);
    return map;
  });

  // Numeric standardisation from the training rows; missing join values become the mean (0).
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  {
    const count = new Float64Array(n);
    const sum = new Float64Array(n);
    const sumSq = new Float64Array(n);
    const values = builders.train.numeric.view();
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (Number.isNaN(x)) continue;
      const j = i % n;
      count[j]++;
      sum[j] += x;
      sumSq[j] += x * x;
    }
    for (let j = 0; j < n; j++) {
      mean[j] = count[j] ? sum[j] / count[j] : 0;
      const variance = count[j] ? sumSq[j] / count[j] - mean[j] ** 2 : 0;
      sd[j] = variance > 1e-12 * Math.max(1, mean[j] ** 2) ? Math.sqrt(variance) : 1;
    }
  }

  const finish = (name: SplitName): Split => {
    const b = builders[name];
    const categorical = b.categorical.view().slice();
    for (let i = 0; i < categorical.length; i++) categorical[i] = finalIds[i % f][categorical[i]];
    const raw = b.numeric.view();
    const numeric = new Float32Array(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const j = i % n;
      numeric[i] = Number.isNaN(raw[i]) ? 0 : (raw[i] - mean[j]) / sd[j];
    }
    return {
      size: b.rows,
      categorical,
      numeric,
      labels: Float32Array.from(b.labels.view()),
      users: b.users.view().slice(),
      featureCount: f,
      numericCount: n,
      taskCount: k,
    };
  };
  const train = finish("train");
  const validation = finish("validation");
  const test = finish("test");
  const testOovRate = featureNames.map((_, j) => {
    let oov = 0;
    for (let r = 0; r < test.size; r++) if (test.categorical[r * f + j] === 0) oov++;
    return test.size ? oov / test.size : Number.NaN;
  });
  options.onProgress?.("encode", 1);

  return {
    name: config.path,
    taskNames,
    featureNames,
    vocabularySizes,
    numericNames,
    train,
    validation,
    test,
    stats: {
      ...splitStats(train, validation, test),
      skippedRows: bad.skipped,
      badRowExamples: bad.examples,
      droppedRows,
      joinMisses,
      testOovRate,
    },
  };
}
