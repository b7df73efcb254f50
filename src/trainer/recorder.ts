import * as fs from "node:fs";
import { join } from "node:path";
import {
  type EvalMessage,
  PROTOCOL_VERSION,
  type SplitMetrics,
  type TrainerMessage,
} from "../protocol/messages";
import {
  restoreWeights,
  snapshotWeights,
  type TrainerPosition,
  type WeightsSnapshot,
  writeCheckpoint,
} from "./checkpoint";
import type { Controls } from "./control";
import type { Dataset } from "./data/index";
import { evaluateSplit, toSplitMetrics } from "./evaluate";
import type { MultiTaskModel } from "./model/model";
import type { Adam } from "./optimizer";

/**
 * The run recorder: the observer at the end of the pipeline. It owns where the run stands (the
 * position a checkpoint saves), writes checkpoints, evaluates, and keeps the best weights for
 * early stopping. The loop advances the position; everything else about it happens here.
 */

export type Split = "train" | "validation" | "test";

export interface RecorderContext {
  readonly runDir: string | null;
  readonly data: Dataset;
  readonly model: MultiTaskModel;
  readonly optimizer: Adam;
  /** The strategy and evaluation interval in force (host commands change them). */
  readonly controls: Pick<Controls, "strategy" | "evalEvery">;
  readonly emit: (message: TrainerMessage) => void;
  /** What early stopping follows on validation; default the mean AUC over tasks. */
  readonly selectOn?: (validation: SplitMetrics) => number | null;
  readonly patience: number;
  /** The checkpoint policy (training.checkpointEvery, training.checkpointEverySeconds). */
  readonly checkpoints: { readonly everySteps: number; readonly everySeconds: number };
  /** When this process started the run (clock()): the wall time adds to the position's. */
  readonly started: number;
  /** The wall clock in ms (Date.now; tests pass their own). */
  readonly clock: () => number;
}

const v = PROTOCOL_VERSION;

export class RunRecorder {
  /** Time spent in earlier processes of this run (before a resume). */
  private readonly earlierWallMs: number;
  /** When checkpoints/last was last written (clock()), and whether an evaluation came since. */
  private lastCheckpointAt: number;
  private evaluatedSinceCheckpoint = false;

  constructor(
    private readonly context: RecorderContext,
    /** Where the run stands: the loop advances step, epoch and batch; evaluations the rest. */
    readonly position: TrainerPosition,
    /** The weights of the best validation so far (null: none yet). */
    private best: WeightsSnapshot | null,
  ) {
    this.earlierWallMs = position.wallMs;
    this.lastCheckpointAt = context.started;
  }

  wallMs(): number {
    return this.earlierWallMs + (this.context.clock() - this.context.started);
  }

  /** True when the weights at this step have had their tracked validation already. */
  get validatedThisStep(): boolean {
    return this.position.validatedStep === this.position.step;
  }

  /** Writes `checkpoints/<name>` and announces it; null when the run has no folder. */
  checkpoint(name: "last" | "best", reason: string): string | null {
    const { runDir, model, optimizer, controls, emit } = this.context;
    if (!runDir) return null;
    const strategy = controls.strategy;
    this.position.evalEvery = controls.evalEvery;
    const relative = `checkpoints/${name}`;
    writeCheckpoint(
      join(runDir, relative),
      model,
      optimizer,
      { ...this.position, wallMs: this.wallMs() },
      { name: strategy.definition.name, params: strategy.params, state: strategy.state },
    );
    emit({ v, type: "checkpoint", step: this.position.step, path: relative, reason });
    if (name === "last") {
      this.lastCheckpointAt = this.context.clock();
      this.evaluatedSinceCheckpoint = false;
    }
    return relative;
  }

  /**
   * Keeps the run resumable: writes checkpoints/last after an evaluation, every `checkpointEvery`
   * steps, and once `checkpointEverySeconds` have passed since the last one, so a crash loses at
   * most that much training.
   */
  keepResumable(): void {
    const { everySteps, everySeconds } = this.context.checkpoints;
    const step = this.position.step;
    if (this.evaluatedSinceCheckpoint) this.checkpoint("last", "evaluation");
    else if (everySteps > 0 && step > 0 && step % everySteps === 0) this.checkpoint("last", "periodic");
    else if (everySeconds > 0 && this.context.clock() - this.lastCheckpointAt >= everySeconds * 1000)
      this.checkpoint("last", "periodic");
  }

  /**
   * Evaluates the current weights on a split and emits the result. A tracked evaluation (the
   * validation that early stopping follows) updates the best state and writes `checkpoints/best`.
   */
  async evaluate(split: Split, track: boolean): Promise<SplitMetrics> {
    const { model, data, selectOn, emit } = this.context;
    const position = this.position;
    const t0 = Date.now();
    const metrics = toSplitMetrics(await evaluateSplit(model, data[split]), data.taskNames);
    let isBest = false;
    if (track) {
      const score = selectOn ? selectOn(metrics) : metrics.mean.auc;
      isBest = score !== null && (position.bestAuc === null || score > position.bestAuc);
      if (isBest) {
        position.bestAuc = score;
        position.bestStep = position.step;
        position.evalsWithoutImprovement = 0;
        this.best = snapshotWeights(model);
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
    if (isBest) this.checkpoint("best", "best");
    return metrics;
  }

  /** The tracked validation; true when it exhausts the patience (early stopping). */
  async validate(): Promise<boolean> {
    this.position.validatedStep = this.position.step;
    this.evaluatedSinceCheckpoint = true;
    await this.evaluate("validation", true);
    return this.position.evalsWithoutImprovement >= this.context.patience;
  }

  /** Puts the best weights back into the model (no-op before any tracked validation). */
  restoreBest(): void {
    if (this.best) restoreWeights(this.context.model, this.best);
  }
}

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  fs.renameSync(tmp, path);
}
