/**
 * The data side of the trainer: a dataset is three splits of typed arrays (see types.ts), from the
 * embedded synthetic generator or from the user's log files; batches() cuts a split for training.
 */
import type { DataConfig } from "../../protocol/config";
import { loadFileDataset } from "./files";
import { generateSynthetic } from "./synthetic";
import type { Dataset, LoadOptions } from "./types";

export { type BatchOptions, batchCount, batches, epochOrder } from "./batches";
export {
  generateSynthetic,
  SYNTHETIC_NUMERIC,
  WECHAT_LIKE_VOCABULARIES,
  wechatLikeDataConfig,
} from "./synthetic";
export type { Batch, Dataset, DatasetStats, LoadOptions, Split } from "./types";

export async function loadDataset(config: DataConfig, options: LoadOptions): Promise<Dataset> {
  options.signal?.throwIfAborted();
  if (config.source === "synthetic") {
    options.onProgress?.("generate", 0);
    const dataset = generateSynthetic(config);
    options.onProgress?.("generate", 1);
    return dataset;
  }
  return loadFileDataset(config, options);
}
export { KUAIRAND_EXCLUDED, KUAIRAND_FILES, KUAIRAND_LABELS, kuairandDataConfig } from "./kuairand";
export { DataFileError } from "./readers";
