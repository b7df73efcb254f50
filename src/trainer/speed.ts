import * as tf from "@tensorflow/tfjs-core";
import { ModelConfig } from "../protocol/config";
import { activeStrategy, GradientEngine, type GradientScope, type TrainBatch } from "./gradients";
import { MultiTaskModel } from "./model/model";
import { Adam } from "./optimizer";
import { WECHAT_LIKE } from "./presets";
import { Rng } from "./rng";

/**
 * `gradcraft bench speed`: training-step throughput of EW and GradCraft on the wechat-like
 * shape (DESIGN §6), in one process, on pre-built batches (as the official figures in
 * ../shared/reference/README.md §B were taken): uniform ids, the six tasks' positive rates.
 */

export interface SpeedCase {
  readonly strategy: string;
  readonly scope: GradientScope | "plain";
  readonly stepsPerSecond: number;
  readonly msPerStep: number;
  readonly p10: number;
  readonly p90: number;
  /** Process CPU time per step (user + system): robust to other load on a shared machine. */
  readonly cpuMsPerStep: number;
}

export interface SpeedReport {
  readonly backend: string;
  readonly model: string;
  readonly batchSize: number;
  readonly steps: number;
  readonly cases: SpeedCase[];
  /** GradCraft (params scope) ms/step over plain EW ms/step. */
  readonly ratioParams: number;
  readonly ratioRepresentation: number;
  /** The same ratios in CPU time per step. */
  readonly cpuRatioParams: number;
  readonly cpuRatioRepresentation: number;
  readonly peakRssMb: number;
}

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

export async function benchSpeed(options: {
  steps: number;
  warmup: number;
  model: "ple" | "mmoe" | "shared-bottom";
  backend: string;
  onProgress?: (line: string) => void;
}): Promise<SpeedReport> {
  const vocabularies = WECHAT_LIKE.vocabularies;
  const config = ModelConfig.parse({ ...WECHAT_LIKE.model, type: options.model });
  const batchSize = WECHAT_LIKE.batchSize;
  const batches = Array.from({ length: 4 }, (_, i) => wechatBatch(batchSize, 100 + i, vocabularies));
  const cases: SpeedCase[] = [];
  let peakRss = process.memoryUsage().rss;
  const plan: Array<{ strategy: string; scope: GradientScope | "plain"; params: Record<string, unknown> }> = [
    { strategy: "ew", scope: "plain", params: {} },
    { strategy: "ew", scope: "params", params: {} },
    { strategy: "gradcraft", scope: "params", params: WECHAT_LIKE.gradcraft },
    { strategy: "gradcraft", scope: "representation", params: WECHAT_LIKE.gradcraft },
  ];
  for (const item of plan) {
    const model = new MultiTaskModel(config, { vocabularies, numericFeatures: 0, tasks: RATES.length }, 1);
    const optimizer = new Adam({ learningRate: 1e-3, l2: 1e-5, clipNorm: 0 }, model.denseVariables());
    const engine = new GradientEngine(model, optimizer, item.scope === "plain" ? "params" : item.scope, 1);
    engine.plainEw = item.scope === "plain";
    const strategy = activeStrategy(item.strategy, item.params, RATES.length);
    const times: number[] = [];
    let cpuStart = process.cpuUsage();
    for (let s = 0; s < options.warmup + options.steps; s++) {
      if (s === options.warmup) cpuStart = process.cpuUsage();
      const started = performance.now();
      const report = await engine.step(batches[s % batches.length], strategy, s + 1);
      if (report.status !== "applied") throw new Error(`bench step skipped: ${report.reason}`);
      if (s >= options.warmup) times.push(performance.now() - started);
      peakRss = Math.max(peakRss, process.memoryUsage().rss);
    }
    const cpu = process.cpuUsage(cpuStart);
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)];
    const result: SpeedCase = {
      strategy: item.strategy,
      scope: item.scope,
      msPerStep: round(median),
      stepsPerSecond: round(1000 / median, 3),
      p10: round(times[Math.floor(times.length * 0.1)]),
      p90: round(times[Math.min(times.length - 1, Math.floor(times.length * 0.9))]),
      cpuMsPerStep: round((cpu.user + cpu.system) / 1000 / options.steps),
    };
    cases.push(result);
    options.onProgress?.(`${item.strategy} (${item.scope}): ${result.msPerStep} ms/step`);
    optimizer.dispose();
    model.dispose();
  }
  const ms = (strategy: string, scope: string) =>
    cases.find((c) => c.strategy === strategy && c.scope === scope)?.msPerStep ?? Number.NaN;
  const cpu = (strategy: string, scope: string) =>
    cases.find((c) => c.strategy === strategy && c.scope === scope)?.cpuMsPerStep ?? Number.NaN;
  return {
    backend: tf.getBackend(),
    model: options.model,
    batchSize,
    steps: options.steps,
    cases,
    ratioParams: round(ms("gradcraft", "params") / ms("ew", "plain"), 3),
    ratioRepresentation: round(ms("gradcraft", "representation") / ms("ew", "plain"), 3),
    cpuRatioParams: round(cpu("gradcraft", "params") / cpu("ew", "plain"), 3),
    cpuRatioRepresentation: round(cpu("gradcraft", "representation") / cpu("ew", "plain"), 3),
    peakRssMb: Math.round(peakRss / 2 ** 20),
  };
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
