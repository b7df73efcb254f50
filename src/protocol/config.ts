import { z } from "zod";
import { DataConfig, SyntheticDataConfig } from "./dataConfig";

/**
 * The training configuration: one definition for the trainer (validation and defaults), the
 * editor (JSON Schema for `*.gradcraft.json`, generated at build time) and the `config` message.
 * Every field has a default, so a user's file holds only what differs from its preset.
 *
 * Every field is described, and every numeric one names its unit (`.meta({ unit })`): the editor's
 * hover shows both, with the default (and each preset's value where it differs) appended by
 * scripts/gen-schema.mjs. A unit test fails on a field without them.
 */

const positiveInt = z.number().int().positive();

// The data block has its own module (sources, layouts, label rules, derived features).
export {
  COMPARISONS,
  DataConfig,
  DerivedFeature,
  FileDataConfig,
  LabelRule,
  labelColumn,
  SYNTHETIC_TASKS,
  SyntheticDataConfig,
  taskNamesOf,
} from "./dataConfig";

export const ModelConfig = z
  .strictObject({
    type: z
      .enum(["shared-bottom", "mmoe", "ple"])
      .default("ple")
      .describe(
        "Multi-task architecture: one shared bottom, MMoE (gated shared experts) or PLE (shared and task experts).",
      ),
    embeddingDim: positiveInt
      .default(16)
      .describe("Length of every categorical feature's embedding vector.")
      .meta({ unit: "values per embedding" }),
    experts: z
      .array(positiveInt)
      .min(1)
      .default([256, 128, 64])
      .describe("Hidden sizes of each expert (the bottom, for Shared-Bottom).")
      .meta({ unit: "units per layer" }),
    towers: z
      .array(positiveInt)
      .default([32, 16])
      .describe("Hidden sizes of each task tower (before its sigmoid output).")
      .meta({ unit: "units per layer" }),
    activation: z
      .enum(["relu", "elu", "gelu", "tanh", "sigmoid"])
      .default("relu")
      .describe("Activation of the hidden layers of experts and towers."),
    dropout: z
      .number()
      .min(0)
      .max(0.9)
      .default(0.2)
      .describe("Share of hidden units dropped at each training step (none at evaluation).")
      .meta({ unit: "probability, 0 to 0.9" }),
    numExperts: positiveInt.default(7).describe("MMoE: number of shared experts.").meta({ unit: "experts" }),
    levels: positiveInt.default(1).describe("PLE: number of CGC levels.").meta({ unit: "levels" }),
    sharedExperts: positiveInt
      .default(1)
      .describe("PLE: shared experts per level.")
      .meta({ unit: "experts per level" }),
    specificExperts: positiveInt
      .default(1)
      .describe("PLE: task-specific experts per task and level.")
      .meta({ unit: "experts per task and level" }),
    deepfm: z
      .boolean()
      .default(false)
      .describe(
        "The official GradCraft code's DeepFM backbone: every task's tower also reads the FM interaction of the categorical embeddings, Σ over feature pairs of ⟨e_f, e_g⟩ (docs/architecture.md).",
      ),
  })
  .describe("The network: architecture, embedding size, experts and towers.");

/** How embedding tables are trained (docs/architecture.md, "Optimizer"). */
export const EMBEDDING_OPTIMIZERS = ["lazy-adam", "dense-adam"] as const;
export type EmbeddingOptimizer = (typeof EMBEDDING_OPTIMIZERS)[number];

/**
 * The hyperparameters a host may change mid-run (`set-hyperparameters`), with their bounds: one
 * definition for the config file and the wire. Beyond them a run only diverges: an L2 of 1e39
 * overflows the Adam moments, a learning rate above 1 jumps past any minimum.
 */
export const liveHyperparameters = {
  learningRate: z
    .number()
    .positive()
    .max(1)
    .describe("Adam's step size, in (0, 1]; can be changed mid-run.")
    .meta({ unit: "step size (Adam), 0 to 1" }),
  l2: z
    .number()
    .min(0)
    .max(1)
    .describe(
      "Weight decay added to each update as l2 · w (torch's weight_decay), in [0, 1]; can be changed mid-run.",
    )
    .meta({ unit: "coefficient per step" }),
  clipNorm: z
    .number()
    .min(0)
    .max(1e6)
    .describe("Clip the global update norm to this value (0: off); at most 1e6.")
    .meta({ unit: "L2 norm of the update" }),
  evalEvery: positiveInt.max(1_000_000).meta({ unit: "steps" }),
};

export const TrainingSettings = z
  .strictObject({
    batchSize: positiveInt
      .default(2048)
      .describe(
        "Training examples in one step (one gradient per task over them); its upper bound is the memory preflight's, which names the estimate.",
      )
      .meta({ unit: "examples per step" }),
    epochs: positiveInt
      .max(100_000)
      .default(10)
      .describe("Upper bound on passes over the training split.")
      .meta({ unit: "passes over the training split" }),
    maxSteps: positiveInt
      .max(1_000_000_000)
      .optional()
      .describe(
        "Stop after this many steps, whatever the epoch. Default: none (epochs and early stopping decide).",
      )
      .meta({ unit: "steps" }),
    learningRate: liveHyperparameters.learningRate.default(1e-3),
    l2: liveHyperparameters.l2.default(1e-5),
    clipNorm: liveHyperparameters.clipNorm.default(0),
    evalEvery: liveHyperparameters.evalEvery
      .default(200)
      .describe("Evaluate on validation every N steps (and at each epoch end)."),
    patience: positiveInt
      .max(100_000)
      .default(10)
      .describe("Early stopping: evaluations without a better mean validation AUC.")
      .meta({ unit: "evaluations" }),
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
      .max(100_000)
      .default(5)
      .describe("Stop the run after this many consecutive skipped non-finite steps.")
      .meta({ unit: "steps" }),
    checkpointEvery: z
      .number()
      .int()
      .min(0)
      .max(1_000_000_000)
      .default(0)
      .describe("Also write checkpoints/last every N steps (0: only by time and at evaluations).")
      .meta({ unit: "steps" }),
    checkpointEverySeconds: z
      .number()
      .min(0)
      .max(86_400)
      .default(60)
      .describe(
        "Keep checkpoints/last at most this many seconds of training old (0: off); it is also written at every evaluation and at the end.",
      )
      .meta({ unit: "seconds of training" }),
    seed: z
      .number()
      .int()
      .min(-(2 ** 31))
      .max(2 ** 32 - 1)
      .default(1)
      .describe(
        "Seed of the weights' initialisation, the data order and dropout (taken modulo 2^32): same seed, same run.",
      )
      .meta({ unit: "integer seed" }),
  })
  .describe("Optimisation: batch size, learning rate, evaluation and early stopping.");

export const StrategyChoice = z
  .strictObject({
    name: z.string().default("gradcraft").describe("Balancing strategy (see docs/strategies.md)."),
    params: z
      .record(z.string(), z.unknown())
      .default({})
      .describe("The strategy's parameters; missing ones take its defaults."),
  })
  .describe("How the tasks' gradients are combined into one update, and with which parameters.");

/**
 * A trainer other than the built-in one, for instance a PyTorch script using the Python package
 * (docs/pytorch.md). It is started without a shell from the config's folder and must speak the
 * live protocol (docs/protocol.md) on stdout/stdin; it learns the rest from its environment.
 */
export const TrainerChoice = z.strictObject({
  command: z
    .array(z.string().min(1))
    .min(1)
    .describe(
      [
        'Program, then arguments, run without a shell from the config\'s folder, e.g. ["python3", "train.py"].',
        "A program named python, python3 or $" +
          "{python} runs the interpreter of the gradcraft.trainer.python setting.",
        "$" + "{config} and $" + "{runsFolder} in the arguments are substituted.",
        "The trainer reads GRADCRAFT_PROTOCOL=stdio, GRADCRAFT_CONFIG, GRADCRAFT_RUNS_FOLDER and GRADCRAFT_LISTEN from its environment (docs/pytorch.md).",
      ].join(" "),
    ),
});

export const BACKENDS = ["auto", "tensorflow-gpu", "tensorflow", "webgpu", "wasm", "cpu"] as const;

export const TrainingConfig = z.strictObject({
  $schema: z
    .string()
    .optional()
    .describe("The JSON Schema this file is checked against (editors only). Default: none."),
  name: z.string().default("run").describe("Config name, used in the run folder's name."),
  preset: z
    .enum(["quick", "wechat-like", "kuairand"])
    .optional()
    .describe("Start from a preset; fields given here override it. Default: none (the defaults shown here)."),
  backend: z
    .enum(BACKENDS)
    .default("auto")
    .describe(
      "Compute backend; auto: the fastest installed (CUDA, native TensorFlow, WebGPU, WebAssembly, then JavaScript).",
    ),
  threads: z
    .union([z.literal("auto"), positiveInt], { error: '"auto" or a whole number of threads (at least 1)' })
    .default("auto")
    .describe(
      "Threads that share each training step on the wasm and cpu backends (each takes a slice of the batch; docs/architecture.md). auto: every core; a batch is split only into slices of at least 256 examples.",
    ),
  data: DataConfig.default(() => SyntheticDataConfig.parse({ source: "synthetic" })),
  model: ModelConfig.default(() => ModelConfig.parse({})),
  training: TrainingSettings.default(() => TrainingSettings.parse({})),
  strategy: StrategyChoice.default(() => StrategyChoice.parse({})),
  trainer: TrainerChoice.optional().describe(
    "Run this config with another trainer (a PyTorch script, say) instead of the built-in one. Its own code defines the data and the model; the strategy and the training settings a PyTorch Studio reads (learningRate, l2, clipNorm, evalEvery, maxSteps) still apply.",
  ),
});

export type TrainingConfig = z.infer<typeof TrainingConfig>;
export type TrainingConfigInput = z.input<typeof TrainingConfig>;
export type ModelConfig = z.infer<typeof ModelConfig>;
export type TrainingSettings = z.infer<typeof TrainingSettings>;
export type Backend = (typeof BACKENDS)[number];
export type TrainerChoice = z.infer<typeof TrainerChoice>;
