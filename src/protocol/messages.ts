import { z } from "zod";
import { liveHyperparameters, TrainingConfig } from "./config";

/**
 * The live link's messages (docs/protocol.md), each defined once: the zod schema gives the
 * runtime validation, the TypeScript type (z.infer) and the documentation table
 * (docs/protocol.md). Every message is one JSON object with `v` (protocol version) and `type`.
 *
 * Version rules (docs/protocol.md, "Versions"), applied here and nowhere else: `v` is
 * "MAJOR.MINOR". A reader accepts the same major with any minor. Fields it does not know are
 * dropped before the message reaches the application and named in `droppedFields` (the stream
 * reader notes each once); types it does not know are skipped ("unknown-type", noted once per
 * type). A different major is refused ("version"), never guessed at; the link ends there.
 *
 * Over 500 lines on purpose: it is the whole wire contract, one schema per message and command
 * with its field docs, read top to bottom beside docs/protocol.md; splitting it would scatter the
 * contract that this file exists to keep in one place.
 */

export const PROTOCOL_MAJOR = 1;
export const PROTOCOL_MINOR = 1;
export const PROTOCOL_VERSION = `${PROTOCOL_MAJOR}.${PROTOCOL_MINOR}`;

// ---------------------------------------------------------------------------------------------
// Shared pieces

const version = z.string().describe('Protocol version "MAJOR.MINOR" of the writer, e.g. "1.0".');
const stepNumber = z.number().int().min(0).describe("Training step (1-based; 0 before the first step).");
const finite = z.number();
const nonNegative = z.number().min(0);
const vector = z.array(finite);
/** null where a metric is undefined (e.g. AUC of a task with one class in the split). */
const metric = z.number().nullable();

export const MetricSet = z.object({
  auc: metric.describe("Area under the ROC curve; null when the split has one class."),
  gauc: metric.describe(
    "Per-user AUC weighted by the user's sample count, users with one class skipped; null when no user qualifies.",
  ),
  logloss: metric.describe("Mean binary cross-entropy (natural log)."),
});
export type MetricSet = z.infer<typeof MetricSet>;

// Task first: a message replays with its keys in the order the trainer wrote them.
export const TaskMetrics = z.object({
  task: z.string().describe("Task name, as in `hello.tasks`."),
  ...MetricSet.shape,
  error: z
    .string()
    .optional()
    .describe("Why this task has no metrics, e.g. predictions that are NaN (since 1.1)."),
});
export type TaskMetrics = z.infer<typeof TaskMetrics>;

export const SPLITS = ["train", "validation", "test"] as const;
export const Split = z.enum(SPLITS);
export type Split = z.infer<typeof Split>;

export const SplitMetrics = z.object({
  tasks: z.array(TaskMetrics).describe("One entry per task, in `hello.tasks` order."),
  mean: MetricSet.describe("Means over tasks (tasks with null skipped)."),
  gaucApplicable: z
    .literal(false)
    .optional()
    .describe(
      "false when the data has no user column: GAUC is not applicable and every gauc is null (show it as n/a, not as a missing value). Absent: GAUC applies.",
    ),
});
export type SplitMetrics = z.infer<typeof SplitMetrics>;

/**
 * How a run ended. "interrupted" (since 1.1): a signal or the loss of its host stopped it
 * gracefully, checkpoint written, resumable.
 */
export const DONE_REASONS = ["completed", "stopped", "early-stopped", "failed", "interrupted"] as const;

/** The run's result table: `done.summary` and the run folder's summary.json. */
export const RunSummary = z.object({
  reason: z.enum(DONE_REASONS).optional().describe("How the run ended, as `done.reason` (since 1.1)."),
  interruptedBy: z
    .string()
    .optional()
    .describe('What interrupted the run: "SIGINT", "SIGTERM", "SIGHUP" or "host-lost" (since 1.1).'),
  steps: stepNumber.describe("Steps trained."),
  epochs: nonNegative.optional().describe("Epochs trained (fractional when stopped mid-epoch)."),
  wallMs: nonNegative.describe("Wall time of the run in milliseconds."),
  bestStep: stepNumber.optional().describe("Step of the best mean validation AUC (the weights kept)."),
  strategy: z.string().optional().describe("Strategy in use at the end."),
  splits: z
    .object({
      train: SplitMetrics.optional(),
      validation: SplitMetrics.optional(),
      test: SplitMetrics.optional(),
    })
    .describe("Metrics per split, of the weights kept."),
});
export type RunSummary = z.infer<typeof RunSummary>;

export const StrategyInfo = z.object({
  name: z.string().describe('Identifier used in commands, e.g. "gradcraft".'),
  title: z.string(),
  summary: z.string().describe("One line for pickers."),
  citation: z.string().optional(),
  paramsSchema: z
    .record(z.string(), z.unknown())
    .describe("JSON Schema (draft 2020-12) of the strategy's parameters."),
  defaults: z.record(z.string(), z.unknown()).describe("The parameters' default values."),
});
export type StrategyInfo = z.infer<typeof StrategyInfo>;

function message<T extends string, S extends z.ZodRawShape>(type: T, shape: S, description: string) {
  return z.object({ v: version, type: z.literal(type), ...shape }).describe(description);
}

// ---------------------------------------------------------------------------------------------
// Trainer → host

export const HelloMessage = message(
  "hello",
  {
    trainer: z.object({ name: z.string(), version: z.string() }).describe("The trainer program."),
    backend: z
      .object({
        name: z.string().describe('Backend in use, e.g. "wasm", "tensorflow-gpu", "cpu".'),
        reason: z.string().describe("Why the faster backends were not taken, in one line."),
        threads: z
          .number()
          .int()
          .positive()
          .optional()
          .describe("Threads that share each training step (each takes a slice of the batch)."),
      })
      .describe("The compute backend."),
    tasks: z.array(z.string()).min(1).describe("Task names; every per-task array follows this order."),
    strategies: z.array(StrategyInfo).describe("Strategies the trainer can switch to."),
    runDir: z.string().nullable().describe("Absolute path of the run folder (null when not recording)."),
    startedAt: z.string().describe("Start time, ISO 8601 UTC."),
    pid: z.number().int().optional().describe("Process id of the trainer."),
    resumedFrom: z
      .object({ runDir: z.string(), step: stepNumber })
      .optional()
      .describe("Set when the run resumed from a checkpoint."),
  },
  "First message of every run: who is training what, and with which choices.",
);

export const ConfigMessage = message(
  "config",
  { config: TrainingConfig.describe("The resolved training config (defaults and preset applied).") },
  "The resolved configuration, sent once after hello.",
);

export const ProjectionStatsSchema = z.object({
  conflictSetSize: z.array(z.number().int().min(0)).describe("Per task: tasks its gradient conflicted with."),
  correctionNorm: z.array(nonNegative).describe("Per task: norm of the correction the projection added."),
  magnitudeScale: z.array(nonNegative).describe("Per task: magnitude factor applied before projecting."),
});

export const StepMessage = message(
  "step",
  {
    step: stepNumber,
    epoch: nonNegative.describe("Epoch, 0-based; fractional part = progress within the epoch."),
    wallMs: nonNegative.describe("Milliseconds since the run started."),
    losses: vector.describe("Per task loss of this batch (before any weighting)."),
    norms: z.array(nonNegative).describe("Per task ‖g_t‖ on the shared parameters."),
    cosines: vector.describe("K×K cosines cos(g_i, g_j), row-major."),
    weights: vector.describe("α: the shared update is Σ α_t g_t."),
    towerWeights: vector
      .optional()
      .describe("Scale of each task's gradient on its own tower (absent: all 1)."),
    projection: ProjectionStatsSchema.optional().describe("Projection methods only."),
    conflictingPairs: z.number().int().min(0).describe("Pairs i<j with g_i·g_j < 0."),
    updateNorm: nonNegative.describe("‖u‖ of the shared update."),
    updateCosines: vector.describe("Per task cos(u, g_t)."),
    conflictsWithUpdate: z.boolean().describe("Some non-zero task gradient has a negative dot with u."),
    flags: z.array(z.string()).default([]).describe('Degenerate situations, e.g. "zero-gradient".'),
    strategy: z.string().describe("Strategy that produced this step's weights."),
    learningRate: nonNegative,
    stepTimeMs: nonNegative.describe("Duration of this training step in milliseconds."),
    coalesced: z
      .number()
      .int()
      .min(1)
      .optional()
      .describe("Live stream only: step messages dropped before this one for a slow reader."),
  },
  "One training step's diagnostics. The event log keeps every step.",
).superRefine((m, ctx) => {
  const k = m.losses.length;
  const perTask = ["norms", "weights", "updateCosines"] as const;
  for (const key of perTask)
    if (m[key].length !== k)
      ctx.addIssue({ code: "custom", path: [key], message: `expected ${k} entries (one per task)` });
  if (m.towerWeights && m.towerWeights.length !== k)
    ctx.addIssue({ code: "custom", path: ["towerWeights"], message: `expected ${k} entries (one per task)` });
  if (m.cosines.length !== k * k)
    ctx.addIssue({
      code: "custom",
      path: ["cosines"],
      message: `expected ${k * k} entries (K×K, row-major)`,
    });
});

export const EvalMessage = message(
  "eval",
  {
    split: Split,
    step: stepNumber.describe("Step after which the model was evaluated."),
    epoch: nonNegative.optional(),
    tasks: z.array(TaskMetrics),
    mean: MetricSet,
    gaucApplicable: SplitMetrics.shape.gaucApplicable,
    best: z.boolean().describe("True when this is the best mean validation AUC so far."),
    durationMs: nonNegative.optional(),
  },
  "An evaluation's metrics per task and their means.",
);

export const AckMessage = message(
  "ack",
  {
    id: z.string().describe("The command's id."),
    command: z.string().optional().describe("The command's type."),
    ok: z.boolean(),
    step: stepNumber.describe("Step boundary at which the command took effect (or was refused)."),
    result: z.unknown().optional().describe("Command-specific result, e.g. the parameters now in use."),
    error: z.string().optional().describe("Why the command was refused (ok = false)."),
  },
  "Answer to one command. A refused command leaves the run unchanged.",
);

export const CheckpointMessage = message(
  "checkpoint",
  {
    step: stepNumber,
    path: z.string().describe("Checkpoint folder, relative to the run folder."),
    reason: z
      .string()
      .describe(
        '"requested", "periodic", "evaluation", "best", "final", "stop" or "interrupted" (since 1.1).',
      ),
  },
  "A checkpoint was written completely.",
);

export const LogMessage = message(
  "log",
  { level: z.enum(["debug", "info", "warn", "error"]), message: z.string() },
  "A human-readable line.",
);

export const ErrorMessage = message(
  "error",
  {
    message: z.string(),
    detail: z.string().optional().describe("Stack or longer explanation."),
    task: z.number().int().min(0).optional().describe("Index of the task concerned, if any."),
    step: stepNumber.optional(),
    fatal: z.boolean().describe("True when the run stops because of it (a done message follows)."),
  },
  "Something went wrong; non-fatal errors (a skipped non-finite step) let the run go on.",
);

export const DoneMessage = message(
  "done",
  { reason: z.enum(DONE_REASONS), summary: RunSummary },
  "Last message of a run.",
);

export const StrategyChangedMessage = message(
  "strategy-changed",
  {
    step: stepNumber.describe("Steps after this one use the new strategy (0: from the start)."),
    name: z.string(),
    params: z.record(z.string(), z.unknown()).describe("Full parameters, defaults applied."),
    previous: z
      .object({ name: z.string(), params: z.record(z.string(), z.unknown()) })
      .nullable()
      .describe("null for the strategy the run started with."),
    stateCarried: z.boolean().optional().describe("True when the strategy's state was carried over."),
    reason: z.enum(["initial", "command", "resume"]).or(z.string()),
    commandId: z.string().optional(),
  },
  "The strategy in force from the next step on: sent at start and at every switch.",
);

export const HyperChange = z.object({
  name: z.string().describe('"learningRate", "l2", "clipNorm", "evalEvery" or "strategy.<param>".'),
  from: z.unknown(),
  to: z.unknown(),
});

export const HyperChangedMessage = message(
  "hyper-changed",
  {
    step: stepNumber.describe("Steps after this one use the new values."),
    changes: z.array(HyperChange).min(1),
    commandId: z.string().optional(),
  },
  "Hyperparameters changed at a step boundary.",
);

export const PausedMessage = message(
  "paused",
  { step: stepNumber, commandId: z.string().optional() },
  "Training is paused after this step.",
);

export const ResumedMessage = message(
  "resumed",
  { step: stepNumber, pausedMs: nonNegative, commandId: z.string().optional() },
  "Training goes on after a pause.",
);

export const ProgressMessage = message(
  "progress",
  {
    phase: z.string().describe('What is being prepared, e.g. "building vocabularies".'),
    fraction: z.number().min(0).max(1).nullable().describe("Done fraction, null when unknown."),
    detail: z.string().optional(),
  },
  "Progress of a long preparation before (or between) training steps.",
);

/** Socket only: the trainer's answer to `attach`. */
export const AttachedMessage = message(
  "attached",
  {
    writer: z.boolean().describe("True when this client may send commands."),
    readOnlyReason: z.string().optional().describe("Why write was not granted."),
    runDir: z.string(),
    replayed: z.number().int().min(0).describe("Messages of the event log sent before the live ones."),
  },
  "Socket only: the handshake succeeded; replayed messages, then live ones, follow.",
);

export const TRAINER_MESSAGE_SCHEMAS = [
  HelloMessage,
  ConfigMessage,
  StepMessage,
  EvalMessage,
  AckMessage,
  CheckpointMessage,
  LogMessage,
  ErrorMessage,
  DoneMessage,
  StrategyChangedMessage,
  HyperChangedMessage,
  PausedMessage,
  ResumedMessage,
  ProgressMessage,
  AttachedMessage,
] as const;

export const TrainerMessage = z.discriminatedUnion("type", TRAINER_MESSAGE_SCHEMAS);
export type TrainerMessage = z.infer<typeof TrainerMessage>;
export type TrainerMessageType = TrainerMessage["type"];
export type TrainerMessageOf<T extends TrainerMessageType> = Extract<TrainerMessage, { type: T }>;

export type HelloMessage = z.infer<typeof HelloMessage>;
export type ConfigMessage = z.infer<typeof ConfigMessage>;
export type StepMessage = z.infer<typeof StepMessage>;
export type EvalMessage = z.infer<typeof EvalMessage>;
export type AckMessage = z.infer<typeof AckMessage>;
export type CheckpointMessage = z.infer<typeof CheckpointMessage>;
export type LogMessage = z.infer<typeof LogMessage>;
export type ErrorMessage = z.infer<typeof ErrorMessage>;
export type DoneMessage = z.infer<typeof DoneMessage>;
export type StrategyChangedMessage = z.infer<typeof StrategyChangedMessage>;
export type HyperChangedMessage = z.infer<typeof HyperChangedMessage>;
export type PausedMessage = z.infer<typeof PausedMessage>;
export type ResumedMessage = z.infer<typeof ResumedMessage>;
export type ProgressMessage = z.infer<typeof ProgressMessage>;
export type AttachedMessage = z.infer<typeof AttachedMessage>;

// ---------------------------------------------------------------------------------------------
// Host → trainer

const commandId = z.string().min(1).max(200).describe("Chosen by the host; echoed by the ack.");

function command<T extends string, S extends z.ZodRawShape>(type: T, shape: S, description: string) {
  return message(type, { id: commandId, ...shape }, description);
}

export const SetStrategyCommand = command(
  "set-strategy",
  {
    name: z.string().min(1).describe("A strategy from hello.strategies."),
    params: z.record(z.string(), z.unknown()).default({}).describe("Its parameters; missing ones default."),
    carryState: z
      .boolean()
      .optional()
      .describe("Keep the strategy's state when switching to the same strategy (default: fresh state)."),
  },
  "Switch the balancing strategy at the next step boundary.",
);

export const SetHyperparametersCommand = command(
  "set-hyperparameters",
  {
    learningRate: liveHyperparameters.learningRate.optional(),
    l2: liveHyperparameters.l2.optional(),
    clipNorm: liveHyperparameters.clipNorm.optional(),
    evalEvery: liveHyperparameters.evalEvery.optional(),
    strategyParams: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("Changes to the current strategy's parameters (others keep their values)."),
  },
  "Change hyperparameters at the next step boundary; absent fields keep their values.",
).refine(
  (c) =>
    c.learningRate !== undefined ||
    c.l2 !== undefined ||
    c.clipNorm !== undefined ||
    c.evalEvery !== undefined ||
    c.strategyParams !== undefined,
  {
    message: "nothing to change: give at least one of learningRate, l2, clipNorm, evalEvery, strategyParams",
  },
);

export const PauseCommand = command("pause", {}, "Pause after the current step.");
export const ResumeCommand = command("resume", {}, "Resume a paused run.");
export const StopCommand = command(
  "stop",
  {},
  "Stop gracefully: final evaluation, checkpoint and summary, then done (reason stopped).",
);
export const CheckpointCommand = command("checkpoint", {}, "Write a checkpoint at the next step boundary.");
export const EvaluateCommand = command(
  "evaluate",
  { split: Split.default("validation") },
  "Evaluate now on a split (an eval message follows the ack).",
);

export const HOST_COMMAND_SCHEMAS = [
  SetStrategyCommand,
  SetHyperparametersCommand,
  PauseCommand,
  ResumeCommand,
  StopCommand,
  CheckpointCommand,
  EvaluateCommand,
] as const;

export const HostCommand = z.discriminatedUnion("type", HOST_COMMAND_SCHEMAS);
export type HostCommand = z.infer<typeof HostCommand>;
/** What a host writes: fields with defaults may be left out. */
export type HostCommandInput = z.input<typeof HostCommand>;
export type HostCommandType = HostCommand["type"];
export type HostCommandOf<T extends HostCommandType> = Extract<HostCommand, { type: T }>;

/** Socket only: the client's first line. */
export const AttachRequest = message(
  "attach",
  {
    token: z.string().describe("Contents of the run folder's link token file."),
    write: z.boolean().default(false).describe("Ask to be the (single) writer of commands."),
    replay: z
      .union([z.literal("all"), z.literal("none"), z.number().int().min(0)])
      .default("all")
      .describe('"all" the event log so far, "none", or N: its last N messages (plus hello and config).'),
  },
  "Socket only: authenticate, then receive the run's messages.",
);
export type AttachRequest = z.infer<typeof AttachRequest>;

/**
 * Host → trainer, not a command (no id, no ack): the host's answer to a trainer whose first
 * message (or any later one) carries another major version. Its `v` is the version the host
 * speaks; the host then closes the link (and ends a trainer it spawned).
 */
export const IncompatibleNotice = message(
  "incompatible",
  {
    reason: z.string().describe("Both versions and what to do, in one line."),
  },
  "The host refuses the link: the trainer speaks another major protocol version (`v` is the host's).",
);
export type IncompatibleNotice = z.infer<typeof IncompatibleNotice>;

// ---------------------------------------------------------------------------------------------
// Versions and parsing

export const TRAINER_MESSAGE_TYPES: readonly string[] = TRAINER_MESSAGE_SCHEMAS.map(
  (s) => s.shape.type.value,
);
export const HOST_COMMAND_TYPES: readonly string[] = HOST_COMMAND_SCHEMAS.map((s) => s.shape.type.value);

/** Matches checkVersion's refusals of another major (for hosts that only see the reason text). */
export const OTHER_MAJOR = /protocol version \S+ is (?:newer|older) than this reader/;

/** `malformed`: no usable `v` at all (a broken line), as opposed to a real other major. */
export type VersionCheck =
  | { ok: true; newerMinor: boolean }
  | { ok: false; reason: string; malformed?: true };

/** Applies the version rules to a `v` value. */
export function checkVersion(v: unknown): VersionCheck {
  if (typeof v !== "string")
    return {
      ok: false,
      reason: `missing protocol version "v" (this reader speaks ${PROTOCOL_VERSION})`,
      malformed: true,
    };
  const match = /^(\d+)\.(\d+)$/.exec(v);
  if (!match) return { ok: false, reason: `protocol version "${v}" is not MAJOR.MINOR`, malformed: true };
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major > PROTOCOL_MAJOR)
    return {
      ok: false,
      reason: `protocol version ${v} is newer than this reader (${PROTOCOL_VERSION}): update GradCraft Studio to read it`,
    };
  if (major < PROTOCOL_MAJOR)
    return {
      ok: false,
      reason: `protocol version ${v} is older than this reader (${PROTOCOL_VERSION}) and no longer supported`,
    };
  return { ok: true, newerMinor: minor > PROTOCOL_MINOR };
}

/** Why a value was not accepted; `kind` lets a stream count each sort once. */
export type RejectKind = "malformed" | "version" | "unknown-type" | "invalid";
export type ParseResult<M> =
  | {
      ok: true;
      message: M;
      newerMinor: boolean;
      /**
       * Fields of the input this reader does not know, dropped from `message`: paths from the
       * message's top, array positions written `[]` ("config.training.warmup", "tasks[].ndcg").
       */
      droppedFields: string[];
    }
  | { ok: false; kind: RejectKind; reason: string; type?: string };

/** "step.losses[2]: expected number, received string; ...", at most a few issues. */
export function formatIssues(error: z.ZodError, limit = 3): string {
  const parts = error.issues.slice(0, limit).map((issue) => {
    const path = issue.path.reduce<string>(
      (acc, key) =>
        typeof key === "number" ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key),
      "",
    );
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = error.issues.length > limit ? ` (+${error.issues.length - limit} more)` : "";
  return parts.join("; ") + more;
}

function parseWith<M>(
  value: unknown,
  union: z.ZodType<M>,
  knownTypes: readonly string[],
  what: string,
): ParseResult<M> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return { ok: false, kind: "malformed", reason: `a ${what} must be a JSON object` };
  const record = value as Record<string, unknown>;
  const type = record.type;
  if (typeof type !== "string")
    return { ok: false, kind: "malformed", reason: `a ${what} needs a string "type"` };
  const versionCheck = checkVersion(record.v);
  if (!versionCheck.ok)
    return {
      ok: false,
      kind: versionCheck.malformed ? "malformed" : "version",
      reason: versionCheck.reason,
      type,
    };
  if (!knownTypes.includes(type))
    return { ok: false, kind: "unknown-type", reason: `unknown ${what} type "${type}"`, type };
  // Strict objects (the training config's, so that a typo in a config file is caught) refuse
  // unknown keys: on the wire those are a newer writer's additions, so drop them and validate
  // again. Each round removes every key zod named; nested strict objects can need another.
  let input: unknown = value;
  let parsed = union.safeParse(input);
  const removed: string[] = [];
  for (let round = 0; !parsed.success && round < 4; round++) {
    const unknownKeys = parsed.error.issues.filter((i) => i.code === "unrecognized_keys");
    if (unknownKeys.length === 0) break;
    input = structuredClone(input);
    for (const issue of unknownKeys)
      for (const key of issue.keys) {
        removeAt(input, issue.path, key);
        removed.push(fieldPath([...issue.path, key]));
      }
    parsed = union.safeParse(input);
  }
  if (!parsed.success)
    return {
      ok: false,
      kind: "invalid",
      reason: `invalid "${type}" ${what}: ${formatIssues(parsed.error)}`,
      type,
    };
  // Plain objects strip unknown keys silently: find them by comparing input and output.
  const stripped: string[] = [];
  collectStripped(input, parsed.data, [], stripped);
  const droppedFields = [...new Set([...removed, ...stripped])];
  return { ok: true, message: parsed.data, newerMinor: versionCheck.newerMinor, droppedFields };
}

/** "config.tasks[].name": array positions collapse, so one new field is one note, not one per row. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (acc, key) => (typeof key === "number" ? `${acc}[]` : acc ? `${acc}.${String(key)}` : String(key)),
    "",
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function removeAt(root: unknown, path: readonly PropertyKey[], key: string): void {
  let node: unknown = root;
  for (const step of path) node = (node as Record<PropertyKey, unknown> | undefined)?.[step];
  if (isRecord(node)) delete node[key];
}

const MAX_STRIPPED = 32;

/** Keys of `input` objects missing from the parsed `output` (defaults only add keys). */
function collectStripped(input: unknown, output: unknown, path: PropertyKey[], out: string[]): void {
  // z.unknown() and records hand their input through unchanged: nothing was dropped below.
  if (input === output || out.length >= MAX_STRIPPED) return;
  if (Array.isArray(input) && Array.isArray(output)) {
    if (input.length !== output.length) return;
    for (let i = 0; i < input.length; i++)
      if (typeof input[i] === "object" && input[i] !== null)
        collectStripped(input[i], output[i], [...path, i], out);
    return;
  }
  if (!isRecord(input) || !isRecord(output)) return;
  for (const key of Object.keys(input)) {
    if (!(key in output)) out.push(fieldPath([...path, key]));
    else collectStripped(input[key], output[key], [...path, key], out);
  }
}

/** Validates a JSON value as a trainer → host message. Never throws. */
export function parseTrainerMessage(value: unknown): ParseResult<TrainerMessage> {
  return parseWith(value, TrainerMessage, TRAINER_MESSAGE_TYPES, "message");
}

/** Validates a JSON value as a host → trainer command. Never throws. */
export function parseHostCommand(value: unknown): ParseResult<HostCommand> {
  return parseWith(value, HostCommand, HOST_COMMAND_TYPES, "command");
}

/** Validates the socket handshake line. Never throws. */
export function parseAttachRequest(value: unknown): ParseResult<AttachRequest> {
  return parseWith(value, AttachRequest, ["attach"], "handshake");
}

type Body<M> = M extends unknown ? Omit<M, "v"> : never;

/** Stamps the current protocol version on a message body. */
export function trainerMessage<B extends Body<TrainerMessage>>(body: B): B & { v: string } {
  return { v: PROTOCOL_VERSION, ...body };
}

/** Stamps the current protocol version on a command body. */
export function hostCommand<B extends Body<HostCommandInput>>(body: B): B & { v: string } {
  return { v: PROTOCOL_VERSION, ...body };
}

/** hello's description of a strategy, from its definition (zod params → JSON Schema + defaults). */
export function describeStrategy(definition: {
  name: string;
  title: string;
  summary: string;
  citation?: string;
  params: z.ZodType;
}): StrategyInfo {
  let paramsSchema: Record<string, unknown>;
  try {
    paramsSchema = z.toJSONSchema(definition.params, { io: "input", unrepresentable: "any" }) as Record<
      string,
      unknown
    >;
  } catch {
    paramsSchema = { type: "object" };
  }
  const parsedDefaults = definition.params.safeParse({});
  const defaults = parsedDefaults.success ? (parsedDefaults.data as Record<string, unknown>) : {};
  return {
    name: definition.name,
    title: definition.title,
    summary: definition.summary,
    ...(definition.citation ? { citation: definition.citation } : {}),
    paramsSchema,
    defaults,
  };
}
