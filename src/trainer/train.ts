import type { TrainingConfig } from "../protocol/config";
import {
  type DoneMessage,
  PROTOCOL_VERSION,
  type RunSummary,
  type SplitMetrics,
  type TrainerMessage,
} from "../protocol/messages";
import { runPaths } from "../protocol/runlog";
import { configuredTaskNames, helloMessage, parameterLog, stepMessage } from "./announce";
import type { BackendChoice } from "./backend";
import type { TrainerPosition } from "./checkpoint";
import { applyCommands, type CommandChannel, type Controls, type Interruption } from "./control";
import { batchCount, batches, type Dataset, loadDataset } from "./data/index";
import { activeStrategy, GradientEngine, type SkippedStep } from "./gradients";
import { MultiTaskModel } from "./model/model";
import { Adam } from "./optimizer";
import { stepThreads, WorkerPool } from "./parallel/pool";
import { RunRecorder, writeJsonAtomic } from "./recorder";
import { findResumePoint, type ResumePoint, resumeFrom } from "./resume";

/**
 * The training loop: a pipeline of data source -> model -> gradient engine -> strategy ->
 * optimizer, observed by the evaluator and the recorder (event log, checkpoints, summary; see
 * recorder.ts). Host commands are applied at each step boundary (control.ts). `runTraining`
 * reads top to bottom: resume point, hello, the pipeline, the loop (`trainSteps`, which returns
 * why it stopped), then `finish`.
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
  /** The wall clock in ms, for wall times and the checkpoint policy (default Date.now). */
  readonly clock?: () => number;
  /**
   * Aborted (with an Interruption as its reason) to stop the run at the next step boundary:
   * `checkpoints/last`, summary and `done` (reason "interrupted") are still written.
   */
  readonly interrupt?: AbortSignal;
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
  try {
    return await runTraining({ ...request, channel });
  } catch (error) {
    // Interrupted while loading, before anything could be trained or checkpointed.
    const interruption = request.interrupt?.aborted ? (request.interrupt.reason as Interruption) : null;
    if (helloSent && interruption) {
      const summary: RunSummary = {
        reason: "interrupted",
        interruptedBy: interruption.by,
        steps: 0,
        wallMs: Date.now() - started,
        splits: {},
      };
      if (request.runDir) writeJsonAtomic(runPaths(request.runDir).summary, summary);
      channel.send({ v, type: "log", level: "warn", message: interruption.message });
      channel.send({ v, type: "done", reason: "interrupted", summary });
      return { reason: "interrupted", summary, taskNames: configuredTaskNames(request.config) };
    }
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
  }
}

async function runTraining(request: TrainRequest): Promise<TrainResult> {
  const started = (request.clock ?? Date.now)();
  const emit = (message: TrainerMessage) => {
    request.channel.send(message);
    request.observe?.(message);
  };
  // The resume step's checkpoint is read first: `hello` says where the run resumes.
  const resume = request.resume
    ? findResumePoint(requireRunDir(request.runDir), request.config.training)
    : null;
  // Threads that share each step (docs/architecture.md, "Every core"): known before the data loads.
  const threads = stepThreads(
    request.config.threads,
    request.backend.name,
    request.config.training.batchSize,
  );
  emit(helloMessage({ ...request, started, resumedAt: resume?.step ?? null, threads }));
  emit({ v, type: "config", config: request.config });
  for (const note of resume?.notes ?? []) emit({ v, type: "log", level: "warn", message: note });
  const run = await buildRun(request, emit, started, resume, threads);
  try {
    return await trainAndFinish(run, resume !== null);
  } finally {
    await run.pool?.close();
  }
}

async function trainAndFinish(run: Run, resumed: boolean): Promise<TrainResult> {
  const { request, emit } = run;
  emit({
    v,
    type: "strategy-changed",
    step: run.recorder.position.step,
    name: run.controls.strategy.definition.name,
    params: run.controls.strategy.params,
    previous: null,
    reason: resumed ? "resume" : "initial",
  });
  if (request.runDir && !resumed) emit(parameterLog(request.config, run.model));
  const { epochs, maxSteps } = run.settings;
  request.onPlan?.({
    totalSteps: Math.min(maxSteps ?? Number.POSITIVE_INFINITY, epochs * run.perEpoch),
    stepsPerEpoch: run.perEpoch,
    startStep: run.recorder.position.step,
  });
  return finish(run, await trainSteps(run));
}

/** One run's pipeline and its observers, as the loop and `finish` see them. */
interface Run {
  readonly request: TrainRequest;
  readonly settings: TrainingConfig["training"];
  readonly data: Dataset;
  readonly model: MultiTaskModel;
  readonly optimizer: Adam;
  readonly engine: GradientEngine;
  /** The worker threads that share each step with this one; none on one thread. */
  readonly pool?: WorkerPool;
  /** What host commands change: the strategy, the optimizer's settings, the eval interval. */
  readonly controls: Controls;
  readonly recorder: RunRecorder;
  readonly emit: (message: TrainerMessage) => void;
  readonly perEpoch: number;
}

/** Why the loop ended; `failure` says why a failed run failed, `interruption` what interrupted it. */
interface Stop {
  readonly reason: DoneMessage["reason"];
  readonly failure?: string;
  readonly interruption?: Interruption;
}

/** Data source -> model -> gradient engine -> strategy -> optimizer, and the recorder; resumed when asked. */
async function buildRun(
  request: TrainRequest,
  emit: (message: TrainerMessage) => void,
  started: number,
  resume: ResumePoint | null,
  threads: number,
): Promise<Run> {
  const { config, runDir } = request;
  const settings = config.training;
  const data =
    request.dataset ??
    (await loadDataset(config.data, {
      baseDir: request.baseDir,
      onProgress: (phase, fraction) => emit({ v, type: "progress", phase, fraction }),
      signal: request.interrupt,
    }));
  const taskNames = request.dataset?.taskNames ?? configuredTaskNames(config);
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
  const resumed = resume?.checkpoint
    ? resumeFrom({ ...resume, checkpoint: resume.checkpoint }, requireRunDir(runDir), model, optimizer)
    : null;
  const position = resumed?.position ?? startPosition(settings);
  const controls: Controls = {
    k,
    strategy: resumed?.strategy ?? activeStrategy(config.strategy.name, config.strategy.params, k),
    optimizer,
    evalEvery: position.evalEvery,
    checkpoint: async (reason) => recorder.checkpoint(reason === "best" ? "best" : "last", reason),
    evaluate: async (split) => {
      await recorder.evaluate(split, false);
    },
    interrupt: request.interrupt,
  };
  const recorder = new RunRecorder(
    {
      runDir,
      data,
      model,
      optimizer,
      controls,
      emit,
      selectOn: request.selectOn,
      patience: settings.patience,
      checkpoints: { everySteps: settings.checkpointEvery, everySeconds: settings.checkpointEverySeconds },
      started,
      clock: request.clock ?? Date.now,
    },
    position,
    resumed?.best ?? null,
  );
  const perEpoch = batchCount(data.train, settings.batchSize);
  // Started last, so that nothing above can fail and leave worker threads running.
  const pool =
    threads > 1
      ? await WorkerPool.start(threads - 1, {
          backend: request.backend.name,
          config: config.model,
          shape,
          seed: settings.seed,
        })
      : undefined;
  const engine = new GradientEngine(model, optimizer, settings.gradientScope, settings.seed, pool);
  return { request, settings, data, model, optimizer, engine, pool, controls, recorder, emit, perEpoch };
}

/** The loop: commands at each step boundary, one step, its report, evaluation and checkpoint when due. */
async function trainSteps(run: Run): Promise<Stop> {
  const { settings, data, engine, controls, recorder } = run;
  const position = recorder.position;
  while (position.epoch < settings.epochs) {
    const epoch = { batchSize: settings.batchSize, seed: settings.seed, epoch: position.epoch };
    for (const batch of batches(data.train, { ...epoch, startBatch: position.nextBatch })) {
      const boundary = await applyCommands(run.request.channel, controls, position.step);
      if (boundary === "stop") return { reason: "stopped" };
      if (boundary === "interrupted") return interrupted(run);
      const report = await engine.step(batch, controls.strategy, position.step + 1);
      position.nextBatch = batch.index + 1;
      if (report.status === "skipped") {
        const failure = reportSkipped(run, report);
        if (failure) return { reason: "failed", failure };
        continue;
      }
      position.nonFiniteStreak = 0;
      position.step++;
      const strategy = controls.strategy.definition.name;
      const lr = run.optimizer.settings.learningRate;
      run.emit(stepMessage(report, position, run.perEpoch, recorder.wallMs(), strategy, lr));
      if (position.step % controls.evalEvery === 0 && (await recorder.validate()))
        return { reason: "early-stopped" };
      recorder.keepResumable();
      if (settings.maxSteps !== undefined && position.step >= settings.maxSteps)
        return { reason: "completed" };
    }
    position.epoch++;
    position.nextBatch = 0;
    if (!recorder.validatedThisStep && (await recorder.validate())) return { reason: "early-stopped" };
    recorder.keepResumable();
  }
  return { reason: "completed" };
}

/** A skipped non-finite step as a non-fatal error; after too many in a row, the failure that stops the run. */
function reportSkipped(run: Run, report: SkippedStep): string | null {
  const position = run.recorder.position;
  position.nonFiniteStreak++;
  const names = report.tasks.map((t) => run.data.taskNames[t]).join(", ") || "the combined update";
  const fatal = position.nonFiniteStreak >= run.settings.maxNonFiniteSteps;
  run.emit({
    v,
    type: "error",
    message:
      `step ${position.step + 1} skipped: ${report.reason} (${names}); weights unchanged` +
      (fatal ? `; ${position.nonFiniteStreak} such steps in a row: stopping` : ""),
    ...(report.tasks.length > 0 ? { task: report.tasks[0] } : {}),
    step: position.step,
    fatal,
  });
  return fatal
    ? `training stopped after ${position.nonFiniteStreak} consecutive non-finite steps (last: ${names}); the last checkpoint is intact`
    : null;
}

function interrupted(run: Run): Stop {
  const interruption = run.controls.interrupt?.reason as Interruption;
  const { step } = run.recorder.position;
  run.emit({
    v,
    type: "log",
    level: "warn",
    message: `${interruption.by}: stopped after step ${step}; gradcraft train --resume goes on from there`,
  });
  return { reason: "interrupted", interruption };
}

/**
 * The end of a run, in the order that matters:
 * 1. validate the weights as they are, unless the loop just did, so that the best state is final
 *    (not after a failure, nor after an interruption: that validation would count against the
 *    patience, and the resumed run would no longer be the uninterrupted one);
 * 2. write `checkpoints/last` with those weights and the position: `--resume` goes on from
 *    where training stopped, not from the best weights (an interrupted run writes it first of
 *    all: it is what a second signal must not lose);
 * 3. restore the best weights: they are the model the run keeps;
 * 4. report them (validation and test) in `summary.json` and `done`.
 */
async function finish(run: Run, stop: Stop): Promise<TrainResult> {
  const { recorder, emit } = run;
  const position = recorder.position;
  if (stop.reason === "interrupted") recorder.checkpoint("last", "interrupted");
  else if (stop.reason !== "failed") {
    if (!recorder.validatedThisStep) await recorder.validate();
    recorder.checkpoint("last", stop.reason === "stopped" ? "stop" : "final");
  }
  recorder.restoreBest();
  const summary: RunSummary = {
    reason: stop.reason,
    ...(stop.interruption ? { interruptedBy: stop.interruption.by } : {}),
    steps: position.step,
    epochs: position.epoch + position.nextBatch / Math.max(1, run.perEpoch),
    wallMs: recorder.wallMs(),
    ...(position.bestStep > 0 ? { bestStep: position.bestStep } : {}),
    strategy: run.controls.strategy.definition.name,
    splits: {
      validation: await recorder.evaluate("validation", false),
      test: await recorder.evaluate("test", false),
    },
  };
  if (run.request.runDir) writeJsonAtomic(runPaths(run.request.runDir).summary, summary);
  if (stop.failure) emit({ v, type: "error", message: stop.failure, step: position.step, fatal: true });
  emit({ v, type: "done", reason: stop.reason, summary });
  run.optimizer.dispose();
  run.model.dispose();
  return { reason: stop.reason, summary, taskNames: run.data.taskNames };
}

function startPosition(settings: TrainingConfig["training"]): TrainerPosition {
  return {
    step: 0,
    epoch: 0,
    nextBatch: 0,
    seed: settings.seed,
    bestAuc: null,
    bestStep: 0,
    evalsWithoutImprovement: 0,
    validatedStep: null,
    nonFiniteStreak: 0,
    evalEvery: settings.evalEvery,
    wallMs: 0,
  };
}

function requireRunDir(runDir: string | null): string {
  if (!runDir) throw new Error("resume needs the run folder");
  return runDir;
}
