import * as fs from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { ModelConfig } from "../protocol/config";
import type { ConcreteBackend } from "./backend";
import { writeCheckpoint } from "./checkpoint";
import { activeStrategy, GradientEngine, type GradientScope, type TrainBatch } from "./gradients";
import { MultiTaskModel } from "./model/model";
import { Adam } from "./optimizer";
import { WorkerPool } from "./parallel/pool";
import { WECHAT_LIKE } from "./presets";
import { Rng } from "./rng";

/**
 * `gradcraft bench speed`: training-step throughput of EW and GradCraft on the wechat-like
 * shape (docs/benchmarks.md, "Training step"), on pre-built batches (as the official PyTorch
 * figures were taken): uniform ids, the six tasks' positive rates. Every configuration, at every
 * thread count asked for, runs in one process, step by step in turn, so a change of load on a
 * shared machine touches them all alike and their ratios hold.
 */

export interface SpeedCase {
  readonly strategy: string;
  readonly scope: GradientScope | "plain";
  /** Threads that shared each step. */
  readonly threads: number;
  readonly stepsPerSecond: number;
  readonly msPerStep: number;
  readonly p10: number;
  readonly p90: number;
  /** Process CPU time per step (user + system, every thread): the work, whatever the load. */
  readonly cpuMsPerStep: number;
}

export interface SpeedReport {
  readonly backend: string;
  /** The CPU the figures belong to: its model name and its logical cores. */
  readonly cpu: { readonly model: string; readonly cores: number };
  readonly node: string;
  /** One-minute load average when the run started and ended (other processes' share of the CPU). */
  readonly load: { readonly start: number; readonly end: number };
  readonly model: string;
  readonly batchSize: number;
  readonly steps: number;
  /** Thread counts measured, in order. */
  readonly threads: number[];
  readonly cases: SpeedCase[];
  /** GradCraft (params scope) ms/step over plain EW ms/step, at the most threads. */
  readonly ratioParams: number;
  readonly ratioRepresentation: number;
  /** The same ratios in CPU time per step. */
  readonly cpuRatioParams: number;
  readonly cpuRatioRepresentation: number;
  readonly peakRssMb: number;
  /** The checkpoint policy's cost, measured between the same steps. */
  readonly checkpoint: CheckpointCost;
}

/**
 * What keeping `checkpoints/last` resumable costs: one write of the GradCraft run's checkpoint
 * (weights, Adam moments, embedding tables; fsynced, moved into place), and its share of
 * training time under the default policy, which writes one at most every 60 s of training and
 * after every evaluation (every 200 steps).
 */
export interface CheckpointCost {
  readonly msPerWrite: number;
  readonly megabytes: number;
  /** Training time between two writes under the default policy: min(60 s, 200 steps). */
  readonly intervalMs: number;
  /** msPerWrite / intervalMs: the policy's cost as a share of step time. */
  readonly shareOfStepTime: number;
}

/** The default policy's write interval (training.checkpointEverySeconds, training.evalEvery). */
const POLICY = { seconds: 60, evalEvery: 200 };

const RATES = [0.3, 0.2, 0.1, 0.03, 0.01, 0.01];

export function wechatBatch(size: number, seed: number, vocabularies: readonly number[]): TrainBatch {
  const rng = new Rng(seed);
  const f = vocabularies.length;
  const categorical = new Int32Array(size * f);
  for (let i = 0; i < categorical.length; i++) categorical[i] = rng.int(vocabularies[i % f]);
  const labels = new Float32Array(size * RATES.length);
  for (let i = 0; i < labels.length; i++) labels[i] = rng.next() < RATES[i % RATES.length] ? 1 : 0;
  return { size, categorical, labels };
}

/** The thread counts `bench speed` compares by default: one, and every core. */
export function defaultThreadCounts(): number[] {
  const cores = availableParallelism();
  return cores > 1 ? [1, cores] : [1];
}

const PLAN: ReadonlyArray<{ strategy: string; scope: GradientScope | "plain" }> = [
  { strategy: "ew", scope: "plain" },
  { strategy: "ew", scope: "params" },
  { strategy: "gradcraft", scope: "params" },
  { strategy: "gradcraft", scope: "representation" },
];

export async function benchSpeed(options: {
  steps: number;
  warmup: number;
  model: "ple" | "mmoe" | "shared-bottom";
  backend: ConcreteBackend;
  threads: readonly number[];
  batchSize?: number;
  onProgress?: (line: string) => void;
}): Promise<SpeedReport> {
  const loadStart = loadavg()[0];
  const vocabularies = WECHAT_LIKE.vocabularies;
  const config = ModelConfig.parse({ ...WECHAT_LIKE.model, type: options.model });
  const shape = { vocabularies, numericFeatures: 0, tasks: RATES.length };
  const batchSize = options.batchSize ?? WECHAT_LIKE.batchSize;
  const batches = Array.from({ length: 4 }, (_, i) => wechatBatch(batchSize, 100 + i, vocabularies));
  // One pool per thread count, shared by its configurations: every step sends its own weights.
  const pools = new Map<number, WorkerPool>();
  for (const threads of options.threads)
    if (threads > 1 && !pools.has(threads))
      pools.set(
        threads,
        await WorkerPool.start(threads - 1, { backend: options.backend, config, shape, seed: 1 }),
      );
  const runs = options.threads.flatMap((threads) =>
    PLAN.map((item) => {
      const model = new MultiTaskModel(config, shape, 1);
      const optimizer = new Adam({ learningRate: 1e-3, l2: 1e-5, clipNorm: 0 }, model.denseVariables());
      const scope = item.scope === "plain" ? "params" : item.scope;
      const engine = new GradientEngine(model, optimizer, scope, 1, pools.get(threads));
      engine.plainEw = item.scope === "plain";
      const params = item.strategy === "gradcraft" ? WECHAT_LIKE.gradcraft : {};
      const active = activeStrategy(item.strategy, params, RATES.length);
      return {
        ...item,
        threads: engine.threadsFor(batchSize),
        model,
        optimizer,
        engine,
        active,
        times: [] as number[],
        last: 0,
        cpuMs: 0,
      };
    }),
  );
  let peakRss = process.memoryUsage().rss;
  // The GradCraft run at the most threads: the one whose step the checkpoint's cost is set against.
  const checkpointed =
    runs.findLast((r) => r.strategy === "gradcraft" && r.scope === "params") ?? runs[runs.length - 1];
  const checkpointDir = fs.mkdtempSync(join(tmpdir(), "gradcraft-bench-checkpoint-"));
  const writes: number[] = [];
  try {
    for (let s = 0; s < options.warmup + options.steps; s++) {
      for (const run of runs) {
        const cpuStart = process.cpuUsage();
        const started = performance.now();
        const report = await run.engine.step(batches[s % batches.length], run.active, s + 1);
        if (report.status !== "applied") throw new Error(`bench step skipped: ${report.reason}`);
        run.last = performance.now() - started;
        if (s >= options.warmup) {
          run.times.push(run.last);
          const cpu = process.cpuUsage(cpuStart);
          run.cpuMs += (cpu.user + cpu.system) / 1000;
        }
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
      }
      if (s >= options.warmup) writes.push(timeCheckpointWrite(checkpointed, checkpointDir, s));
      options.onProgress?.(
        `step ${s + 1}/${options.warmup + options.steps}${s < options.warmup ? " (warm-up)" : ""}: ${runs
          .map((r) => `${r.strategy}/${r.scope}×${r.threads} ${Math.round(r.last)} ms`)
          .join(", ")}`,
      );
    }
  } finally {
    for (const run of runs) {
      run.optimizer.dispose();
      run.model.dispose();
    }
    await Promise.all([...pools.values()].map((pool) => pool.close()));
  }
  const megabytes = fs.statSync(join(checkpointDir, "last", "tensors.bin")).size / 2 ** 20;
  fs.rmSync(checkpointDir, { recursive: true, force: true });
  const cases: SpeedCase[] = runs.map((run) => {
    const times = [...run.times].sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    return {
      strategy: run.strategy,
      scope: run.scope,
      threads: run.threads,
      msPerStep: round(median),
      stepsPerSecond: round(1000 / median, 3),
      p10: round(times[Math.floor(times.length * 0.1)]),
      p90: round(times[Math.min(times.length - 1, Math.floor(times.length * 0.9))]),
      cpuMsPerStep: round(run.cpuMs / options.steps),
    };
  });
  const most = Math.max(...cases.map((c) => c.threads));
  const at = (strategy: string, scope: string) =>
    cases.find((c) => c.strategy === strategy && c.scope === scope && c.threads === most);
  const ratio = (a?: number, b?: number) => (a && b ? round(a / b, 3) : Number.NaN);
  return {
    backend: tf.getBackend(),
    cpu: { model: cpus()[0]?.model.trim() ?? "unknown", cores: availableParallelism() },
    node: process.version,
    load: { start: round(loadStart, 2), end: round(loadavg()[0], 2) },
    model: options.model,
    batchSize,
    steps: options.steps,
    threads: [...new Set(cases.map((c) => c.threads))],
    cases,
    ratioParams: ratio(at("gradcraft", "params")?.msPerStep, at("ew", "plain")?.msPerStep),
    ratioRepresentation: ratio(at("gradcraft", "representation")?.msPerStep, at("ew", "plain")?.msPerStep),
    cpuRatioParams: ratio(at("gradcraft", "params")?.cpuMsPerStep, at("ew", "plain")?.cpuMsPerStep),
    cpuRatioRepresentation: ratio(
      at("gradcraft", "representation")?.cpuMsPerStep,
      at("ew", "plain")?.cpuMsPerStep,
    ),
    peakRssMb: Math.round(peakRss / 2 ** 20),
    checkpoint: checkpointCost(writes, megabytes, at("gradcraft", "params")?.msPerStep ?? Number.NaN),
  };
}

/** One write of `checkpoints/last` as the trainer does it, timed. */
function timeCheckpointWrite(
  run: { model: MultiTaskModel; optimizer: Adam; strategy: string },
  dir: string,
  step: number,
): number {
  const started = performance.now();
  writeCheckpoint(
    join(dir, "last"),
    run.model,
    run.optimizer,
    {
      step,
      epoch: 0,
      nextBatch: step,
      seed: 1,
      bestAuc: null,
      bestStep: 0,
      evalsWithoutImprovement: 0,
      validatedStep: null,
      nonFiniteStreak: 0,
      evalEvery: POLICY.evalEvery,
      wallMs: 0,
    },
    { name: run.strategy, params: {}, state: null },
  );
  return performance.now() - started;
}

function checkpointCost(writes: number[], megabytes: number, msPerStep: number): CheckpointCost {
  const sorted = [...writes].sort((a, b) => a - b);
  const msPerWrite = sorted[Math.floor(sorted.length / 2)];
  const intervalMs = Math.min(POLICY.seconds * 1000, POLICY.evalEvery * msPerStep);
  return {
    msPerWrite: round(msPerWrite),
    megabytes: round(megabytes),
    intervalMs: round(intervalMs),
    shareOfStepTime: round(msPerWrite / intervalMs, 5),
  };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
