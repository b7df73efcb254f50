import { selectBackend } from "../backend";
import { loadDataset } from "../data/index";
import { serveJobs } from "./jobs";
import type { RunRecord } from "./report";
import { type QualityJob, type QualitySetup, runOne } from "./run";

/**
 * The child's side of `bench quality --jobs N` (the CLI's hidden worker mode): pick the parent's
 * backend, load the dataset once from the base config, then train each run it is handed exactly
 * as the parent would in its own process.
 */
export function serveQualityRuns(): Promise<void> {
  return serveJobs<QualitySetup, QualityJob, RunRecord>(async (setup) => {
    const backend = await selectBackend(setup.backend);
    const dataset = await loadDataset(setup.base.data, { baseDir: setup.baseDir });
    return (job, onStep) => runOne({ backend, dataset }, setup.base, job.entry, job.run, job.budget, onStep);
  });
}
