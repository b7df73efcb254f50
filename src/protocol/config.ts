import { z } from "zod";

/**
 * The training configuration: one definition for the trainer (validation and defaults), the
 * editor (JSON Schema for `*.gradcraft.json`, generated at build time) and the `config` message.
 * Every field has a default, so a user's file holds only what differs from its preset.
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
    source: z.literal("synthetic"),
    rows: positiveInt.default(120_000).describe("Number of logged impressions to generate (all splits)."),
    users: positiveInt
      .default(2_000)
      .describe("Number of distinct users (vocabulary: this plus the OOV id 0)."),
    items: positiveInt.default(5_000).describe("Number of distinct items."),
    authors: positiveInt.default(300).describe("Number of distinct item authors."),
    contextVocabularies: z
      .array(positiveInt)
      .default([24, 7, 4, 10])
      .describe("Vocabulary sizes of the extra categorical context features (hour, weekday, device...)."),
    positiveRates: z
      .array(z.number().gt(0).lt(1))
      .length(SYNTHETIC_TASKS.length)
      .default([0.3, 0.2, 0.1, 0.03, 0.01, 0.01])
      .describe(
        "Target positive rates of effective_view, long_view, complete_view, like, follow, forward (intercepts are calibrated to hit them).",
      ),
    conflict: probability
      .default(0.5)
      .describe(
        "How strongly the drivers of the engagement tasks pull against those of the view tasks (0: shared drivers, 1: opposed).",
      ),
    signal: z
      .number()
      .min(0)
      .max(5)
      .default(1)
      .describe("Scale of the learnable part of every logit (0: labels are pure noise around the rates)."),
    popularitySkew: z
      .number()
      .min(0)
      .max(3)
      .default(0.8)
      .describe("Zipf exponent of item and author popularity; user activity uses half of it (0: uniform)."),
    seed: z.number().int().default(7).describe("Seed of the generator: same seed, same data."),
    validation: probability.default(0.1).describe("Share of rows in the validation split."),
    test: probability.default(0.1).describe("Share of rows in the test split."),
  })
  .refine((c) => c.validation + c.test < 1, {
    message: "validation + test must leave rows for training (their sum must be below 1)",
    path: ["test"],
  })
  .describe("The embedded synthetic feed-log generator.");

const RatioSplit = z.strictObject({
  by: z.literal("ratio"),
  validation: probability.default(0.1),
  test: probability.default(0.1),
  seed: z.number().int().default(7).describe("Seed of the hash that assigns rows to splits."),
});
const ColumnSplit = z.strictObject({
  by: z.literal("column"),
  column: z.string().describe("Column whose value names the split of each row."),
  train: z.array(z.string()).min(1).describe("Values of the split column that mean 'train'."),
  validation: z.array(z.string()).min(1),
  test: z.array(z.string()).min(1),
  other: z
    .enum(["bad-row", "drop"])
    .default("bad-row")
    .describe(
      "A row whose split value is in none of the lists: a bad row (see onBadRow), or dropped and counted.",
    ),
});
const FileSplit = z.strictObject({
  by: z.literal("files"),
  validation: probability.default(0.1).describe("Share of the main file's rows held out for validation."),
  testPath: z.string().describe("A second file, same columns, used as the test split."),
  seed: z.number().int().default(7),
});

const TableJoin = z.strictObject({
  path: z.string().describe("CSV/TSV/JSONL side table, optionally .gz (e.g. user or item features)."),
  format: z.enum(["auto", "csv", "tsv", "jsonl"]).default("auto"),
  key: z.string().describe("Column present in both the log and the side table."),
  features: z
    .array(z.string())
    .default([])
    .describe("Categorical columns of the side table to add as features."),
  numericFeatures: z
    .array(z.string())
    .default([])
    .describe("Numeric columns of the side table to add as numeric features (standardised)."),
});

export const FileDataConfig = z
  .strictObject({
    source: z.literal("file"),
    path: z
      .string()
      .describe("CSV, TSV or JSON-lines log (optionally .gz). Relative paths resolve from the config file."),
    format: z.enum(["auto", "csv", "tsv", "jsonl"]).default("auto"),
    features: z.array(z.string()).min(1).describe("Categorical feature columns."),
    numericFeatures: z.array(z.string()).default([]).describe("Numeric feature columns (standardised)."),
    logNumeric: z
      .array(z.string())
      .default([])
      .describe(
        "Numeric columns (of the log or a join) transformed by sign(x)·log(1+|x|) before standardising.",
      ),
    labels: z.array(z.string()).min(1).describe("Binary label columns, one task each."),
    taskNames: z
      .array(z.string())
      .optional()
      .describe("Display names of the tasks (default: the label columns)."),
    userColumn: z.string().describe("User id column, used for GAUC."),
    split: z
      .discriminatedUnion("by", [RatioSplit, ColumnSplit, FileSplit])
      .default({ by: "ratio", validation: 0.1, test: 0.1, seed: 7 }),
    joins: z.array(TableJoin).default([]),
    minCount: positiveInt
      .default(1)
      .describe("Categories seen fewer times in training go to the out-of-vocabulary bucket."),
    onBadRow: z
      .enum(["error", "skip"])
      .default("error")
      .describe("Stop at a bad row naming file, line and column, or skip and count it."),
  })
  .refine((c) => !c.taskNames || c.taskNames.length === c.labels.length, {
    message: "taskNames must have one name per label column",
    path: ["taskNames"],
  })
  .describe("The user's own interaction logs.");

export const DataConfig = z.discriminatedUnion("source", [SyntheticDataConfig, FileDataConfig]);

export const ModelConfig = z.strictObject({
  type: z.enum(["shared-bottom", "mmoe", "ple"]).default("ple"),
  embeddingDim: positiveInt.default(16),
  experts: z
    .array(positiveInt)
    .min(1)
    .default([256, 128, 64])
    .describe("Hidden sizes of each expert (the bottom, for Shared-Bottom)."),
  towers: z
    .array(positiveInt)
    .default([32, 16])
    .describe("Hidden sizes of each task tower (before its sigmoid output)."),
  activation: z.enum(["relu", "elu", "gelu", "tanh", "sigmoid"]).default("relu"),
  dropout: z.number().min(0).max(0.9).default(0.2),
  numExperts: positiveInt.default(7).describe("MMoE: number of shared experts."),
  levels: positiveInt.default(1).describe("PLE: number of CGC levels."),
  sharedExperts: positiveInt.default(1).describe("PLE: shared experts per level."),
  specificExperts: positiveInt.default(1).describe("PLE: task-specific experts per task and level."),
  deepfm: z
    .boolean()
    .default(false)
    .describe(
      "The official GradCraft code's DeepFM backbone: every task's tower also reads the FM interaction of the categorical embeddings, Σ over feature pairs of ⟨e_f, e_g⟩ (docs/architecture.md).",
    ),
});

/** How embedding tables are trained (docs/architecture.md, "Optimizer"). */
export const EMBEDDING_OPTIMIZERS = ["lazy-adam", "dense-adam"] as const;
export type EmbeddingOptimizer = (typeof EMBEDDING_OPTIMIZERS)[number];

export const TrainingSettings = z.strictObject({
  batchSize: positiveInt.default(2048),
  epochs: positiveInt.default(10).describe("Upper bound on passes over the training split."),
  maxSteps: positiveInt.optional().describe("Stop after this many steps, whatever the epoch."),
  learningRate: z.number().positive().max(1).default(1e-3),
  l2: z.number().min(0).default(1e-5),
  clipNorm: z.number().min(0).default(0).describe("Clip the global update norm to this value (0: off)."),
  evalEvery: positiveInt
    .default(200)
    .describe("Evaluate on validation every N steps (and at each epoch end)."),
  patience: positiveInt
    .default(10)
    .describe("Early stopping: evaluations without a better mean validation AUC."),
  gradientScope: z
    .enum(["params", "representation"])
    .default("params")
    .describe(
      "params: exact per-task gradients of all shared parameters (the paper). representation: gradients w.r.t. the shared representation (cheaper approximation).",
    ),
  embeddingOptimizer: z
    .enum(EMBEDDING_OPTIMIZERS)
    .default("lazy-adam")
    .describe(
      "lazy-adam: only the batch's embedding rows take an Adam step (and L2), so a step costs the same whatever the vocabularies. dense-adam: the official GradCraft code's recipe, an Adam step with L2 on every row of every table each step.",
    ),
  maxNonFiniteSteps: positiveInt
    .default(5)
    .describe("Stop the run after this many consecutive skipped non-finite steps."),
  checkpointEvery: z
    .number()
    .int()
    .min(0)
    .default(0)
    .describe("Checkpoint every N steps (0: only at evaluations that improve and at the end)."),
  seed: z.number().int().default(1),
});

export const StrategyChoice = z.strictObject({
  name: z.string().default("gradcraft").describe("Balancing strategy (see docs/strategies.md)."),
  params: z
    .record(z.string(), z.unknown())
    .default({})
    .describe("The strategy's parameters; missing ones take its defaults."),
});

export const BACKENDS = ["auto", "tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"] as const;

export const TrainingConfig = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().default("run").describe("Run name, used in the run folder's name."),
  preset: z
    .enum(["quick", "wechat-like", "kuairand"])
    .optional()
    .describe("Start from a preset; fields given here override it."),
  backend: z.enum(BACKENDS).default("auto"),
  data: DataConfig.default(() => SyntheticDataConfig.parse({ source: "synthetic" })),
  model: ModelConfig.default(() => ModelConfig.parse({})),
  training: TrainingSettings.default(() => TrainingSettings.parse({})),
  strategy: StrategyChoice.default(() => StrategyChoice.parse({})),
});

export type TrainingConfig = z.infer<typeof TrainingConfig>;
export type TrainingConfigInput = z.input<typeof TrainingConfig>;
export type DataConfig = z.infer<typeof DataConfig>;
export type SyntheticDataConfig = z.infer<typeof SyntheticDataConfig>;
export type FileDataConfig = z.infer<typeof FileDataConfig>;
export type ModelConfig = z.infer<typeof ModelConfig>;
export type TrainingSettings = z.infer<typeof TrainingSettings>;
export type Backend = (typeof BACKENDS)[number];
