import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, it } from "node:test";
import { evaluateTasks } from "../../../src/core/metrics";
import { mulberry32 } from "../helpers/random";
import { pythonWithTorch } from "./helpers";

/**
 * The PyTorch package computes `eval` metrics itself (gradcraft_studio/metrics.py): they must equal
 * src/core/metrics.ts on the same predictions, ties, one-class tasks and one-class users included.
 */

const packageDir = resolve(__dirname, "../../../python");

function dataset(seed: number, rows: number, k: number, rareRate = 0.03) {
  const next = mulberry32(seed);
  const labels: number[] = [];
  const probabilities: number[] = [];
  const users: number[] = [];
  for (let r = 0; r < rows; r++) {
    users.push(Math.floor(next() * 40));
    for (let t = 0; t < k; t++) {
      // Task 2 is rare (some users see one class only; none at all at rate 0); rounded scores tie.
      const rate = t === 2 ? rareRate : 0.3 + 0.2 * t;
      labels.push(next() < rate ? 1 : 0);
      probabilities.push(Math.round(next() * 50) / 50);
    }
  }
  return { labels, probabilities, users };
}

describe("metrics in Python and TypeScript", () => {
  it("AUC, GAUC and log loss per task and their means agree on seeded data with ties and a one-class task", async (t) => {
    const python = await pythonWithTorch(t);
    if (!python) return;
    const k = 3;
    const seeds = [1, 2, 3];
    const datasets = [...seeds.map((seed) => dataset(seed, 600, k)), dataset(4, 50, k, 0)];
    // One interpreter for every dataset: importing torch is the slow part.
    const script = `
import json, sys
import numpy as np
from gradcraft_studio.metrics import evaluate_tasks
out = []
for d in json.load(sys.stdin):
    p = np.array(d["probabilities"]).reshape(-1, ${k}); y = np.array(d["labels"]).reshape(-1, ${k})
    out.append(evaluate_tasks(["a", "b", "c"], p, y, d["users"]))
print(json.dumps(out))`;
    const run = spawnSync(python, ["-c", script], {
      input: JSON.stringify(datasets),
      cwd: packageDir,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    const results = JSON.parse(run.stdout) as Array<{
      tasks: Array<Record<string, number | null>>;
      mean: Record<string, number | null>;
    }>;
    datasets.forEach((data, d) => {
      const expected = evaluateTasks(data.labels, data.probabilities, data.users, k);
      const actual = results[d];
      const close = (a: number | null, e: number, what: string) => {
        if (Number.isNaN(e)) assert.equal(a, null, `${what}: undefined is null on the wire`);
        else assert.ok(a !== null && Math.abs(a - e) <= 1e-12, `${what}: ${a} vs ${e} (dataset ${d})`);
      };
      expected.tasks.forEach((m, i) => {
        for (const key of ["auc", "gauc", "logloss"] as const)
          close(actual.tasks[i][key], m[key], `task ${i} ${key}`);
      });
      for (const key of ["auc", "gauc", "logloss"] as const)
        close(actual.mean[key], expected.mean[key], `mean ${key}`);
    });
  });
});
