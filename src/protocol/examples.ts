import { TrainingConfig } from "./config";
import type { AttachRequest, HostCommand, IncompatibleNotice, TrainerMessage } from "./messages";
import { PROTOCOL_VERSION as v } from "./messages";

/**
 * One example of every message, for docs/protocol.md (generated from these) and the tests (each
 * must validate). Two tasks keep them short.
 */

const tasks = ["click", "like"];
const metrics = (auc: number, gauc: number | null, logloss: number) => ({ auc, gauc, logloss });

export const TRAINER_EXAMPLES: Record<TrainerMessage["type"], TrainerMessage> = {
  hello: {
    v,
    type: "hello",
    trainer: { name: "gradcraft", version: "0.1.0" },
    backend: {
      name: "wasm",
      reason: "tensorflow-gpu and tensorflow are not installed; webgpu has no hardware adapter",
      threads: 2,
    },
    tasks,
    strategies: [
      {
        name: "ew",
        title: "Equal weighting",
        summary: "Mean of the task gradients.",
        paramsSchema: { type: "object", properties: {} },
        defaults: {},
      },
    ],
    runDir: "/home/me/project/.gradcraft/runs/20260101-120000-run",
    startedAt: "2026-01-01T12:00:00.000Z",
    pid: 4242,
  },
  config: {
    v,
    type: "config",
    // Resolved from the definition so the example follows the config as it grows.
    config: TrainingConfig.parse({ strategy: { name: "gradcraft", params: { tau: 0.1, eps: 1e-10 } } }),
  },
  "strategy-changed": {
    v,
    type: "strategy-changed",
    step: 0,
    name: "gradcraft",
    params: { tau: 0.1, eps: 1e-10 },
    previous: null,
    reason: "initial",
  },
  step: {
    v,
    type: "step",
    step: 120,
    epoch: 0.41,
    wallMs: 53210,
    losses: [0.52, 0.11],
    norms: [0.83, 0.27],
    cosines: [1, -0.12, -0.12, 1],
    weights: [0.5, 1.49],
    projection: { conflictSetSize: [1, 1], correctionNorm: [0.01, 0.03], magnitudeScale: [1, 3.07] },
    conflictingPairs: 1,
    updateNorm: 0.79,
    updateCosines: [0.62, 0.45],
    conflictsWithUpdate: false,
    flags: [],
    strategy: "gradcraft",
    learningRate: 0.001,
    stepTimeMs: 412.5,
  },
  eval: {
    v,
    type: "eval",
    split: "validation",
    step: 200,
    epoch: 0.69,
    tasks: [
      { task: "click", ...metrics(0.712, 0.641, 0.488) },
      { task: "like", ...metrics(0.655, null, 0.102) },
    ],
    mean: metrics(0.6835, 0.641, 0.295),
    best: true,
    durationMs: 1830,
  },
  ack: {
    v,
    type: "ack",
    id: "h-7",
    command: "set-strategy",
    ok: true,
    step: 240,
    result: { name: "pcgrad", params: {} },
  },
  "hyper-changed": {
    v,
    type: "hyper-changed",
    step: 300,
    changes: [{ name: "learningRate", from: 0.001, to: 0.0005 }],
    commandId: "h-8",
  },
  paused: { v, type: "paused", step: 310, commandId: "h-9" },
  resumed: { v, type: "resumed", step: 310, pausedMs: 15000, commandId: "h-10" },
  checkpoint: { v, type: "checkpoint", step: 400, path: "checkpoints/step-400", reason: "requested" },
  log: { v, type: "log", level: "info", message: "epoch 1 finished in 92 s" },
  error: {
    v,
    type: "error",
    message: "non-finite loss on task like; step skipped",
    task: 1,
    step: 512,
    fatal: false,
  },
  progress: { v, type: "progress", phase: "building vocabularies", fraction: 0.4 },
  done: {
    v,
    type: "done",
    reason: "completed",
    summary: {
      steps: 2930,
      epochs: 10,
      wallMs: 1204000,
      bestStep: 2600,
      strategy: "gradcraft",
      splits: {
        validation: {
          tasks: [
            { task: "click", ...metrics(0.741, 0.662, 0.47) },
            { task: "like", ...metrics(0.702, 0.611, 0.097) },
          ],
          mean: metrics(0.7215, 0.6365, 0.2835),
        },
        test: {
          tasks: [
            { task: "click", ...metrics(0.736, 0.658, 0.473) },
            { task: "like", ...metrics(0.695, 0.602, 0.099) },
          ],
          mean: metrics(0.7155, 0.63, 0.286),
        },
      },
    },
  },
  attached: {
    v,
    type: "attached",
    writer: false,
    readOnlyReason: "another client holds the writer role",
    runDir: "/home/me/project/.gradcraft/runs/20260101-120000-run",
    replayed: 1234,
  },
};

export const COMMAND_EXAMPLES: Record<HostCommand["type"], HostCommand> = {
  "set-strategy": { v, type: "set-strategy", id: "h-7", name: "pcgrad", params: {} },
  "set-hyperparameters": { v, type: "set-hyperparameters", id: "h-8", learningRate: 0.0005 },
  pause: { v, type: "pause", id: "h-9" },
  resume: { v, type: "resume", id: "h-10" },
  stop: { v, type: "stop", id: "h-11" },
  checkpoint: { v, type: "checkpoint", id: "h-12" },
  evaluate: { v, type: "evaluate", id: "h-13", split: "validation" },
};

export const ATTACH_EXAMPLE: AttachRequest = {
  v,
  type: "attach",
  token: "3f9c…(64 hex digits)",
  write: true,
  replay: "all",
};

export const INCOMPATIBLE_EXAMPLE: IncompatibleNotice = {
  v,
  type: "incompatible",
  reason:
    "refused the trainer: protocol version 2.0 is newer than this reader (1.0): update GradCraft Studio to read it",
};
