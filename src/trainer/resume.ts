import * as fs from "node:fs";
import { join } from "node:path";
import { runPaths } from "../protocol/runlog";
import {
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
 * position, strategy with its state), and early stopping from `checkpoints/best`'s weights.
 */

export type Checkpoint = ReturnType<typeof readCheckpoint>;

/** Read before anything is built: `hello` says where the run resumes. */
export function readResumePoint(runDir: string): Checkpoint {
  return readCheckpoint(join(runPaths(runDir).checkpoints, "last"));
}

export interface Resumed {
  readonly position: TrainerPosition;
  readonly strategy: ActiveStrategy;
  readonly best: WeightsSnapshot | null;
}

/** Loads the checkpoint into a model and optimizer built from the run's config. */
export function resumeFrom(
  last: Checkpoint,
  runDir: string,
  model: MultiTaskModel,
  optimizer: Adam,
): Resumed {
  restoreCheckpoint(last, model, optimizer);
  const saved = last.state.strategy;
  const strategy = activeStrategy(saved.name, saved.params, model.shape.tasks, saved.state);
  return { position: { ...last.state.position }, strategy, best: bestWeights(runDir, model, optimizer) };
}

/** The weights of `checkpoints/best`, leaving the model's own weights as they were. */
function bestWeights(runDir: string, model: MultiTaskModel, optimizer: Adam): WeightsSnapshot | null {
  const dir = join(runPaths(runDir).checkpoints, "best");
  if (!fs.existsSync(dir)) return null;
  const current = snapshotWeights(model);
  restoreCheckpoint(readCheckpoint(dir), model, optimizer, true);
  const best = snapshotWeights(model);
  restoreWeights(model, current);
  return best;
}
