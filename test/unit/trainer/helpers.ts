import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-core/dist/register_all_gradients";
import type { TrainingConfig } from "../../../src/protocol/config";
import { ModelConfig, TrainingConfig as TrainingConfigSchema } from "../../../src/protocol/config";
import type { CommandOutcome } from "../../../src/protocol/link/commands";
import type { HostCommand, TrainerMessage } from "../../../src/protocol/messages";
import type { BackendChoice } from "../../../src/trainer/backend";
import type { CommandChannel } from "../../../src/trainer/control";
import { generateSynthetic } from "../../../src/trainer/data/index";
import type { TrainBatch } from "../../../src/trainer/gradients";
import { MultiTaskModel } from "../../../src/trainer/model/model";
import { Rng } from "../../../src/trainer/rng";
/** Tiny shapes keep each test file in seconds on two shared cores. */
export const TINY_SHAPE = { vocabularies: [7, 5, 3], numericFeatures: 2, tasks: 3 };

export async function useCpu(): Promise<void> {
  await tf.setBackend("cpu");
  await tf.ready();
}

export function tinyModel(
  type: "shared-bottom" | "mmoe" | "ple",
  extra: Record<string, unknown> = {},
  seed = 3,
) {
  const config = ModelConfig.parse({
    type,
    embeddingDim: 4,
    experts: [6, 5],
    towers: [4],
    dropout: 0,
    numExperts: 3,
    ...extra,
  });
  return new MultiTaskModel(config, TINY_SHAPE, seed);
}

/** A random batch with repeated ids (so duplicate embedding rows occur). */
export function tinyBatch(size: number, seed: number, shape = TINY_SHAPE): TrainBatch {
  const rng = new Rng(seed);
  const f = shape.vocabularies.length;
  const categorical = Int32Array.from({ length: size * f }, (_, i) => rng.int(shape.vocabularies[i % f]));
  const numeric = Float32Array.from({ length: size * shape.numericFeatures }, () => rng.normal());
  const labels = Float32Array.from({ length: size * shape.tasks }, () => (rng.next() < 0.4 ? 1 : 0));
  return { size, categorical, numeric, labels };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}

export const CPU_CHOICE: BackendChoice = {
  name: "cpu",
  tfName: "cpu",
  skipped: [],
  summary: "backend: cpu (test)",
};

/** A small synthetic dataset and a tiny model config: a few hundred ms per run on the cpu backend. */
export function tinyTrainingConfig(
  overrides: { training?: Record<string, unknown>; strategy?: Record<string, unknown> } = {},
): TrainingConfig {
  return TrainingConfigSchema.parse({
    name: "tiny",
    backend: "cpu",
    data: {
      source: "synthetic",
      rows: 1500,
      users: 40,
      items: 60,
      authors: 8,
      contextVocabularies: [3, 2],
      seed: 3,
    },
    model: { type: "ple", embeddingDim: 4, experts: [8], towers: [4], dropout: 0.1 },
    training: {
      batchSize: 64,
      epochs: 2,
      evalEvery: 1000,
      patience: 3,
      learningRate: 0.01,
      ...overrides.training,
    },
    strategy: { name: "gradcraft", params: {}, ...overrides.strategy },
  });
}

export function tinyDataset(config: TrainingConfig) {
  if (config.data.source !== "synthetic") throw new Error("tiny datasets are synthetic");
  return generateSynthetic(config.data);
}

/**
 * A scripted host: `script` maps a step boundary (steps completed) to the commands that arrive
 * there; `whilePaused` feeds nextCommand(). Records every message and ack.
 */
export class FakeChannel implements CommandChannel {
  readonly messages: TrainerMessage[] = [];
  readonly acks: Array<{ command: HostCommand; outcome: CommandOutcome }> = [];
  private boundary = 0;
  constructor(
    private readonly script: Map<number, HostCommand[]> = new Map(),
    private readonly whilePaused: HostCommand[] = [],
  ) {}
  send(message: TrainerMessage): void {
    this.messages.push(message);
    if (message.type === "step") this.boundary = message.step;
  }
  takeCommands(): HostCommand[] {
    const due = this.script.get(this.boundary) ?? [];
    this.script.delete(this.boundary);
    return due;
  }
  async nextCommand(): Promise<HostCommand | null> {
    return this.whilePaused.shift() ?? null;
  }
  ack(command: HostCommand, outcome: CommandOutcome): void {
    this.acks.push({ command, outcome });
  }
  of<T extends TrainerMessage["type"]>(type: T): Extract<TrainerMessage, { type: T }>[] {
    return this.messages.filter((m): m is Extract<TrainerMessage, { type: T }> => m.type === type);
  }
}

/** An io for the CLI's commands that keeps what they print. */
export function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (t: string) => out.push(t), stderr: (t: string) => err.push(t), interactive: false },
  };
}
