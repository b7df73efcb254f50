import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import type { EmbeddingOptimizer } from "../../../src/protocol/config";
import { EmbeddingTables } from "../../../src/trainer/model/embeddings";
import { Adam } from "../../../src/trainer/optimizer";
import { Rng } from "../../../src/trainer/rng";
import { useCpu } from "./helpers";

const DIM = 2;
const VOCABULARIES = [4, 3];
const LR = 0.1;
const L2 = 0.05;

/** Two steps: which rows each batch touched, and their update (already combined over tasks). */
const STEPS = [
  { ownerFeature: [0, 1], ownerRow: [1, 2], update: [0.5, -0.2, 0.3, 0.1], scale: 1 },
  // Row 1 of feature 0 is not in the second batch: dense Adam still moves it with its momentum.
  { ownerFeature: [0], ownerRow: [3], update: [-0.4, 0.8], scale: 0.5 },
];

function tables(): EmbeddingTables {
  const t = new EmbeddingTables(VOCABULARIES, DIM, new Rng(1));
  // Values far from 0 so that L2 moves every entry.
  t.tables.forEach((table, f) => {
    table.forEach((_, i) => {
      table[i] = (f + 1) * 0.3 - 0.1 * i;
    });
  });
  return t;
}

/**
 * torch.optim.Adam by hand, in float64, for one entry: `g(step)` is its gradient at each step
 * (undefined: the entry takes no step, lazy Adam's untouched rows).
 */
function handAdam(start: number, g: (step: number, w: number) => number | undefined, steps: number): number {
  let w = start;
  let m = 0;
  let v = 0;
  for (let t = 1; t <= steps; t++) {
    const grad = g(t, w);
    if (grad === undefined) continue;
    m = 0.9 * m + 0.1 * grad;
    v = 0.999 * v + 0.001 * grad * grad;
    const mHat = m / (1 - 0.9 ** t);
    const vHat = v / (1 - 0.999 ** t);
    w -= (LR * mHat) / (Math.sqrt(vHat) + 1e-8);
  }
  return w;
}

async function run(recipe: EmbeddingOptimizer): Promise<{ before: Float32Array[]; after: Float32Array[] }> {
  const t = tables();
  const before = t.tables.map((table) => Float32Array.from(table));
  const adam = new Adam({ learningRate: LR, l2: L2, clipNorm: 0 }, [], recipe);
  for (const step of STEPS)
    await adam.apply(
      [],
      t,
      {
        ownerFeature: Int32Array.from(step.ownerFeature),
        ownerRow: Int32Array.from(step.ownerRow),
        update: Float32Array.from(step.update),
      },
      step.scale,
    );
  return { before, after: t.tables };
}

/** The batch gradient of entry (f, i) at step s (1-based), clipped by the step's scale; undefined when its row was not in the batch. */
function batchGradient(f: number, i: number, s: number): number | undefined {
  const step = STEPS[s - 1];
  const row = Math.floor(i / DIM);
  const u = step.ownerRow.findIndex((r, k) => r === row && step.ownerFeature[k] === f);
  return u < 0 ? undefined : step.update[u * DIM + (i % DIM)] * step.scale;
}

describe("embedding optimizers", () => {
  before(useCpu);

  test("dense-adam: every row of every table takes an Adam step with L2, batch rows with their gradient too", async () => {
    const { before, after } = await run("dense-adam");
    before.forEach((table, f) => {
      table.forEach((start, i) => {
        const expected = handAdam(start, (s, w) => (batchGradient(f, i, s) ?? 0) + L2 * w, STEPS.length);
        assert.ok(
          Math.abs(after[f][i] - expected) < 1e-6,
          `feature ${f} entry ${i}: ${after[f][i]} vs ${expected}`,
        );
        assert.notEqual(after[f][i], start, "no row stands still");
      });
    });
  });

  test("lazy-adam: only the rows a batch touched step, and only at the steps that touched them", async () => {
    const { before, after } = await run("lazy-adam");
    before.forEach((table, f) => {
      table.forEach((start, i) => {
        const expected = handAdam(
          start,
          (s, w) => {
            const g = batchGradient(f, i, s);
            return g === undefined ? undefined : g + L2 * w;
          },
          STEPS.length,
        );
        assert.ok(
          Math.abs(after[f][i] - expected) < 1e-6,
          `feature ${f} entry ${i}: ${after[f][i]} vs ${expected}`,
        );
      });
    });
    // Row 0 of feature 0 was in no batch.
    assert.deepEqual(Array.from(after[0].subarray(0, DIM)), Array.from(before[0].subarray(0, DIM)));
  });
});
