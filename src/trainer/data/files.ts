import type { FileDataConfig } from "../../protocol/config";
import type { Dataset, LoadOptions } from "./types";

// Work in progress: the streaming CSV/TSV/JSONL loader lands in the next commit.
export async function loadFileDataset(config: FileDataConfig, _options: LoadOptions): Promise<Dataset> {
  throw new Error(`file data source (${config.path}) is not implemented yet`);
}
