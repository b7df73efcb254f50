import * as fs from "node:fs";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { readJsonFile } from "../protocol/configFile";
import type { MultiTaskModel } from "./model/model";
import type { Adam, OptimizerSettings } from "./optimizer";

/**
 * Checkpoints: a folder `checkpoints/<name>/` with `state.json` (counters, data position,
 * strategy, hyperparameters, tensor index) and `tensors.bin` (every float32 array, back to back:
 * dense variables, their Adam moments, embedding tables and their moments).
 *
 * Written atomically: into a temporary folder beside it, then renamed over the old one (the old
 * one is moved aside first and deleted after), so a crash leaves either checkpoint whole.
 * RNG state: dropout masks are a function of (seed, step) and the data order of (seed, epoch),
 * so the counters are the whole random state.
 */

export interface TrainerPosition {
  /** Steps completed. */
  step: number;
  /** Epoch of the next batch (0-based) and its index within the epoch. */
  epoch: number;
  nextBatch: number;
  seed: number;
  /** Early stopping. */
  bestAuc: number | null;
  bestStep: number;
  evalsWithoutImprovement: number;
  nonFiniteStreak: number;
  evalEvery: number;
  wallMs: number;
}

export interface CheckpointState {
  format: "gradcraft-checkpoint/1";
  position: TrainerPosition;
  optimizer: OptimizerSettings & { step: number };
  strategy: { name: string; params: Record<string, unknown>; state: unknown };
  tensors: Array<{ name: string; length: number }>;
}

export const STATE_FILE = "state.json";
export const TENSORS_FILE = "tensors.bin";

/** Every array a checkpoint holds, in a fixed order, with a name for error messages. */
function arrays(
  model: MultiTaskModel,
  optimizer: Adam,
): Array<{ name: string; length: number; read: () => Float32Array; write: (v: Float32Array) => void }> {
  const dense = model.denseVariables();
  const moments = optimizer.momentVariables(dense);
  const variableEntry = (v: tf.Variable, name: string) => ({
    name,
    length: v.size,
    read: () => v.dataSync() as Float32Array,
    write: (values: Float32Array) => v.assign(tf.tensor(values, v.shape)),
  });
  const hostEntry = (array: Float32Array, name: string) => ({
    name,
    length: array.length,
    read: () => array,
    write: (values: Float32Array) => array.set(values),
  });
  const e = model.embeddings;
  return [
    ...dense.map((v, i) => variableEntry(v, `dense/${i}:${shortName(v.name)}`)),
    ...moments.map((v, i) => variableEntry(v, `adam/${i}`)),
    ...e.tables.map((t, f) => hostEntry(t, `embedding/${f}`)),
    ...e.m.map((t, f) => hostEntry(t, `embedding-m/${f}`)),
    ...e.v.map((t, f) => hostEntry(t, `embedding-v/${f}`)),
  ];
}

function shortName(name: string): string {
  return name.replace(/^model\d+\//, "");
}

export function writeCheckpoint(
  dir: string,
  model: MultiTaskModel,
  optimizer: Adam,
  position: TrainerPosition,
  strategy: CheckpointState["strategy"],
): void {
  const entries = arrays(model, optimizer);
  const tmp = `${dir}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  const fd = fs.openSync(join(tmp, TENSORS_FILE), "w");
  const index: CheckpointState["tensors"] = [];
  try {
    for (const entry of entries) {
      const values = entry.read();
      fs.writeSync(fd, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
      index.push({ name: entry.name, length: values.length });
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const state: CheckpointState = {
    format: "gradcraft-checkpoint/1",
    position,
    optimizer: { ...optimizer.settings, step: optimizer.step },
    strategy,
    tensors: index,
  };
  fs.writeFileSync(join(tmp, STATE_FILE), `${JSON.stringify(state)}\n`);
  const old = `${dir}.old-${process.pid}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  fs.rmSync(old, { recursive: true, force: true });
}

/** Reads a checkpoint folder (or the one a crash left moved aside). */
export function readCheckpoint(dir: string): { state: CheckpointState; data: Buffer } {
  let where = dir;
  if (!fs.existsSync(join(dir, STATE_FILE))) {
    const parent = join(dir, "..");
    const base = dir.split(/[\\/]/).pop() ?? "";
    const aside = fs.existsSync(parent)
      ? fs.readdirSync(parent).find((f) => f.startsWith(`${base}.old-`))
      : undefined;
    if (!aside) throw new Error(`no checkpoint at ${dir} (missing ${STATE_FILE})`);
    where = join(parent, aside);
  }
  const state = readJsonFile(join(where, STATE_FILE)) as CheckpointState;
  if (state.format !== "gradcraft-checkpoint/1")
    throw new Error(`${where}: unknown checkpoint format ${JSON.stringify(state.format)}`);
  return { state, data: fs.readFileSync(join(where, TENSORS_FILE)) };
}

/** Loads weights (and, unless `weightsOnly`, optimizer moments) into a model built from the same config. */
export function restoreCheckpoint(
  checkpoint: { state: CheckpointState; data: Buffer },
  model: MultiTaskModel,
  optimizer: Adam,
  weightsOnly = false,
): void {
  const entries = arrays(model, optimizer);
  const { state, data } = checkpoint;
  if (state.tensors.length !== entries.length)
    throw new Error(
      `checkpoint holds ${state.tensors.length} arrays, this model has ${entries.length}: was it written for another model config?`,
    );
  let offset = 0;
  tf.tidy(() => {
    entries.forEach((entry, i) => {
      const { length, name } = state.tensors[i];
      // Sizes come from the shapes: reading every variable off the device just to count is waste.
      const expected = entry.length;
      if (length !== expected)
        throw new Error(`checkpoint array ${name} has ${length} values, the model expects ${expected}`);
      const isMoment =
        name.startsWith("adam/") || name.startsWith("embedding-m/") || name.startsWith("embedding-v/");
      if (!(weightsOnly && isMoment)) {
        const copy = new Float32Array(length);
        new Uint8Array(copy.buffer).set(data.subarray(offset, offset + length * 4));
        entry.write(copy);
      }
      offset += length * 4;
    });
  });
  if (!weightsOnly) {
    optimizer.step = state.optimizer.step;
    optimizer.settings.learningRate = state.optimizer.learningRate;
    optimizer.settings.l2 = state.optimizer.l2;
    optimizer.settings.clipNorm = state.optimizer.clipNorm;
  }
}

/** An in-memory copy of the weights (for restoring the best ones at the end). */
export interface WeightsSnapshot {
  readonly dense: Float32Array[];
  readonly tables: Float32Array[];
}

export function snapshotWeights(model: MultiTaskModel): WeightsSnapshot {
  return {
    dense: model.denseVariables().map((v) => Float32Array.from(v.dataSync() as Float32Array)),
    tables: model.embeddings.tables.map((t) => Float32Array.from(t)),
  };
}

export function restoreWeights(model: MultiTaskModel, snapshot: WeightsSnapshot): void {
  tf.tidy(() => {
    model.denseVariables().forEach((v, i) => {
      v.assign(tf.tensor(snapshot.dense[i], v.shape));
    });
  });
  model.embeddings.tables.forEach((t, i) => {
    t.set(snapshot.tables[i]);
  });
}
