import type { ModelConfig } from "../../protocol/config";
import type { ConcreteBackend } from "../backend";
import type { ModelShape } from "../model/model";
import type { BatchSlice, SliceMode } from "./slice";

/**
 * What the training thread and its worker threads say to each other (pool.ts, worker.ts). Bulk
 * inputs every worker reads (the dense weights, the batch's unique embedding rows) travel in
 * shared memory, written once by the training thread; each worker's gradients come back as one
 * transferred vector.
 */

/** What a worker needs to build its replica of the model's dense part. */
export interface ReplicaSpec {
  readonly backend: ConcreteBackend;
  readonly config: ModelConfig;
  readonly shape: ModelShape;
  readonly seed: number;
}

export type ToWorker =
  | { readonly type: "init"; readonly replica: ReplicaSpec }
  | {
      readonly type: "slice";
      readonly id: number;
      readonly mode: SliceMode;
      /** The step's dropout seed. */
      readonly seed: number;
      /** Every dense variable's values, in `denseVariables()` order. */
      readonly weights: SharedArrayBuffer;
      /** The batch's unique embedding rows: the first `unique × dim` numbers. */
      readonly rows: SharedArrayBuffer;
      readonly unique: number;
      readonly slice: BatchSlice;
    }
  | {
      /** Representation scope's second pass over the slice of the last "slice" message. */
      readonly type: "below";
      readonly id: number;
      /** Σ_t weights_t ∂L_t/∂z is back-propagated below the representation. */
      readonly weights: readonly number[];
    };

export type FromWorker =
  | { readonly type: "ready" }
  | { readonly type: "result"; readonly id: number; readonly flat: Float32Array }
  | { readonly type: "error"; readonly id?: number; readonly message: string; readonly stack?: string };
