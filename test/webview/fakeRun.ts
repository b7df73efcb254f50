import { diagnose } from "../../src/core/diagnostics";
import { TRAINER_EXAMPLES } from "../../src/protocol/examples";
import { type StepMessage, type TrainerMessage, PROTOCOL_VERSION as v } from "../../src/protocol/messages";
import { mulberry32 } from "../unit/helpers/random";

export { mulberry32 };

/**
 * A seeded fake training run as a trainer would stream it: hello, config, the initial strategy,
 * then step messages whose diagnostics are computed from drifting random task gradients (through
 * core's `diagnose`, so cosines, norms and update cosines are mutually consistent), evaluations
 * every `evalEvery` steps and strategy switches at chosen steps. Same seed, same stream.
 */

export interface FakeRunOptions {
  tasks?: string[];
  steps: number;
  seed?: number;
  evalEvery?: number;
  /** step -> strategy switched to after that step. */
  switches?: Record<number, { name: string; params: Record<string, unknown> }>;
  /** Gradients (K rows) forced at given steps, to show known cosines. */
  forcedGradients?: Record<number, number[][]>;
  /** A loss spike on task 0 at this step (value 50). */
  spikeAt?: number;
  msPerStep?: number;
}

export const DEFAULT_TASKS = ["click", "longView", "like", "follow", "comment", "forward"];

export const FAKE_STRATEGIES = [
  {
    name: "ew",
    title: "Equal weighting",
    summary: "Mean of the task gradients.",
    paramsSchema: { type: "object", properties: {} },
    defaults: {},
  },
  {
    name: "gradcraft",
    title: "GradCraft",
    summary: "Magnitude alignment, then global projection of conflicting components.",
    paramsSchema: {
      type: "object",
      properties: {
        tau: {
          type: "number",
          minimum: 0,
          maximum: 1,
          default: 1,
          description: "Magnitude alignment strength.",
        },
        epsilon: {
          type: "number",
          minimum: 0,
          maximum: 0.01,
          default: 0,
          description: "Target cosine margin.",
        },
      },
    },
    defaults: { tau: 1, epsilon: 0 },
  },
  {
    name: "pcgrad",
    title: "PCGrad",
    summary: "Project each gradient off the ones it conflicts with.",
    paramsSchema: {
      type: "object",
      properties: {
        seed: { type: "integer", minimum: 0, default: 0, description: "Seed of the task order." },
      },
    },
    defaults: { seed: 0 },
  },
];

export function helloMessage(tasks: string[]): TrainerMessage {
  return {
    v,
    type: "hello",
    trainer: { name: "fake", version: "0.0.0" },
    backend: { name: "cpu", reason: "test stream" },
    tasks,
    strategies: FAKE_STRATEGIES,
    runDir: null,
    startedAt: "2026-01-01T00:00:00.000Z",
  };
}

/** Yields the messages of a fake run, one at a time (a 100,000-step run never sits in memory). */
export function* fakeRun(options: FakeRunOptions): Generator<TrainerMessage> {
  const tasks = options.tasks ?? DEFAULT_TASKS;
  const k = tasks.length;
  const random = mulberry32(options.seed ?? 1);
  const gaussian = () => {
    const u = random() || 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  const dim = 8;
  const msPerStep = options.msPerStep ?? 40;
  const evalEvery = options.evalEvery ?? 100;
  yield helloMessage(tasks);
  const config = TRAINER_EXAMPLES.config;
  if (config.type === "config") {
    yield {
      ...config,
      config: { ...config.config, strategy: { name: "gradcraft", params: { tau: 1, epsilon: 0 } } },
    };
  }
  let strategy = { name: "gradcraft", params: { tau: 1, epsilon: 0 } as Record<string, unknown> };
  yield {
    v,
    type: "strategy-changed",
    step: 0,
    name: strategy.name,
    params: strategy.params,
    previous: null,
    reason: "initial",
  };
  // Each task's gradient direction drifts around a base direction; tasks 3.. pull against 0..2.
  const base = Array.from({ length: k }, (_, t) =>
    Array.from({ length: dim }, (_, d) => (t >= 3 && d < 3 ? -1 : 1) * (0.5 + random()) + gaussian() * 0.3),
  );
  const auc = tasks.map(() => 0.55 + random() * 0.05);
  for (let step = 1; step <= options.steps; step++) {
    const grads =
      options.forcedGradients?.[step] ??
      base.map((row, t) => row.map((x) => (x + gaussian() * 0.8) * (1 + t) * Math.exp(-step / 50_000)));
    const gram = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) gram[i * k + j] = grads[i].reduce((s, x, d) => s + x * grads[j][d], 0);
    const weights = new Float64Array(k);
    const diag0 = diagnose(k, gram, new Float64Array(k).fill(1 / k));
    const maxNorm = Math.max(...diag0.norms);
    for (let t = 0; t < k; t++)
      weights[t] = strategy.name === "gradcraft" && diag0.norms[t] > 0 ? maxNorm / diag0.norms[t] / k : 1 / k;
    const d = diagnose(k, gram, weights);
    const conflictSetSize = tasks.map((_, t) =>
      tasks.reduce((n, _2, j) => n + (j !== t && gram[t * k + j] < 0 ? 1 : 0), 0),
    );
    const losses = tasks.map(
      (_, t) => (0.7 / (1 + t)) * (0.3 + Math.exp(-step / 3000)) * (1 + 0.1 * gaussian()),
    );
    if (options.spikeAt === step) losses[0] = 50;
    const message: StepMessage = {
      v,
      type: "step",
      step,
      epoch: step / 1000,
      wallMs: step * msPerStep,
      losses,
      norms: d.norms,
      cosines: d.cosines,
      weights: Array.from(weights),
      projection:
        strategy.name === "gradcraft"
          ? {
              conflictSetSize,
              correctionNorm: conflictSetSize.map((c, t) => c * 0.05 * d.norms[t]),
              magnitudeScale: d.norms.map((n) => (n > 0 ? maxNorm / n : 1)),
            }
          : undefined,
      conflictingPairs: d.conflictingPairs,
      updateNorm: d.updateNorm,
      updateCosines: d.updateCosines,
      conflictsWithUpdate: d.conflictsWithUpdate,
      flags: [],
      strategy: strategy.name,
      learningRate: 1e-3,
      stepTimeMs: msPerStep * (0.8 + 0.4 * random()),
    };
    yield message;
    if (step % evalEvery === 0) {
      for (let t = 0; t < k; t++) auc[t] = Math.min(0.95, auc[t] + random() * 0.01);
      const entries = tasks.map((task, t) => ({
        task,
        auc: auc[t],
        gauc: auc[t] - 0.1,
        logloss: 0.5 - (auc[t] - 0.5) / 2,
      }));
      const mean = (key: "auc" | "gauc" | "logloss") => entries.reduce((s, e) => s + e[key], 0) / k;
      yield {
        v,
        type: "eval",
        split: "validation",
        step,
        tasks: entries,
        mean: { auc: mean("auc"), gauc: mean("gauc"), logloss: mean("logloss") },
        best: true,
      };
    }
    const next = options.switches?.[step];
    if (next) {
      yield {
        v,
        type: "strategy-changed",
        step,
        name: next.name,
        params: next.params,
        previous: strategy,
        reason: "command",
      };
      strategy = next;
    }
  }
}
