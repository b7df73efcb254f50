import * as fs from "node:fs";
import { join } from "node:path";
import type { TrainingSettings } from "../protocol/config";
import { JsonFileError } from "../protocol/configFile";
import { runPaths } from "../protocol/runlog";
import {
  type Checkpoint,
  CheckpointError,
  cleanCheckpointLeftovers,
  readCheckpoint,
  restoreCheckpoint,
  restoreWeights,
  snapshotWeights,
  type TrainerPosition,
  type WeightsSnapshot,
} from "./checkpoint";
import { type ActiveStrategy, activeStrategy } from "./gradients";
import type { MultiTaskModel } from "./model/model";
import type { Adam } from "./optimizer";

/**
 * The resume step: a run goes on from its folder's `checkpoints/last` (weights, Adam moments,
 * position, strategy with its state), or from `checkpoints/best` when `last` is missing or
 * damaged (and says so), or from step 0 when the run stopped before its first checkpoint.
 * Early stopping goes on from the best weights that belong to the checkpoint's position.
 */

export interface ResumePoint {
  /** The checkpoint the run goes on from; null: none was written, the run starts again. */
  readonly checkpoint: Checkpoint | null;
  readonly from: "last" | "best" | null;
  /** Step the run goes on from. */
  readonly step: number;
  /** What the resume met on the way (a damaged checkpoint, leftovers), for the run's log. */
  readonly notes: string[];
}

/** Resuming refused: the run has finished its budget, or no checkpoint can be trusted. */
export class ResumeError extends Error {
  override readonly name = "ResumeError";
}

/** Read before anything is built: `hello` says where the run resumes. */
export function findResumePoint(runDir: string, settings: TrainingSettings): ResumePoint {
  const dir = runPaths(runDir).checkpoints;
  const notes = cleanCheckpointLeftovers(dir).map((what) => `checkpoints: ${what} (left by a crash)`);
  const problems: string[] = [];
  for (const name of ["last", "best"] as const) {
    const path = join(dir, name);
    if (!fs.existsSync(path) && !fs.readdirSync(dir).some((f) => f.startsWith(`${name}.old-`))) continue;
    try {
      const checkpoint = readCheckpoint(path);
      const step = checkpoint.state.position.step;
      if (problems.length > 0) notes.push(...problems, `resuming from checkpoints/${name} at step ${step}`);
      refuseFinished(checkpoint.state.position, settings);
      return { checkpoint, from: name, step, notes };
    } catch (error) {
      if (!(error instanceof CheckpointError || error instanceof JsonFileError)) throw error;
      problems.push(`checkpoints/${name} cannot be used: ${error.message}`);
    }
  }
  if (problems.length > 0) throw new ResumeError(`cannot resume ${runDir}:\n  ${problems.join("\n  ")}`);
  notes.push("no checkpoint was written before the run stopped: it starts again from step 0");
  return { checkpoint: null, from: null, step: 0, notes };
}

/** A run that has used its budget goes on only when given a larger one. */
function refuseFinished(position: TrainerPosition, settings: TrainingSettings): void {
  const finished =
    position.epoch >= settings.epochs
      ? `all ${settings.epochs} epochs`
      : settings.maxSteps !== undefined && position.step >= settings.maxSteps
        ? `its ${settings.maxSteps} steps (training.maxSteps)`
        : position.evalsWithoutImprovement >= settings.patience
          ? `its patience (${settings.patience} evaluations without improvement)`
          : null;
  if (finished)
    throw new ResumeError(
      `the run already finished ${finished} at step ${position.step}: give it a larger budget to go on (--max-steps more than ${position.step}, or training.epochs / training.patience in its config.json)`,
    );
}

export interface Resumed {
  readonly position: TrainerPosition;
  readonly strategy: ActiveStrategy;
  readonly best: WeightsSnapshot | null;
}

/** Loads the checkpoint into a model and optimizer built from the run's config. */
export function resumeFrom(
  point: ResumePoint & { checkpoint: Checkpoint },
  runDir: string,
  model: MultiTaskModel,
  optimizer: Adam,
): Resumed {
  const { checkpoint } = point;
  restoreCheckpoint(checkpoint, model, optimizer);
  const saved = checkpoint.state.strategy;
  const strategy = activeStrategy(saved.name, saved.params, model.shape.tasks, saved.state);
  const position = { ...checkpoint.state.position };
  return { position, strategy, best: bestWeights(runDir, position, model, optimizer) };
}

/**
 * The weights early stopping keeps: those of `checkpoints/best` when it was written at the
 * position's best step; the model's own when that step is the position's. A best checkpoint of
 * another step belongs to a timeline the resume discards.
 */
function bestWeights(
  runDir: string,
  position: TrainerPosition,
  model: MultiTaskModel,
  optimizer: Adam,
): WeightsSnapshot | null {
  if (position.bestStep === 0 && position.bestAuc === null) return null;
  if (position.bestStep === position.step) return snapshotWeights(model);
  let best: Checkpoint;
  try {
    best = readCheckpoint(join(runPaths(runDir).checkpoints, "best"));
  } catch {
    return null;
  }
  if (best.state.position.step !== position.bestStep) return null;
  const current = snapshotWeights(model);
  restoreCheckpoint(best, model, optimizer, true);
  const weights = snapshotWeights(model);
  restoreWeights(model, current);
  return weights;
}
