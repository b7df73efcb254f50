import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { basename, dirname, join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { z } from "zod";
import { readJsonFile } from "../protocol/configFile";
import type { MultiTaskModel } from "./model/model";
import type { Adam } from "./optimizer";

/**
 * Checkpoints: a folder `checkpoints/<name>/` with `state.json` (counters, data position,
 * strategy, hyperparameters, tensor index) and `tensors.bin` (every float32 array, back to back:
 * dense variables, their Adam moments, embedding tables and their moments).
 *
 * Written atomically: into a temporary folder beside it, then renamed over the old one (the old
 * one is moved aside first and deleted after), so a crash leaves either checkpoint whole.
 * state.json records tensors.bin's size and SHA-256; reading verifies them, the state's fields
 * and that every value is finite, so a damaged checkpoint is refused instead of trained from.
 * RNG state: dropout masks are a function of (seed, step) and the data order of (seed, epoch),
 * so the counters are the whole random state.
 */

const count = z.number().int().min(0);

/** Where a run stands: everything besides the tensors that a resumed run needs. */
export const TrainerPosition = z.object({
  /** Steps completed. */
  step: count,
  /** Epoch of the next batch (0-based) and its index within the epoch. */
  epoch: count,
  nextBatch: count,
  seed: z.number().int(),
  /** Early stopping. */
  bestAuc: z.number().nullable(),
  bestStep: count,
  evalsWithoutImprovement: count,
  /** Step of the last validation early stopping counted (null: none yet). */
  validatedStep: count.nullable().default(null),
  nonFiniteStreak: count,
  evalEvery: z.number().int().positive(),
  wallMs: z.number().min(0),
});
export type TrainerPosition = z.output<typeof TrainerPosition>;

/** state.json, validated when read: a hand-edited or damaged one is refused, naming the field. */
export const CheckpointState = z.object({
  format: z.enum(["gradcraft-checkpoint/1", "gradcraft-checkpoint/2"]),
  position: TrainerPosition,
  optimizer: z.object({
    learningRate: z.number().positive(),
    l2: z.number().min(0),
    clipNorm: z.number().min(0),
    step: count,
  }),
  strategy: z.object({ name: z.string(), params: z.record(z.string(), z.unknown()), state: z.unknown() }),
  tensors: z.array(z.object({ name: z.string(), length: count })),
  /** Size and SHA-256 of each data file (from format 2 on). */
  files: z
    .record(z.string(), z.object({ bytes: count, sha256: z.string().regex(/^[0-9a-f]{64}$/) }))
    .optional(),
});
export type CheckpointState = z.infer<typeof CheckpointState>;

/** A checkpoint read and verified: its state and its tensors' bytes. */
export interface Checkpoint {
  readonly state: CheckpointState;
  readonly data: Buffer;
}

/** Why a checkpoint cannot be used, naming the file and the problem. */
export class CheckpointError extends Error {
  override readonly name = "CheckpointError";
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
  const hash = createHash("sha256");
  let bytes = 0;
  try {
    for (const entry of entries) {
      const values = entry.read();
      const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
      hash.update(view);
      bytes += writeAll(fd, view);
      index.push({ name: entry.name, length: values.length });
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const state: CheckpointState = {
    format: "gradcraft-checkpoint/2",
    position,
    optimizer: { ...optimizer.settings, step: optimizer.step },
    strategy,
    tensors: index,
    files: { [TENSORS_FILE]: { bytes, sha256: hash.digest("hex") } },
  };
  writeFileSynced(join(tmp, STATE_FILE), `${JSON.stringify(state)}\n`);
  const old = `${dir}.old-${process.pid}`;
  if (fs.existsSync(dir)) fs.renameSync(dir, old);
  fs.renameSync(tmp, dir);
  syncDirectory(dirname(dir));
  fs.rmSync(old, { recursive: true, force: true });
}

function writeAll(fd: number, bytes: Uint8Array): number {
  let offset = 0;
  while (offset < bytes.length) offset += fs.writeSync(fd, bytes, offset, bytes.length - offset);
  return offset;
}

function writeFileSynced(path: string, text: string): void {
  const fd = fs.openSync(path, "w");
  try {
    writeAll(fd, Buffer.from(text, "utf8"));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Makes the renames inside a folder durable (a no-op where folders cannot be opened). */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    // Windows cannot fsync a folder; the rename is still atomic.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Reads and verifies a checkpoint folder (or the one a crash left moved aside): state.json must
 * parse and validate, tensors.bin must have the size its index implies and the checksum recorded
 * beside it (format 2), and every value must be finite. A CheckpointError (a JsonFileError for a
 * state.json that is not JSON) names the file and the problem.
 */
export function readCheckpoint(dir: string): Checkpoint {
  const where = checkpointFolder(dir);
  const statePath = join(where, STATE_FILE);
  const tensorsPath = join(where, TENSORS_FILE);
  if (!fs.existsSync(statePath)) throw new CheckpointError(`${statePath}: missing`);
  const json = readJsonFile(statePath);
  const parsed = CheckpointState.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CheckpointError(`${statePath}: ${issue.path.join(".") || "(top level)"}: ${issue.message}`);
  }
  const state = parsed.data;
  let data: Buffer;
  try {
    data = fs.readFileSync(tensorsPath);
  } catch (error) {
    throw new CheckpointError(`${tensorsPath}: ${readProblem(error)}`);
  }
  const expected = state.tensors.reduce((sum, t) => sum + t.length * 4, 0);
  if (data.length !== expected)
    throw new CheckpointError(
      `${tensorsPath}: ${data.length} bytes where ${STATE_FILE} lists ${expected} (${data.length < expected ? "cut short" : "extra bytes"})`,
    );
  const recorded = state.files?.[TENSORS_FILE];
  if (recorded && createHash("sha256").update(data).digest("hex") !== recorded.sha256)
    throw new CheckpointError(
      `${tensorsPath}: its contents do not match the checksum in ${STATE_FILE} (damaged)`,
    );
  const values = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length));
  let offset = 0;
  for (const { name, length } of state.tensors) {
    for (let i = offset; i < offset + length; i++)
      if (!Number.isFinite(values[i]))
        throw new CheckpointError(
          `${tensorsPath}: ${name} holds non-finite values (${values[i]} at ${i - offset})`,
        );
    offset += length;
  }
  return { state, data };
}

/** The folder itself, or the copy a crash left moved aside while the folder was replaced. */
function checkpointFolder(dir: string): string {
  if (fs.existsSync(join(dir, STATE_FILE))) return dir;
  const parent = dirname(dir);
  const aside = fs.existsSync(parent)
    ? fs.readdirSync(parent).find((f) => f.startsWith(`${basename(dir)}.old-`))
    : undefined;
  return aside ? join(parent, aside) : dir;
}

function readProblem(error: unknown): string {
  return (error as NodeJS.ErrnoException).code === "ENOENT" ? "missing" : String((error as Error).message);
}

/**
 * Tidies a checkpoints folder a crashed writer left behind: a `*.tmp-PID` folder is an unfinished
 * write (removed); a `*.old-PID` folder is the previous checkpoint moved aside, removed when its
 * replacement is in place and put back when it is not.
 */
export function cleanCheckpointLeftovers(checkpoints: string): string[] {
  if (!fs.existsSync(checkpoints)) return [];
  const cleaned: string[] = [];
  for (const name of fs.readdirSync(checkpoints)) {
    const match = /^(.+)\.(tmp|old)-\d+$/.exec(name);
    if (!match) continue;
    const [, base, kind] = match;
    const path = join(checkpoints, name);
    const target = join(checkpoints, base);
    if (kind === "old" && !fs.existsSync(join(target, STATE_FILE))) {
      fs.rmSync(target, { recursive: true, force: true });
      fs.renameSync(path, target);
      cleaned.push(`${name} put back as ${base}`);
    } else {
      fs.rmSync(path, { recursive: true, force: true });
      cleaned.push(`${name} removed`);
    }
  }
  return cleaned;
}

/** Loads weights (and, unless `weightsOnly`, optimizer moments) into a model built from the same config. */
export function restoreCheckpoint(
  checkpoint: Checkpoint,
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
