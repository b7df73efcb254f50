import { z } from "zod";
import { strategies } from "../core/strategies/index";
import { SYNTHETIC_TASKS, type TrainingConfig, taskNamesOf } from "../protocol/config";
import {
  type HelloMessage,
  PROTOCOL_VERSION,
  type StepMessage,
  type StrategyInfo,
  type TrainerMessage,
} from "../protocol/messages";
import type { BackendChoice } from "./backend";
import type { TrainerPosition } from "./checkpoint";
import type { Dataset } from "./data/index";
import type { AppliedStep } from "./gradients";
import type { MultiTaskModel } from "./model/model";

/**
 * What a run says about itself: `hello` (who trains what, with which strategies), the model's
 * size, and one `step` message per applied step.
 */

const v = PROTOCOL_VERSION;

/** `hello`: it goes out before the data loads (task names come from the config), so a host sees the loading progress. */
export function helloMessage(run: {
  config: TrainingConfig;
  runDir: string | null;
  backend: BackendChoice;
  dataset?: Dataset;
  version?: string;
  started: number;
  /** Set when the run goes on from a checkpoint at this step. */
  resumedAt: number | null;
  /** Threads that share each training step. */
  threads: number;
}): HelloMessage {
  const { runDir } = run;
  return {
    v,
    type: "hello",
    trainer: { name: "gradcraft-tfjs", version: run.version ?? "0.1.0" },
    backend: { name: run.backend.name, reason: run.backend.summary, threads: run.threads },
    tasks: run.dataset?.taskNames ?? configuredTaskNames(run.config),
    strategies: strategyInfos(),
    runDir,
    startedAt: new Date(run.started).toISOString(),
    pid: process.pid,
    ...(run.resumedAt !== null && runDir ? { resumedFrom: { runDir, step: run.resumedAt } } : {}),
  };
}

export function parameterLog(config: TrainingConfig, model: MultiTaskModel): TrainerMessage {
  const parameters = model.parameterCount;
  return {
    v,
    type: "log",
    level: "info",
    message: `model ${config.model.type}: ${parameters.embeddings} embedding, ${parameters.shared} shared dense, ${parameters.towers} tower parameters`,
  };
}

export function stepMessage(
  report: AppliedStep,
  position: TrainerPosition,
  perEpoch: number,
  wallMs: number,
  strategy: string,
  learningRate: number,
): StepMessage {
  const { stats, result } = report;
  return {
    v,
    type: "step",
    step: position.step,
    epoch: position.epoch + position.nextBatch / Math.max(1, perEpoch),
    wallMs,
    losses: report.losses,
    norms: stats.norms,
    cosines: stats.cosines,
    weights: stats.weights,
    ...(result.towerWeights ? { towerWeights: Array.from(result.towerWeights) } : {}),
    ...(stats.projection ? { projection: stats.projection } : {}),
    conflictingPairs: stats.conflictingPairs,
    updateNorm: stats.updateNorm,
    updateCosines: stats.updateCosines,
    conflictsWithUpdate: stats.conflictsWithUpdate,
    flags: stats.flags,
    strategy,
    learningRate,
    stepTimeMs: report.ms,
  };
}

/** Task names as the config defines them (the synthetic generator's six, or the label columns). */
export function configuredTaskNames(config: TrainingConfig): string[] {
  if (config.data.source === "synthetic") return [...SYNTHETIC_TASKS];
  return taskNamesOf(config.data);
}

let infos: StrategyInfo[] | undefined;

/** The strategies `hello` advertises, with their parameter schemas and defaults (built once: the registry is fixed). */
export function strategyInfos(): StrategyInfo[] {
  infos ??= strategies.map((s) => {
    let paramsSchema: Record<string, unknown> = {};
    try {
      paramsSchema = z.toJSONSchema(s.params, { io: "input" }) as Record<string, unknown>;
    } catch {
      paramsSchema = { type: "object" };
    }
    return {
      name: s.name,
      title: s.title,
      summary: s.summary,
      citation: s.citation,
      paramsSchema,
      defaults: s.params.parse({}) as Record<string, unknown>,
    };
  });
  return infos;
}
