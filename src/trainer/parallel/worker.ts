import { parentPort } from "node:worker_threads";
import * as tf from "@tensorflow/tfjs-core";
import { selectBackend } from "../backend";
import { MultiTaskModel } from "../model/model";
import type { FromWorker, ReplicaSpec, ToWorker } from "./messages";
import {
  flattenSlice,
  type RepresentationSlice,
  type SliceGradients,
  sliceGradients,
  sliceRepresentation,
} from "./slice";

/**
 * A worker thread of the training step (pool.ts): its own tfjs backend and a replica of the
 * model's dense part. For each slice of a batch it takes the training thread's current weights
 * and the batch's unique embedding rows from shared memory, runs the slice's forward and
 * backward pass, and sends back its loss sums and gradients as one vector (representation
 * scope: the first pass, then the second once the strategy's weights arrive).
 */

const port = parentPort;
if (!port) throw new Error("the trainer's worker script runs only as a worker thread");

let replica: MultiTaskModel | undefined;
/** A representation-scope slice waiting for its second pass, inside its own tfjs scope. */
let open: RepresentationSlice | undefined;

function send(message: FromWorker, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function init(spec: ReplicaSpec): Promise<void> {
  await selectBackend(spec.backend);
  // The embedding tables stay with the training thread, which sends each batch's rows: the
  // replica's own tables (one row per feature) are never read.
  const shape = { ...spec.shape, vocabularies: spec.shape.vocabularies.map(() => 1) };
  replica = new MultiTaskModel(spec.config, shape, spec.seed);
}

/** The result as one vector the worker owns (the backend may hand out a tensor's own storage). */
function flat(result: SliceGradients): Float32Array {
  return (flattenSlice(result).dataSync() as Float32Array).slice();
}

function close(): void {
  if (!open) return;
  open = undefined;
  tf.engine().endScope();
}

function runSlice(message: Extract<ToWorker, { type: "slice" }>): Float32Array {
  const model = replica;
  if (!model) throw new Error("worker thread used before init");
  close(); // a step skipped after its first pass leaves its second one unasked
  tf.engine().startScope();
  try {
    const weights = new Float32Array(message.weights);
    let offset = 0;
    for (const variable of model.denseVariables()) {
      variable.assign(tf.tensor(weights.subarray(offset, offset + variable.size), variable.shape));
      offset += variable.size;
    }
    const dim = model.config.embeddingDim;
    const table = tf.tensor2d(new Float32Array(message.rows, 0, message.unique * dim), [message.unique, dim]);
    if (message.mode === "representation") {
      const pass = sliceRepresentation(model, message.slice, table, message.seed);
      const result = flat(pass.above);
      open = pass;
      return result;
    }
    return flat(sliceGradients(model, message.slice, table, message.seed, message.mode));
  } finally {
    if (!open) tf.engine().endScope();
  }
}

function runBelow(message: Extract<ToWorker, { type: "below" }>): Float32Array {
  if (!open) throw new Error("a second pass without a first one");
  try {
    return flat(open.below(message.weights));
  } finally {
    close();
  }
}

port.on("message", async (message: ToWorker) => {
  try {
    if (message.type === "init") {
      await init(message.replica);
      send({ type: "ready" });
    } else {
      const result = message.type === "slice" ? runSlice(message) : runBelow(message);
      send({ type: "result", id: message.id, flat: result }, [result.buffer as ArrayBuffer]);
    }
  } catch (error) {
    send({
      type: "error",
      ...(message.type !== "init" ? { id: message.id } : {}),
      message: error instanceof Error ? error.message : String(error),
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    });
  }
});
