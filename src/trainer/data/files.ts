/**
 * The loader for the user's own logs (docs/data.md). One streaming pass over each file: every
 * categorical value gets a provisional id on first sight and rows are stored as those ids in
 * growable typed arrays; at the end the vocabulary is fixed from the training rows alone (minCount,
 * OOV bucket 0), the ids are remapped in place and numeric columns are standardised with the
 * training mean and deviation. Memory holds the encoded rows and the distinct values, never a file.
 * Label rules and derived features are applied to each value as it streams (values.ts).
 */
import { isAbsolute, resolve } from "node:path";
import { type FileDataConfig, labelColumn, type TableJoin, taskNamesOf } from "../../protocol/dataConfig";
import { Categories, EMPTY_SLOT, GrowableFloat64, GrowableInt32, MISSING_ID } from "./encoding";
import { hashUniform } from "./random";
import { DataFileError, detectFormat, readTable, type TableLayout, type TableRow } from "./readers";
import { type Dataset, type LoadOptions, type Split, splitStats } from "./types";
import {
  type CategoryReader,
  categoryReader,
  isUnreadable,
  labelReader,
  parseNumber,
  signedLog1p,
  slotsOf,
} from "./values";

const BAD_ROW_EXAMPLES = 5;
const SPLITS = ["train", "validation", "test"] as const;
type SplitName = (typeof SPLITS)[number];

class SplitBuilder {
  rows = 0;
  categorical = new GrowableInt32();
  numeric = new GrowableFloat64();
  labels = new GrowableInt32();
  users = new GrowableInt32();
}

/** A categorical feature: where its value comes from, how it is read, its id slots and vocabulary. */
interface Feature {
  readonly name: string;
  /** The raw column read (a derived feature's source). */
  readonly column: string;
  readonly read: CategoryReader;
  readonly slots: number;
  readonly categories: Categories;
}

/** A side table by key: provisional ids of its features' slots (one lookup per row) and numerics. */
interface SideTable {
  categorical: Map<string, Int32Array>;
  numeric: Map<string, Float64Array>;
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

function layoutOf(
  source: Pick<TableJoin, "columns" | "separator" | "quote" | "trim" | "skipLines" | "comment">,
): TableLayout {
  const { columns, separator, quote, trim, skipLines, comment } = source;
  return { columns, separator, quote, trim, skipLines, comment };
}

export async function loadFileDataset(config: FileDataConfig, options: LoadOptions): Promise<Dataset> {
  const at = (p: string) => (isAbsolute(p) ? p : resolve(options.baseDir, p));
  const bad = new BadRows(config.onBadRow);
  const missingTokens = new Set(config.missingValues);
  const isMissing = (raw: string | undefined): raw is undefined =>
    raw === undefined || missingTokens.has(raw);
  const readOptions = (phase: string, layout: TableLayout) => ({
    chunkBytes: options.readChunkBytes,
    signal: options.signal,
    layout,
    onFraction: options.onProgress && ((f: number) => options.onProgress?.(phase, f)),
  });

  const derived = new Map(config.derived.map((d) => [d.name, d]));
  const feature = (name: string): Feature => {
    const d = derived.get(name);
    return {
      name,
      column: d?.from ?? name,
      read: categoryReader(d),
      slots: slotsOf(d),
      categories: new Categories(),
    };
  };
  const features = [...config.features, ...config.joins.flatMap((j) => j.features)].map(feature);
  const slotOffset: number[] = [];
  let width = 0;
  for (const f of features) {
    slotOffset.push(width);
    width += f.slots;
  }
  /** Which feature each id slot of a row belongs to. */
  const slotFeature = Int32Array.from(features.flatMap((f, j) => new Array<number>(f.slots).fill(j)));

  /** Writes a feature's ids into `out` from `offset`: OOV for a missing value, else its items. */
  const encodeCategorical = (
    f: Feature,
    raw: string | undefined,
    out: Int32Array,
    offset: number,
    file: string,
    line: number,
  ) => {
    const keys = isMissing(raw) ? [] : f.read(raw);
    if (isUnreadable(keys)) throw new DataFileError(file, line, f.column, keys.reason);
    out[offset] = keys.length === 0 ? MISSING_ID : f.categories.provisional(keys[0]);
    for (let s = 1; s < f.slots; s++)
      out[offset + s] = s < keys.length ? f.categories.provisional(keys[s]) : EMPTY_SLOT;
  };
  /** A numeric value (log-transformed when asked); NaN for a missing one (the training mean later). */
  const encodeNumeric = (
    column: string,
    raw: string | undefined,
    log: boolean,
    file: string,
    line: number,
  ) => {
    if (isMissing(raw)) return Number.NaN;
    const x = parseNumber(raw);
    if (isUnreadable(x)) throw new DataFileError(file, line, column, x.reason);
    return log ? signedLog1p(x) : x;
  };
  const logTransformed = new Set(config.logNumeric);

  // Side tables first: they are small (one row per user or item) and kept as key -> values.
  const tables: SideTable[] = [];
  let firstJoinFeature = config.features.length;
  for (const join of config.joins) {
    const file = at(join.path);
    const own = features.slice(firstJoinFeature, firstJoinFeature + join.features.length);
    const columns = [...new Set([join.key, ...own.map((f) => f.column), ...join.numericFeatures])];
    const featureIdx = own.map((f) => columns.indexOf(f.column));
    const numericIdx = join.numericFeatures.map((c) => columns.indexOf(c));
    const tableWidth = own.reduce((n, f) => n + f.slots, 0);
    const table: SideTable = { categorical: new Map(), numeric: new Map() };
    const format = detectFormat(file, join.format);
    for await (const row of readTable(
      file,
      format,
      columns,
      readOptions(`join ${join.path}`, layoutOf(join)),
    )) {
      try {
        if (row.error !== undefined) throw new DataFileError(file, row.line, undefined, row.error);
        const key = row.values[0];
        if (isMissing(key)) throw new DataFileError(file, row.line, join.key, "missing key");
        if (table.categorical.has(key))
          throw new DataFileError(file, row.line, join.key, `duplicate key "${key}"`);
        const ids = new Int32Array(tableWidth);
        let offset = 0;
        own.forEach((f, j) => {
          encodeCategorical(f, row.values[featureIdx[j]], ids, offset, file, row.line);
          offset += f.slots;
        });
        const numeric = Float64Array.from(join.numericFeatures, (c, j) =>
          encodeNumeric(c, row.values[numericIdx[j]], logTransformed.has(c), file, row.line),
        );
        table.categorical.set(key, ids);
        table.numeric.set(key, numeric);
      } catch (e) {
        if (!(e instanceof DataFileError)) throw e;
        bad.report(e);
      }
    }
    tables.push(table);
    firstJoinFeature += join.features.length;
  }

  const numericNames = [...config.numericFeatures, ...config.joins.flatMap((j) => j.numericFeatures)];
  const taskNames = taskNamesOf(config);
  const n = numericNames.length;
  const k = config.labels.length;
  const userIds = new Map<string, number>();
  const builders: Record<SplitName, SplitBuilder> = {
    train: new SplitBuilder(),
    validation: new SplitBuilder(),
    test: new SplitBuilder(),
  };
  const joinMisses = config.joins.map(() => 0);
  const missingCounts = new Float64Array(features.length + n);
  let droppedRows = 0;

  // Raw columns read from the log, each once.
  const split = config.split;
  const logFeatures = features.slice(0, config.features.length);
  const labelColumns = config.labels.map(labelColumn);
  const logColumns = [
    ...new Set([
      ...logFeatures.map((f) => f.column),
      ...config.numericFeatures,
      ...labelColumns,
      ...(config.userColumn !== undefined ? [config.userColumn] : []),
      ...config.joins.map((j) => j.key),
      ...(split.by === "column" ? [split.column] : []),
    ]),
  ];
  const indexOf = (c: string) => logColumns.indexOf(c);
  const featureIdx = logFeatures.map((f) => indexOf(f.column));
  const numericIdx = config.numericFeatures.map(indexOf);
  const labelIdx = labelColumns.map(indexOf);
  const labelReaders = config.labels.map(labelReader);
  const userIdx = config.userColumn !== undefined ? indexOf(config.userColumn) : -1;
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
  const logLog = config.numericFeatures.map((c) => logTransformed.has(c));

  // Scratch for one row, committed only when the whole row is valid.
  const rowIds = new Int32Array(width);
  const rowNumeric = new Float64Array(n);
  const rowLabels = new Int32Array(k);
  const rowJoinMissed = new Uint8Array(config.joins.length);
  // Which join (or -1: the log) each feature and numeric column comes from; what a row whose
  // key is absent from a side table gets: OOV for each of its features, empty further slots.
  const joinOfFeature = [
    ...config.features.map(() => -1),
    ...config.joins.flatMap((j, t) => j.features.map(() => t)),
  ];
  const joinOfNumeric = [
    ...config.numericFeatures.map(() => -1),
    ...config.joins.flatMap((j, t) => j.numericFeatures.map(() => t)),
  ];
  const missedIds = config.joins.map((_, t) => {
    const own = features.filter((_, j) => joinOfFeature[j] === t);
    return Int32Array.from(
      own.flatMap((f) => [MISSING_ID, ...new Array<number>(f.slots - 1).fill(EMPTY_SLOT)]),
    );
  });

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
          logColumns[splitIdx],
          `value "${value}" is in none of the split lists`,
        );
      }
      splitName = found;
    } else splitName = target;
    logFeatures.forEach((f, j) => {
      encodeCategorical(f, v[featureIdx[j]], rowIds, slotOffset[j], file, row.line);
    });
    for (let j = 0; j < config.numericFeatures.length; j++)
      rowNumeric[j] = encodeNumeric(config.numericFeatures[j], v[numericIdx[j]], logLog[j], file, row.line);
    for (let t = 0; t < k; t++) {
      const raw = v[labelIdx[t]];
      if (isMissing(raw)) throw new DataFileError(file, row.line, labelColumns[t], "missing value");
      const label = labelReaders[t](raw);
      if (isUnreadable(label)) throw new DataFileError(file, row.line, labelColumns[t], label.reason);
      rowLabels[t] = label;
    }
    const user = userIdx >= 0 ? v[userIdx] : undefined;
    if (userIdx >= 0 && isMissing(user))
      throw new DataFileError(file, row.line, config.userColumn, "missing user id");
    let slot = slotOffset[config.features.length] ?? width;
    let nj = config.numericFeatures.length;
    for (let t = 0; t < tables.length; t++) {
      const key = v[joinKeyIdx[t]];
      const cats = isMissing(key) ? undefined : tables[t].categorical.get(key);
      const nums = isMissing(key) ? undefined : tables[t].numeric.get(key);
      rowJoinMissed[t] = cats === undefined ? 1 : 0;
      // An absent key is a fact about the side table, not a category: its features go to OOV.
      rowIds.set(cats ?? missedIds[t], slot);
      slot += missedIds[t].length;
      for (let j = 0; j < config.joins[t].numericFeatures.length; j++)
        rowNumeric[nj++] = nums ? nums[j] : Number.NaN;
    }

    const b = builders[splitName];
    const train = splitName === "train";
    for (let s = 0; s < width; s++) {
      const id = rowIds[s];
      b.categorical.push(id);
      if (train && id > 0) features[slotFeature[s]].categories.trainCounts.data[id]++;
    }
    // A missing value (not a join miss): OOV or NaN in a row whose table entry exists.
    features.forEach((_, j) => {
      const t = joinOfFeature[j];
      if (rowIds[slotOffset[j]] === MISSING_ID && (t < 0 || !rowJoinMissed[t])) missingCounts[j]++;
    });
    for (let j = 0; j < n; j++) {
      const t = joinOfNumeric[j];
      if (Number.isNaN(rowNumeric[j]) && (t < 0 || !rowJoinMissed[t])) missingCounts[features.length + j]++;
    }
    for (let t = 0; t < tables.length; t++) joinMisses[t] += rowJoinMissed[t];
    for (let j = 0; j < n; j++) b.numeric.push(rowNumeric[j]);
    for (let t = 0; t < k; t++) b.labels.push(rowLabels[t]);
    if (user !== undefined) {
      let uid = userIds.get(user);
      if (uid === undefined) {
        uid = userIds.size;
        userIds.set(user, uid);
      }
      b.users.push(uid);
    }
    b.rows++;
  };

  const logLayout = layoutOf(config);
  let ordinal = 0;
  const readLog = async (path: string, assign: (ordinal: number) => SplitName | "by-column") => {
    const file = at(path);
    const format = detectFormat(file, config.format);
    for await (const row of readTable(file, format, logColumns, readOptions(`read ${path}`, logLayout))) {
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

  // Split assignment hashes (seed, row ordinal, counted across the log's files): stable whatever
  // rows are skipped, and the same for a CSV and its JSON-lines twin.
  const paths = typeof config.path === "string" ? [config.path] : config.path;
  for (const path of paths) {
    if (split.by === "ratio")
      await readLog(path, (i) => {
        const u = hashUniform(split.seed, i);
        return u < split.test ? "test" : u < split.test + split.validation ? "validation" : "train";
      });
    else if (split.by === "files")
      await readLog(path, (i) => (hashUniform(split.seed, i) < split.validation ? "validation" : "train"));
    else await readLog(path, () => "by-column");
  }
  if (split.by === "files") {
    ordinal = 0;
    await readLog(split.testPath, () => "test");
  }

  if (builders.train.rows === 0)
    throw new Error(
      `data: no training rows in ${paths.map(at).join(", ")} (check the split settings and the bad-row count)`,
    );
  options.onProgress?.("encode", 0);

  // Vocabularies from the training rows: provisional id -> final id (0 when rarer than minCount).
  const finals = features.map((f) => f.categories.finalIds(config.minCount));
  const vocabularySizes = finals.map((f) => f.size);

  // Numeric standardisation from the training rows; missing values become the mean (0).
  const { mean, sd } = trainingMoments(builders.train.numeric.view(), n);

  const finish = (name: SplitName): Split => {
    const b = builders[name];
    const categorical = b.categorical.view().slice();
    for (let i = 0; i < categorical.length; i++) {
      const id = categorical[i];
      if (id !== EMPTY_SLOT) categorical[i] = finals[slotFeature[i % width]].map[id];
    }
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
      users: userIdx >= 0 ? b.users.view().slice() : null,
      featureCount: width,
      numericCount: n,
      taskCount: k,
    };
  };
  const train = finish("train");
  const validation = finish("validation");
  const test = finish("test");
  options.onProgress?.("encode", 1);

  const names = [...features.map((f) => f.name), ...numericNames];
  return {
    name: paths.join(", "),
    taskNames,
    featureNames: features.map((f) => f.name),
    featureSlots: features.map((f) => f.slots),
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
      missingValues: Object.fromEntries(
        names.flatMap((name, j) => (missingCounts[j] > 0 ? [[name, missingCounts[j]]] : [])),
      ),
      testOovRate: features.map((_, j) => oovRate(test, slotFeature, j)),
    },
  };
}

/** Mean and deviation of each numeric column over the training rows (missing values left out). */
function trainingMoments(values: Float64Array, n: number): { mean: Float64Array; sd: Float64Array } {
  const mean = new Float64Array(n);
  const sd = new Float64Array(n);
  const count = new Float64Array(n);
  const sum = new Float64Array(n);
  const sumSq = new Float64Array(n);
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
    // A constant column is only centred.
    sd[j] = variance > 1e-12 * Math.max(1, mean[j] ** 2) ? Math.sqrt(variance) : 1;
  }
  return { mean, sd };
}

/** Share of a feature's ids on a split that are the OOV bucket (every used slot of a multi-hot feature counts). */
function oovRate(split: Split, slotFeature: Int32Array, feature: number): number {
  const width = split.featureCount;
  let oov = 0;
  let used = 0;
  for (let s = 0; s < width; s++) {
    if (slotFeature[s] !== feature) continue;
    for (let r = 0; r < split.size; r++) {
      const id = split.categorical[r * width + s];
      if (id === EMPTY_SLOT) continue;
      used++;
      if (id === 0) oov++;
    }
  }
  return used ? oov / used : Number.NaN;
}
