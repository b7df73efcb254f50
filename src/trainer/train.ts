import * as fs from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { strategies } from "../core/strategies/index";
import { SYNTHETIC_TASKS, type TrainingConfig, taskNamesOf } from "../protocol/config";
import {
  type DoneMessage,
  type EvalMessage,
  PROTOCOL_VERSION,
  type RunSummary,
  type SplitMetrics,
  type StepMessage,
  type StrategyInfo,
  type TrainerMessage,
} from "../protocol/messages";
import { runPaths } from "../protocol/runlog";
import type { BackendChoice } from "./backend";
import {
  readCheckpoint,
  restoreCheckpoint,
  restoreWeights,
  snapshotWeights,
  type TrainerPosition,
  writeCheckpoint,
} from "./checkpoint";
import { applyCommands, type CommandChannel, type Controls } from "./control";
import { batchCount, batches, type Dataset, loadDataset } from "./data/index";
import { evaluateSplit, toSplitMetrics } from "./evaluate";
import { type ActiveStrategy, type AppliedStep, activeStrategy, GradientEngine } from "./gradients";
import { MultiTaskModel } from "./model/model";
import { Adam } from "./optimizer";
import { stepThreads, WorkerPool } from "./parallel/pool";

/**
 * The training loop (issue 3): a pipeline of data source -> model -> gradient engine ->
 * strategy -> optimizer, observed by the evaluator and the recorder (event log, checkpoints,
 * summary). Host commands are applied at each step boundary (control.ts).
 */

export interface TrainRequest {
  /** The resolved config (defaults and preset applied). */
  readonly config: TrainingConfig;
  /** Folder relative data paths resolve from. */
  readonly baseDir: string;
  /** Run folder (config.json, events via the channel, checkpoints, summary.json); null: none. */
  readonly runDir: string | null;
  /** Carries every message out (and to the event log) and commands in. */
  readonly channel: CommandChannel;
  readonly backend: BackendChoice;
  /** Continue from `runDir`'s last checkpoint. */
  readonly resume?: boolean;
  /** A dataset already in memory (tests, benchmarks). */
  readonly dataset?: Dataset;
  /** Sees every message (progress display). */
  readonly observe?: (message: TrainerMessage) => void;
  /**
   * What early stopping and the kept weights follow on validation; default the mean AUC over
   * tasks (the paper's protocol). `bench quality` selects a Single run on its one task's AUC.
   */
  readonly selectOn?: (validation: SplitMetrics) => number | null;
  /** Called once the data is loaded, with the planned number of steps (progress display). */
  readonly onPlan?: (plan: { totalSteps: number; stepsPerEpoch: number; startStep: number }) => void;
  readonly version?: string;
}

export interface TrainResult {
  readonly reason: DoneMessage["reason"];
  readonly summary: RunSummary;
  readonly taskNames: string[];
}

const v = PROTOCOL_VERSION;

export async function train(request: TrainRequest): Promise<TrainResult> {
  // Once `hello` is out, a crash still ends the stream properly: a fatal error, then done.
  let helloSent = false;
  let lastStep = 0;
  const started = Date.now();
  const channel: CommandChannel = {
    send: (message) => {
      if (message.type === "hello") helloSent = true;
      if (message.type === "step") lastStep = message.step;
      request.channel.send(message);
    },
    takeCommands: () => request.channel.takeCommands(),
    nextCommand: () => request.channel.nextCommand(),
    ack: (command, outcome) => request.channel.ack(command, outcome),
  };
  // The worker threads that share each step (runTraining starts them): closed however the run ends.
  const threads: { pool?: WorkerPool } = {};
  try {
    return await runTraining({ ...request, channel }, threads);
  } catch (error) {
    if (helloSent) {
      const message = error instanceof Error ? error.message : String(error);
      const detail = error instanceof Error ? error.stack : undefined;
      channel.send({ v, type: "error", message, ...(detail ? { detail } : {}), step: lastStep, fatal: true });
      channel.send({
        v,
        type: "done",
        reason: "failed",
        summary: { steps: lastStep, wallMs: Date.now() - started, splits: {} },
      });
    }
    throw error;
  } finally {
    await threads.pool?.close();
  }
}

async function runTraining(request: TrainRequest, threads: { pool?: WorkerPool }): Promise<TrainResult> {
  const { config, channel, runDir } = request;
  const started = Date.now();
  const emit = (message: TrainerMessage) => {
    channel.send(message);
    request.observe?.(message);
  };
  const settings = config.training;

  // The checkpoint to resume from is read first: `hello` says where the run resumes.
  const last = request.resume
    ? readCheckpoint(join(runPaths(requireRunDir(runDir)).checkpoints, "last"))
    : null;
  // `hello` goes out before the data loads (task names come from the config), so a host sees
  // the loading progress.
  const taskNames = request.dataset?.taskNames ?? configuredTaskNames(config);
  // Threads that share each step (docs/architecture.md, "Every core"): known before the data loads.
  const stepThreadCount = stepThreads(config.threads, request.backend.name, settings.batchSize);
  emit({
    v,
    type: "hello",
    trainer: { name: "gradcraft-tfjs", version: request.version ?? "0.1.0" },
    backend: { name: request.backend.name, reason: request.backend.summary, threads: stepThreadCount },
    tasks: taskNames,
    strategies: strategyInfos(),
    runDir,
    startedAt: new Date(started).toISOString(),
    pid: process.pid,
    ...(last && runDir ? { resumedFrom: { runDir, step: last.state.position.step } } : {}),
  });
  emit({ v, type: "config", config });

  // Data source -> model -> gradient engine -> strategy -> optimizer.
  const data =
    request.dataset ??
    (await loadDataset(config.data, {
      baseDir: request.baseDir,
      onProgress: (phase, fraction) => emit({ v, type: "progress", phase, fraction }),
    }));
  if (data.taskNames.join("\u0000") !== taskNames.join("\u0000"))
    throw new Error(
      `the data's tasks (${data.taskNames.join(", ")}) differ from the configured ones (${taskNames.join(", ")})`,
    );
  const k = data.taskNames.length;
  const shape = {
    vocabularies: data.vocabularySizes,
    numericFeatures: data.numericNames.length,
    tasks: k,
    featureNames: data.featureNames,
    slots: data.featureSlots,
  };
  const model = new MultiTaskModel(config.model, shape, settings.seed);
  const optimizer = new Adam(
    { learningRate: settings.learningRate, l2: settings.l2, clipNorm: settings.clipNorm },
    model.denseVariables(),
    settings.embeddingOptimizer,
  );
  if (stepThreadCount > 1)
    threads.pool = await WorkerPool.start(stepThreadCount - 1, {
      backend: request.backend.name,
      config: config.model,
      shape,
      seed: settings.seed,
    });
  const engine = new GradientEngine(model, optimizer, settings.gradientScope, settings.seed, threads.pool);
  let position: TrainerPosition = {
    step: 0,
    epoch: 0,
    nextBatch: 0,
    seed: settings.seed,
    bestAuc: null,
    bestStep: 0,
    evalsWithoutImprovement: 0,
    nonFiniteStreak: 0,
    evalEvery: settings.evalEvery,
    wallMs: 0,
  };
  const controls: Controls = {
    k,
    strategy: activeStrategy(config.strategy.name, config.strategy.params, k),
    optimizer,
    evalEvery: settings.evalEvery,
    checkpoint: async (reason) => checkpoint(reason === "best" ? "best" : "last", reason),
    evaluate: async (split) => {
      await evaluate(split, false);
    },
  };
  let best: ReturnType<typeof snapshotWeights> | null = null;
  if (last && runDir) {
    restoreCheckpoint(last, model, optimizer);
    position = { ...last.state.position };
    controls.evalEvery = position.evalEvery;
    controls.strategy = activeStrategy(
      last.state.strategy.name,
      last.state.strategy.params,
      k,
      last.state.strategy.state,
    );
    if (fs.existsSync(join(runPaths(runDir).checkpoints, "best"))) {
      const current = snapshotWeights(model);
      restoreCheckpoint(readCheckpoint(join(runPaths(runDir).checkpoints, "best")), model, optimizer, true);
      best = snapshotWeights(model);
      restoreWeights(model, current);
    }
  }
  const earlierWallMs = position.wallMs; // time spent before a resume
  const wallMs = () => earlierWallMs + (Date.now() - started);

  function checkpoint(name: "last" | "best", reason: string): string | null {
    if (!runDir) return null;
    const s = controls.strategy;
    position.evalEvery = controls.evalEvery;
    const relative = `checkpoints/${name}`;
    writeCheckpoint(
      join(runDir, relative),
      model,
      optimizer,
      { ...position, wallMs: wallMs() },
      {
        name: s.definition.name,
        params: s.params,
        state: s.state,
      },
    );
    emit({ v, type: "checkpoint", step: position.step, path: relative, reason });
    return relative;
  }

  async function evaluate(split: "train" | "validation" | "test", track: boolean): Promise<SplitMetrics> {
    const t0 = Date.now();
    const metrics = toSplitMetrics(await evaluateSplit(model, data[split]), data.taskNames);
    let isBest = false;
    if (track) {
      const auc = request.selectOn ? request.selectOn(metrics) : metrics.mean.auc;
      isBest = auc !== null && (position.bestAuc === null || auc > position.bestAuc);
      if (isBest) {
        position.bestAuc = auc;
        position.bestStep = position.step;
        position.evalsWithoutImprovement = 0;
        best = snapshotWeights(model);
      } else position.evalsWithoutImprovement++;
    }
    const message: EvalMessage = {
      v,
      type: "eval",
      split,
      step: position.step,
      epoch: position.epoch,
      ...metrics,
      best: isBest,
      durationMs: Date.now() - t0,
    };
    emit(message);
    if (isBest) checkpoint("best", "best");
    return metrics;
  }

  emit({
    v,
    type: "strategy-changed",
    step: position.step,
    name: controls.strategy.definition.name,
    params: controls.strategy.params,
    previous: null,
    reason: request.resume ? "resume" : "initial",
  });
  if (runDir && !request.resume) {
    const parameters = model.parameterCount;
    emit({
      v,
      type: "log",
      level: "info",
      message: `model ${config.model.type}: ${parameters.embeddings} embedding, ${parameters.shared} shared dense, ${parameters.towers} tower parameters`,
    });
  }

  const perEpoch = batchCount(data.train, settings.batchSize);
  const planned = settings.epochs * perEpoch;
  request.onPlan?.({
    totalSteps: settings.maxSteps !== undefined ? Math.min(settings.maxSteps, planned) : planned,
    stepsPerEpoch: perEpoch,
    startStep: position.step,
  });
  let reason: DoneMessage["reason"] = "completed";
  let failure: string | null = null;
  let lastEvalStep = -1;
  const validate = async (): Promise<boolean> => {
    lastEvalStep = position.step;
    await evaluate("validation", true);
    return position.evalsWithoutImprovement >= settings.patience;
  };

  training: while (position.epoch < settings.epochs) {
    for (const batch of batches(data.train, {
      batchSize: settings.batchSize,
      seed: settings.seed,
      epoch: position.epoch,
      startBatch: position.nextBatch,
    })) {
      if ((await applyCommands(channel, controls, position.step)) === "stop") {
        reason = "stopped";
        break training;
      }
      const report = await engine.step(batch, controls.strategy, position.step + 1);
      position.nextBatch = batch.index + 1;
      if (report.status === "skipped") {
        position.nonFiniteStreak++;
        const names = report.tasks.map((t) => data.taskNames[t]).join(", ") || "the combined update";
        const fatal = position.nonFiniteStreak >= settings.maxNonFiniteSteps;
        emit({
          v,
          type: "error",
          message:
            `step ${position.step + 1} skipped: ${report.reason} (${names}); weights unchanged` +
            (fatal ? `; ${position.nonFiniteStreak} such steps in a row: stopping` : ""),
          ...(report.tasks.length > 0 ? { task: report.tasks[0] } : {}),
          step: position.step,
          fatal,
        });
        if (fatal) {
          reason = "failed";
          failure = `training stopped after ${position.nonFiniteStreak} consecutive non-finite steps (last: ${names}); the last checkpoint is intact`;
          break training;
        }
        continue;
      }
      position.nonFiniteStreak = 0;
      position.step++;
      emit(
        stepMessage(report, position, perEpoch, wallMs(), controls.strategy, optimizer.settings.learningRate),
      );
      if (position.step % controls.evalEvery === 0 && (await validate())) {
        reason = "early-stopped";
        break training;
      }
      if (settings.checkpointEvery > 0 && position.step % settings.checkpointEvery === 0)
        checkpoint("last", "periodic");
      if (settings.maxSteps !== undefined && position.step >= settings.maxSteps) break training;
    }
    position.epoch++;
    position.nextBatch = 0;
    if (lastEvalStep !== position.step && (await validate())) {
      reason = "early-stopped";
      break;
    }
  }

  // Finish: keep the position for --resume, then report the best weights.
  if (lastEvalStep !== position.step && reason !== "failed") await validate();
  if (reason !== "failed") checkpoint("last", reason === "stopped" ? "stop" : "final");
  if (best) restoreWeights(model, best);
  const summary: RunSummary = {
    steps: position.step,
    epochs: position.epoch + position.nextBatch / Math.max(1, perEpoch),
    wallMs: wallMs(),
    ...(position.bestStep > 0 ? { bestStep: position.bestStep } : {}),
    strategy: controls.strategy.definition.name,
    splits: {
      validation: await evaluate("validation", false),
      test: await evaluate("test", false),
    },
  };
  if (runDir) writeJsonAtomic(runPaths(runDir).summary, summary);
  if (failure) emit({ v, type: "error", message: failure, step: position.step, fatal: true });
  emit({ v, type: "done", reason, summary });
  optimizer.dispose();
  model.dispose();
  return { reason, summary, taskNames: data.taskNames };
}

function stepMessage(
  report: AppliedStep,
  position: TrainerPosition,
  perEpoch: number,
  wallMs: number,
  strategy: ActiveStrategy,
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
    strategy: strategy.definition.name,
    learningRate,
    stepTimeMs: report.ms,
  };
}

function requireRunDir(runDir: string | null): string {
  if (!runDir) throw new Error("resume needs the run folder");
  return runDir;
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

function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, path);
}
