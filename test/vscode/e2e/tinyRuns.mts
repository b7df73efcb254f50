// Finished runs for the browser suites, trained as a user would in a terminal: the project's
// CLI on the workspace's tiny config, into the workspace's runs folder.
import * as assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface TinyRun {
  /** The config's name. */
  name: string;
  strategy: { name: string; params: Record<string, unknown> };
  maxSteps: number;
  evalEvery: number;
}

/** Trains each run with `cli` (a dist/cli.js); the new run folders' names, in the runs' order. */
export function trainTinyRuns(workspace: string, cli: string, runs: readonly TinyRun[]): string[] {
  const runsFolder = join(workspace, ".gradcraft", "runs");
  mkdirSync(runsFolder, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), "gradcraft-e2e-runs-"));
  const base = JSON.parse(readFileSync(join(workspace, "tiny.gradcraft.json"), "utf8"));
  const folders: string[] = [];
  try {
    for (const [i, run] of runs.entries()) {
      const before = new Set(readdirSync(runsFolder));
      const file = join(scratch, `r${i}.gradcraft.json`);
      const training = { ...base.training, maxSteps: run.maxSteps, evalEvery: run.evalEvery };
      writeFileSync(file, JSON.stringify({ ...base, name: run.name, training, strategy: run.strategy }));
      // The environment carries GRADCRAFT_HARNESS_ID: the harness ends the trainer whatever happens here.
      const result = spawnSync(process.execPath, [cli, "train", file, "--out", runsFolder], {
        cwd: workspace,
        encoding: "utf8",
        timeout: 120_000,
      });
      assert.equal(result.status, 0, `gradcraft train ${run.name}: ${result.stderr}`);
      const added = readdirSync(runsFolder).filter((n) => !before.has(n));
      assert.equal(added.length, 1, `one new run folder for ${run.name}: ${added.join(", ")}`);
      folders.push(added[0]);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return folders;
}
