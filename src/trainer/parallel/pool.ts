import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import type { ConcreteBackend } from "../backend";
import type { FromWorker, ReplicaSpec, ToWorker } from "./messages";
import { type BatchSlice, MIN_SLICE, type SliceMode } from "./slice";

/**
 * The worker threads that share a training step with the training thread (docs/architecture.md,
 * "Every core"). Each holds a replica of the model's dense part on its own tfjs backend; for
 * each step the training thread writes its current weights and the batch's unique embedding rows
 * to shared memory once, and every worker computes one slice of the batch.
 */

/**
 * Threads that share each step of `batchSize` examples: the setting on the wasm and cpu backends
 * ("auto": every core), but never so many that a slice has fewer than MIN_SLICE examples; one on
 * the other backends (native TensorFlow and GPUs run their own threads).
 */
export function stepThreads(
  setting: "auto" | number,
  backend: ConcreteBackend,
  batchSize = Number.POSITIVE_INFINITY,
): number {
  if (backend !== "wasm" && backend !== "cpu") return 1;
  const wanted = setting === "auto" ? availableParallelism() : setting;
  return Math.max(1, Math.min(wanted, Math.floor(batchSize / MIN_SLICE)));
}

export interface SliceRequest {
  readonly mode: SliceMode;
  /** The step's dropout seed. */
  readonly seed: number;
  /** Every dense variable's current values, in `denseVariables()` order. */
  readonly weights: Float32Array;
  /** The batch's unique embedding rows [U·dim]. */
  readonly rows: Float32Array;
  readonly unique: number;
  /** One slice per worker. */
  readonly slices: readonly BatchSlice[];
}

interface Pending {
  resolve(flat: Float32Array): void;
  reject(error: Error): void;
}

export class WorkerPool {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private failure: Error | null = null;
  /** Workers that took a slice in the last `run`. */
  private busy = 0;
  private weights = new Float32Array(new SharedArrayBuffer(0));
  private rows = new Float32Array(new SharedArrayBuffer(0));

  private constructor(private readonly workers: Worker[]) {}

  /** Starts `count` worker threads, each with a replica of the model; resolves once all are ready. */
  static async start(count: number, replica: ReplicaSpec): Promise<WorkerPool> {
    const workers = Array.from({ length: count }, () => startWorker());
    const pool = new WorkerPool(workers);
    try {
      await Promise.all(
        workers.map(
          (worker, index) =>
            new Promise<void>((resolve, reject) => {
              const onMessage = (message: FromWorker) => {
                if (message.type === "ready") resolve();
                else if (message.type === "error")
                  reject(new Error(`worker thread ${index + 1} could not start: ${message.message}`));
              };
              worker.once("message", onMessage);
              worker.once("error", (error) =>
                reject(new Error(`worker thread ${index + 1} could not start: ${error.message}`)),
              );
              worker.postMessage({ type: "init", replica } satisfies ToWorker);
            }),
        ),
      );
    } catch (error) {
      await pool.close();
      throw error;
    }
    workers.forEach((worker, index) => {
      pool.listen(worker, index);
    });
    return pool;
  }

  /** Worker threads in the pool (the training thread not counted). */
  get size(): number {
    return this.workers.length;
  }

  /** Runs one slice on each worker; resolves with their flattened results, in slice order. */
  run(request: SliceRequest): Promise<Float32Array[]> {
    if (request.slices.length > this.workers.length)
      return Promise.reject(
        new Error(`${request.slices.length} slices for ${this.workers.length} worker threads`),
      );
    // Written once, read by every worker; no worker still reads the previous step's values,
    // since each has answered before the next step starts.
    this.weights = fill(this.weights, request.weights);
    this.rows = fill(this.rows, request.rows);
    this.busy = request.slices.length;
    return this.ask(
      request.slices.map((slice) => (id) => ({
        type: "slice",
        id,
        mode: request.mode,
        seed: request.seed,
        weights: this.weights.buffer,
        rows: this.rows.buffer,
        unique: request.unique,
        // Copies: a view would carry its whole batch buffer along.
        slice: {
          ...slice,
          inverse: slice.inverse.slice(),
          weights: slice.weights?.slice(),
          position: slice.position?.slice(),
          numeric: slice.numeric.slice(),
          labels: slice.labels.slice(),
        },
      })),
    );
  }

  /**
   * Representation scope: the second pass over the slices of the last `run`, with the
   * strategy's weights; resolves with the workers' flattened results, in slice order.
   */
  below(weights: ArrayLike<number>): Promise<Float32Array[]> {
    return this.ask(
      Array.from({ length: this.busy }, () => (id) => ({ type: "below", id, weights: Array.from(weights) })),
    );
  }

  /**
   * Sends worker i the message built by messages[i]; resolves with their results in that order.
   * Settles only once every worker has answered, even when one fails early: the caller may then
   * rewrite the shared memory, and no worker's answer is left to arrive during a later request.
   */
  private async ask(messages: ReadonlyArray<(id: number) => ToWorker>): Promise<Float32Array[]> {
    if (this.failure) throw this.failure;
    const asked = this.workers.slice(0, messages.length);
    // An awaited step keeps the process alive (ref is a flag, not a count: undone once, below).
    for (const worker of asked) worker.ref();
    try {
      const answers = await Promise.allSettled(
        messages.map(
          (build, index) =>
            new Promise<Float32Array>((resolve, reject) => {
              const id = this.nextId++;
              this.pending.set(id, { resolve, reject });
              try {
                this.workers[index].postMessage(build(id));
              } catch (error) {
                this.pending.delete(id);
                reject(error);
              }
            }),
        ),
      );
      const failed = answers.find((a) => a.status === "rejected");
      if (failed) throw failed.reason;
      return answers.map((a) => (a as PromiseFulfilledResult<Float32Array>).value);
    } finally {
      for (const worker of asked) worker.unref();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private listen(worker: Worker, index: number): void {
    worker.unref();
    worker.on("message", (message: FromWorker) => {
      if (message.type === "ready") return;
      const pending = message.id === undefined ? undefined : this.pending.get(message.id);
      if (message.id !== undefined) this.pending.delete(message.id);
      if (message.type === "result") pending?.resolve(message.flat);
      else {
        const error = new Error(`worker thread ${index + 1}: ${message.message}`);
        if (message.stack) error.stack = `${error.message}\n${message.stack}`;
        if (pending) pending.reject(error);
        else this.fail(error);
      }
    });
    worker.on("error", (error) =>
      this.fail(new Error(`worker thread ${index + 1} failed: ${error.message}`)),
    );
    worker.on("exit", (code) => {
      if (code !== 0) this.fail(new Error(`worker thread ${index + 1} exited with code ${code}`));
    });
  }

  /** A worker that died takes the pool with it: every waiting step and every later one fails. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}

/** `values` in shared memory: the same buffer when it is large enough, else a larger one. */
function fill(
  buffer: Float32Array<SharedArrayBuffer>,
  values: Float32Array,
): Float32Array<SharedArrayBuffer> {
  const target =
    buffer.length >= values.length
      ? buffer
      : new Float32Array(new SharedArrayBuffer(Math.ceil(values.length * 1.25) * 4));
  target.set(values);
  return target;
}

const localRequire = createRequire(__filename);

/**
 * The worker script: `trainer-worker.js` beside the bundle, or worker.ts run from the sources
 * (tests, tsx) through tsx's require hook.
 */
function startWorker(): Worker {
  const bundled = join(__dirname, "trainer-worker.js");
  if (existsSync(bundled)) return new Worker(bundled);
  const source = join(__dirname, "worker.ts");
  if (!existsSync(source)) throw new Error(`the trainer's worker script is missing (${bundled})`);
  const tsx = localRequire.resolve("tsx/cjs");
  return new Worker(`require(${JSON.stringify(tsx)}); require(${JSON.stringify(source)});`, { eval: true });
}
