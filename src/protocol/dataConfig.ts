import { z } from "zod";
import { didYouMean } from "./didYouMean";

/**
 * The `data` block of the training config (docs/data.md): the embedded synthetic generator, or
 * the user's own files as they come. Rules that involve several fields (names that must exist,
 * derived features that must be used) are checked here, before any file is opened, so the editor
 * shows them as the user types and the trainer refuses them with the field's path.
 *
 * Over 500 lines on purpose: every field of the data block with its description and unit (the
 * editor's hover text), and the cross-field rules beside the fields they check.
 */

const positiveInt = z.number().int().positive();
const probability = z.number().min(0).max(1);

/** The paper's six tasks (GradCraft, KDD 2024, WeChat Channels), in the order the generator emits them. */
export const SYNTHETIC_TASKS = [
  "effective_view",
  "long_view",
  "complete_view",
  "like",
  "follow",
  "forward",
] as const;

export const SyntheticDataConfig = z
  .strictObject({
    source: z.literal("synthetic").describe("Generate a synthetic feed log (no files needed)."),
    rows: positiveInt
      .default(120_000)
      .describe("Number of logged impressions to generate (all splits).")
      .meta({ unit: "rows" }),
    users: positiveInt
      .default(2_000)
      .describe("Number of distinct users (vocabulary: this plus the OOV id 0).")
      .meta({ unit: "users" }),
    items: positiveInt.default(5_000).describe("Number of distinct items.").meta({ unit: "items" }),
    authors: positiveInt.default(300).describe("Number of distinct item authors.").meta({ unit: "authors" }),
    contextVocabularies: z
      .array(positiveInt)
      .default([24, 7, 4, 10])
      .describe("Vocabulary sizes of the extra categorical context features (hour, weekday, device...).")
      .meta({ unit: "distinct values per feature" }),
    positiveRates: z
      .array(z.number().gt(0).lt(1))
      .length(SYNTHETIC_TASKS.length)
      .default([0.3, 0.2, 0.1, 0.03, 0.01, 0.01])
      .describe(
        "Target positive rates of effective_view, long_view, complete_view, like, follow, forward (intercepts are calibrated to hit them).",
      )
      .meta({ unit: "share of impressions, per task" }),
    conflict: probability
      .default(0.5)
      .describe(
        "How strongly the drivers of the engagement tasks pull against those of the view tasks (0: shared drivers, 1: opposed).",
      )
      .meta({ unit: "fraction, 0 to 1" }),
    signal: z
      .number()
      .min(0)
      .max(5)
      .default(1)
      .describe("Scale of the learnable part of every logit (0: labels are pure noise around the rates).")
      .meta({ unit: "logit scale, 0 to 5" }),
    popularitySkew: z
      .number()
      .min(0)
      .max(3)
      .default(0.8)
      .describe("Zipf exponent of item and author popularity; user activity uses half of it (0: uniform).")
      .meta({ unit: "Zipf exponent, 0 to 3" }),
    seed: z
      .number()
      .int()
      .default(7)
      .describe("Seed of the generator: same seed, same data.")
      .meta({ unit: "integer seed" }),
    validation: probability
      .default(0.1)
      .describe("Share of rows in the validation split.")
      .meta({ unit: "fraction of rows, 0 to 1" }),
    test: probability
      .default(0.1)
      .describe("Share of rows in the test split.")
      .meta({ unit: "fraction of rows, 0 to 1" }),
  })
  .refine((c) => c.validation + c.test < 1, {
    message: "validation + test must leave rows for training (their sum must be below 1)",
    path: ["test"],
  })
  .describe("The embedded synthetic feed-log generator.");

const RatioSplit = z
  .strictObject({
    by: z.literal("ratio").describe("Rows are assigned to splits by a seeded hash, in the given shares."),
    validation: probability
      .default(0.1)
      .describe("Share of rows held out for validation.")
      .meta({ unit: "fraction of rows, 0 to 1" }),
    test: probability
      .default(0.1)
      .describe("Share of rows held out for the final test.")
      .meta({ unit: "fraction of rows, 0 to 1" }),
    seed: z
      .number()
      .int()
      .default(7)
      .describe("Seed of the hash that assigns rows to splits.")
      .meta({ unit: "integer seed" }),
  })
  .describe("Split the log by shares of its rows.");
const ColumnSplit = z.strictObject({
  by: z.literal("column").describe("A column of the log names each row's split."),
  column: z.string().describe("Column whose value names the split of each row."),
  train: z.array(z.string()).min(1).describe("Values of the split column that mean 'train'."),
  validation: z.array(z.string()).min(1).describe("Values of the split column that mean 'validation'."),
  test: z.array(z.string()).min(1).describe("Values of the split column that mean 'test'."),
  other: z
    .enum(["bad-row", "drop"])
    .default("bad-row")
    .describe(
      "A row whose split value is in none of the lists: a bad row (see onBadRow), or dropped and counted.",
    ),
});
const FileSplit = z.strictObject({
  by: z.literal("files").describe("The test split is a second file; validation is held out of the main one."),
  validation: probability
    .default(0.1)
    .describe("Share of the main file's rows held out for validation.")
    .meta({ unit: "fraction of rows, 0 to 1" }),
  testPath: z.string().describe("A second file, same columns, used as the test split."),
  seed: z
    .number()
    .int()
    .default(7)
    .describe("Seed of the hash that picks the validation rows.")
    .meta({ unit: "integer seed" }),
});

const FORMATS = ["auto", "csv", "tsv", "jsonl"] as const;

/** How a delimited file is laid out, for files without a header or with their own conventions. */
const layout = {
  columns: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe(
      "The names of the file's columns, in order, for a file without a header line: its first line (after skipLines) is then a row. Default: none (the first line is the header).",
    ),
  separator: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Field separator of a CSV file (UCI files use ", "). TSV files always use a tab. Default: ",".',
    ),
  quote: z
    .string()
    .max(1)
    .optional()
    .describe(
      'Quote character of CSV fields ("" for none; Weka\'s ARFF files quote with "\'"). Default: "\\"".',
    ),
  trim: z
    .boolean()
    .default(false)
    .describe("Strip spaces and tabs around every value (UCI files put a space after each separator)."),
  skipLines: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Lines to skip before the header or the first row (a preamble).")
    .meta({ unit: "lines" }),
  comment: z
    .string()
    .length(1)
    .optional()
    .describe(
      'Lines starting with this character are skipped wherever they are (e.g. "%" in ARFF files). Default: none.',
    ),
};

const TableJoin = z.strictObject({
  path: z.string().describe("CSV/TSV/JSONL side table, optionally .gz (e.g. user or item features)."),
  format: z.enum(FORMATS).default("auto").describe("File format; auto: from the file name's extension."),
  ...layout,
  key: z.string().describe("Column present in both the log and the side table."),
  features: z
    .array(z.string())
    .default([])
    .describe("Categorical columns of the side table (or derived features of them) to add as features."),
  numericFeatures: z
    .array(z.string())
    .default([])
    .describe("Numeric columns of the side table to add as numeric features (standardised)."),
});

export const COMPARISONS = [">", ">=", "<", "<=", "==", "!="] as const;

export const LabelRule = z
  .strictObject({
    column: z.string().describe("The column the label is read from."),
    name: z.string().min(1).optional().describe("Task name. Default: the column."),
    positive: z
      .array(z.string())
      .min(1)
      .optional()
      .describe(
        'Values that make the label 1 (compared after trimming spaces), e.g. ["50000+."]. Default: none (a comparison instead).',
      ),
    negative: z
      .array(z.string())
      .min(1)
      .optional()
      .describe(
        "With positive: the values that make it 0; any other value is then a bad row. Without it, every value not in positive is 0. Default: none.",
      ),
    op: z
      .enum(COMPARISONS)
      .optional()
      .describe(
        "A numeric comparison: the label is 1 when `column op value` holds, e.g. play_time_ms > 0. Default: none (positive values instead).",
      ),
    value: z
      .number()
      .optional()
      .describe("The number the column is compared with. Default: none (with op, required).")
      .meta({ unit: "the column's own unit" }),
  })
  .superRefine((rule, ctx) => {
    const byValues = rule.positive !== undefined;
    const byComparison = rule.op !== undefined || rule.value !== undefined;
    if (byValues === byComparison)
      ctx.addIssue({
        code: "custom",
        path: [],
        message: byValues
          ? "give either positive values or a comparison (op and value), not both"
          : "give positive (a set of values) or op and value (a numeric comparison)",
      });
    else if (byComparison && rule.op === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["op"],
        message: `op is missing (one of ${COMPARISONS.join(" ")})`,
      });
    else if (byComparison && rule.value === undefined)
      ctx.addIssue({
        code: "custom",
        path: ["value"],
        message: "value is missing (the number to compare with)",
      });
    if (rule.negative !== undefined && !byValues)
      ctx.addIssue({ code: "custom", path: ["negative"], message: "negative goes with positive" });
    const both = rule.negative?.find((v) => rule.positive?.includes(v));
    if (both !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["negative"],
        message: `"${both}" is both positive and negative`,
      });
  })
  .describe("A label computed from a column: a set of positive values, or a numeric comparison.");
export type LabelRule = z.infer<typeof LabelRule>;

const derivedBase = {
  name: z.string().min(1).describe("The new column's name: list it in features (or a join's features)."),
  from: z.string().describe("The column it is computed from, in the table whose features list it."),
};
const listSeparator = z.string().min(1).default(",").describe("Separator between a list's items.");

export const DerivedFeature = z
  .discriminatedUnion("kind", [
    z.strictObject({
      ...derivedBase,
      kind: z.literal("divide").describe("floor(x / by) of a number, as a category (hour = hourmin ÷ 100)."),
      by: z.number().positive().describe("The divisor.").meta({ unit: "the column's own unit" }),
    }),
    z.strictObject({
      ...derivedBase,
      kind: z
        .literal("bucket")
        .describe("The bucket of a number between increasing edges, as a category (age bands)."),
      edges: z
        .array(z.number())
        .min(1)
        .describe(
          "Increasing bucket edges: below edges[0], then [edges[i-1], edges[i]), then from the last on.",
        )
        .meta({ unit: "the column's own unit" }),
    }),
    z.strictObject({
      ...derivedBase,
      kind: z
        .literal("first-item")
        .describe('The first item of a list column ("11,28" -> "11"), as a category.'),
      separator: listSeparator,
    }),
    z.strictObject({
      ...derivedBase,
      kind: z
        .literal("multi-hot")
        .describe("Every item of a list column: one embedding per item, averaged (mean pooling)."),
      separator: listSeparator,
      maxItems: z
        .number()
        .int()
        .min(1)
        .max(64)
        .default(8)
        .describe("Items kept per row (the first ones); each takes one id slot per row.")
        .meta({ unit: "items" }),
    }),
  ])
  .describe("A categorical feature computed from a column while the file streams.");
export type DerivedFeature = z.infer<typeof DerivedFeature>;

export const FileDataConfig = z
  .strictObject({
    source: z.literal("file").describe("Read the user's own log files."),
    path: z
      .union([z.string(), z.array(z.string()).min(1)])
      .describe(
        "CSV, TSV or JSON-lines log (optionally .gz), or a list of such files with the same columns read in order as one log. Relative paths resolve from the config file.",
      ),
    format: z.enum(FORMATS).default("auto").describe("File format; auto: from the file name's extension."),
    ...layout,
    missingValues: z
      .array(z.string())
      .default([])
      .describe(
        'Values that mean "missing" (e.g. "?", ""): a categorical feature gets the out-of-vocabulary bucket, a numeric one the training mean; counted in stats.missingValues. A missing label is a bad row.',
      ),
    features: z
      .array(z.string())
      .min(1)
      .describe("Categorical feature columns (or derived features of the log's columns)."),
    numericFeatures: z.array(z.string()).default([]).describe("Numeric feature columns (standardised)."),
    logNumeric: z
      .array(z.string())
      .default([])
      .describe(
        "Numeric columns (of the log or a join) transformed by sign(x)·log(1+|x|) before standardising.",
      ),
    derived: z
      .array(DerivedFeature)
      .default([])
      .describe("Categorical features computed from a column while streaming: list each in features."),
    labels: z
      .array(z.union([z.string(), LabelRule]))
      .min(1)
      .describe("One task each: a 0/1 column (0/1, true/false), or a rule on a column."),
    taskNames: z
      .array(z.string())
      .optional()
      .describe("Display names of the tasks. Default: each label's name, or its column."),
    userColumn: z
      .string()
      .optional()
      .describe(
        "User id column, grouping rows for GAUC. Default: none (GAUC is then reported as not applicable).",
      ),
    split: z
      .discriminatedUnion("by", [RatioSplit, ColumnSplit, FileSplit])
      .default({ by: "ratio", validation: 0.1, test: 0.1, seed: 7 })
      .describe("How rows are divided into training, validation and test splits."),
    joins: z
      .array(TableJoin)
      .default([])
      .describe("Side tables joined to the log by a key column (user or item features)."),
    minCount: positiveInt
      .default(1)
      .describe("Categories seen fewer times in training go to the out-of-vocabulary bucket.")
      .meta({ unit: "occurrences" }),
    onBadRow: z
      .enum(["error", "skip"])
      .default("error")
      .describe("Stop at a bad row naming file, line and column, or skip and count it."),
  })
  .superRefine(
    (c, ctx) => {
      for (const { path, message } of fileDataProblems(c)) ctx.addIssue({ code: "custom", path, message });
    },
    // Cross-field rules only once every field reads right: a misspelt field is reported alone,
    // not again as the empty list it leaves behind.
    { when: (payload) => payload.issues.length === 0 },
  )
  .describe("The user's own interaction logs.");

export const DataConfig = z
  .discriminatedUnion("source", [SyntheticDataConfig, FileDataConfig])
  .describe("Where the training rows come from: the synthetic generator or log files.");

export type DataConfig = z.infer<typeof DataConfig>;
export type SyntheticDataConfig = z.infer<typeof SyntheticDataConfig>;
export type FileDataConfig = z.infer<typeof FileDataConfig>;
export type TableJoin = z.infer<typeof TableJoin>;

/** The label's column, whether it is a plain 0/1 column or a rule. */
export function labelColumn(label: string | LabelRule): string {
  return typeof label === "string" ? label : label.column;
}

/** The task names: taskNames, else each rule's name, else the label's column. */
export function taskNamesOf(c: Pick<FileDataConfig, "labels" | "taskNames">): string[] {
  return c.taskNames ?? c.labels.map((l) => (typeof l === "string" ? l : (l.name ?? l.column)));
}

type Problem = { path: (string | number)[]; message: string };

/** Where each raw column a table reads comes from in the config, for "is it in the file?" checks. */
export interface ColumnUse {
  readonly column: string;
  readonly path: (string | number)[];
}

/**
 * The raw columns the log (or join `join`) reads: features that are not derived, the derived
 * features' sources, numeric features, label columns, the user and split columns, join keys.
 */
export function columnsRead(c: FileDataConfig, join?: number): ColumnUse[] {
  const derived = new Map(c.derived.map((d, i) => [d.name, { d, i }]));
  const uses: ColumnUse[] = [];
  const features = join === undefined ? c.features : c.joins[join].features;
  const base = join === undefined ? [] : ["joins", join];
  features.forEach((name, i) => {
    const d = derived.get(name);
    uses.push(
      d
        ? { column: d.d.from, path: ["derived", d.i, "from"] }
        : { column: name, path: [...base, "features", i] },
    );
  });
  const numeric = join === undefined ? c.numericFeatures : c.joins[join].numericFeatures;
  numeric.forEach((name, i) => {
    uses.push({ column: name, path: [...base, "numericFeatures", i] });
  });
  if (join !== undefined) return [{ column: c.joins[join].key, path: ["joins", join, "key"] }, ...uses];
  c.labels.forEach((l, i) => {
    uses.push({
      column: labelColumn(l),
      path: typeof l === "string" ? ["labels", i] : ["labels", i, "column"],
    });
  });
  if (c.userColumn !== undefined) uses.push({ column: c.userColumn, path: ["userColumn"] });
  if (c.split.by === "column") uses.push({ column: c.split.column, path: ["split", "column"] });
  c.joins.forEach((j, i) => {
    uses.push({ column: j.key, path: ["joins", i, "key"] });
  });
  return uses;
}

/** The cross-field rules of a file data block, each with the path of the field to fix. */
export function fileDataProblems(c: FileDataConfig): Problem[] {
  const problems: Problem[] = [];
  const add = (path: (string | number)[], message: string) => problems.push({ path, message });
  const tasks = taskNamesOf(c);
  if (c.taskNames && c.taskNames.length !== c.labels.length)
    add(["taskNames"], "taskNames must have one name per label column");
  else
    tasks.forEach((name, i) => {
      if (tasks.indexOf(name) !== i)
        add(
          c.taskNames ? ["taskNames", i] : ["labels", i],
          `task "${name}" appears twice: give each task its own name`,
        );
    });
  if (c.split.by === "ratio" && c.split.validation + c.split.test >= 1)
    add(["split", "test"], "validation + test must leave rows for training (their sum must be below 1)");

  // Feature names: once each, across the log and the joins.
  const named: Array<[string, (string | number)[]]> = [
    ...c.features.map((n, i): [string, (string | number)[]] => [n, ["features", i]]),
    ...c.numericFeatures.map((n, i): [string, (string | number)[]] => [n, ["numericFeatures", i]]),
    ...c.joins.flatMap((j, ji) => [
      ...j.features.map((n, i): [string, (string | number)[]] => [n, ["joins", ji, "features", i]]),
      ...j.numericFeatures.map((n, i): [string, (string | number)[]] => [
        n,
        ["joins", ji, "numericFeatures", i],
      ]),
    ]),
  ];
  const seen = new Set<string>();
  for (const [name, path] of named) {
    if (seen.has(name)) add(path, `feature "${name}" is listed twice (features, numericFeatures, joins)`);
    seen.add(name);
  }
  const numeric = new Set([...c.numericFeatures, ...c.joins.flatMap((j) => j.numericFeatures)]);
  c.logNumeric.forEach((name, i) => {
    if (!numeric.has(name))
      add(
        ["logNumeric", i],
        `"${name}" is not a numeric feature (numericFeatures or a join's numericFeatures)`,
      );
  });
  c.joins.forEach((j, i) => {
    if (j.features.length + j.numericFeatures.length === 0)
      add(["joins", i], `give features or numericFeatures to take from ${j.path}`);
  });

  // Derived features: unique names, computed from a real column, listed where they are used.
  const derivedNames = new Set<string>();
  const categorical = new Set([...c.features, ...c.joins.flatMap((j) => j.features)]);
  c.derived.forEach((d, i) => {
    if (derivedNames.has(d.name))
      add(["derived", i, "name"], `derived feature "${d.name}" is declared twice`);
    derivedNames.add(d.name);
    if (numeric.has(d.name))
      add(["derived", i, "name"], `"${d.name}" is categorical: list it in features, not numericFeatures`);
    else if (!categorical.has(d.name))
      add(["derived", i, "name"], `"${d.name}" is not used: list it in features or a join's features`);
    if (d.kind === "bucket")
      d.edges.forEach((edge, e) => {
        if (e > 0 && !(edge > d.edges[e - 1]))
          add(["derived", i, "edges", e], `edges must increase: ${edge} after ${d.edges[e - 1]}`);
      });
  });
  c.derived.forEach((d, i) => {
    if (derivedNames.has(d.from))
      add(["derived", i, "from"], `"${d.from}" is itself derived: compute from a column of the file`);
  });

  // A label must not be visible to the model.
  const inputs = new Set([...categorical, ...numeric, ...(c.userColumn !== undefined ? [c.userColumn] : [])]);
  const sources = new Set(c.derived.filter((d) => categorical.has(d.name)).map((d) => d.from));
  c.labels.forEach((l, i) => {
    const column = labelColumn(l);
    if (inputs.has(column) || sources.has(column))
      add(
        typeof l === "string" ? ["labels", i] : ["labels", i, "column"],
        `label "${column}" is also used as a feature or the user column`,
      );
  });

  // Files without a header: every column read must be one of the names given.
  const checkColumns = (
    given: readonly string[] | undefined,
    uses: ColumnUse[],
    where: (string | number)[],
  ) => {
    if (given === undefined) return;
    given.forEach((name, i) => {
      if (given.indexOf(name) !== i) add([...where, "columns", i], `column "${name}" is named twice`);
      if (derivedNames.has(name))
        add([...where, "columns", i], `"${name}" is both a column of the file and a derived feature`);
    });
    for (const use of uses)
      if (!given.includes(use.column)) {
        const near = didYouMean(use.column, given);
        add(
          use.path,
          `"${use.column}" is not one of the file's columns${near !== undefined ? `; did you mean "${near}"?` : ` (${given.join(", ")})`}`,
        );
      }
  };
  checkColumns(c.columns, columnsRead(c), []);
  c.joins.forEach((j, i) => {
    checkColumns(j.columns, columnsRead(c, i), ["joins", i]);
  });
  return problems;
}
