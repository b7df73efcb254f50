import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { before, describe, test } from "node:test";
import { type TrainingConfig, TrainingConfig as TrainingConfigSchema } from "../../../src/protocol/config";
import type { StepMessage } from "../../../src/protocol/messages";
import { selectBackend } from "../../../src/trainer/backend";
import { generateSynthetic } from "../../../src/trainer/data/index";
import { stepThreads } from "../../../src/trainer/parallel/pool";
import { train } from "../../../src/trainer/train";
import { FakeChannel } from "./helpers";

/**
 * A real run with `threads: 2` against the same run on one thread: the step split over worker
 * threads (test/unit/trainer/parallel.test.ts checks one step) must leave the whole run, its
 * losses, updates and final metrics, equal to float32 rounding.
 */

/** Batches of 512 (two slices of 256, the smallest a thread takes), six steps, dropout on. */
function config(threads: 1 | 2, scope: "params" | "representation"): TrainingConfig {
  return TrainingConfigSchema.parse({
    name: "threads",
    backend: "wasm",
    threads,
    data: {
      source: "synthetic",
      rows: 4000,
      users: 60,
      items: 90,
      authors: 10,
      contextVocabularies: [3, 2],
      seed: 3,
    },
    model: { type: "ple", embeddingDim: 4, experts: [16, 8], towers: [4], dropout: 0.2 },
    training: {
      batchSize: 512,
      maxSteps: 6,
      evalEvery: 3,
      patience: 5,
      learningRate: 0.01,
      gradientScope: scope,
    },
    strategy: { name: "gradcraft", params: {} },
  });
}

async function run(threads: 1 | 2, scope: "params" | "representation") {
  const resolved = config(threads, scope);
  const channel = new FakeChannel();
  const result = await train({
    config: resolved,
    baseDir: ".",
    runDir: null,
    channel,
    backend: await selectBackend("wasm"),
    dataset: generateSynthetic(resolved.data as never),
  });
  return { result, channel };
}

const close = (a: number, b: number, what: string) =>
  assert.ok(
    Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b)),
    `${what}: ${a} (2 threads) vs ${b} (1 thread)`,
  );

describe("a run on two threads", () => {
  before(async () => {
    await selectBackend("wasm");
  });

  for (const scope of ["params", "representation"] as const)
    test(`equals the run on one thread to float32 rounding: every step's losses and the final metrics (${scope} scope)`, async () => {
      const one = await run(1, scope);
      const two = await run(2, scope);
      assert.equal(one.channel.of("hello")[0]?.backend.threads, 1);
      assert.equal(two.channel.of("hello")[0]?.backend.threads, 2, "the hello says the step is split");
      const steps = (r: typeof one) => r.channel.of("step") as StepMessage[];
      assert.equal(steps(two).length, 6);
      assert.equal(steps(two).length, steps(one).length);
      for (const [i, step] of steps(two).entries()) {
        const reference = steps(one)[i];
        for (const [t, loss] of step.losses.entries())
          close(loss, reference.losses[t], `step ${i + 1} task ${t} loss`);
      }
      const metrics = (r: typeof one) => r.result.summary.splits.test?.tasks ?? [];
      assert.ok(metrics(one).length > 0);
      for (const [t, task] of metrics(two).entries())
        close(task.auc ?? Number.NaN, metrics(one)[t].auc ?? Number.NaN, `test AUC of task ${t}`);
    });
});

describe("the threads setting", () => {
  test('"auto" is every core; no slice under 256 examples; one thread where the backend runs its own', () => {
    assert.equal(stepThreads("auto", "wasm"), availableParallelism());
    assert.equal(stepThreads(4, "cpu", 2048), 4);
    assert.equal(stepThreads(4, "wasm", 700), 2, "700 examples: two slices of at least 256");
    assert.equal(stepThreads(4, "wasm", 100), 1);
    assert.equal(stepThreads(4, "tensorflow", 2048), 1);
    assert.equal(stepThreads(4, "webgpu", 2048), 1);
  });

  test("a bad setting says what it takes", () => {
    const bad = TrainingConfigSchema.safeParse({ threads: "many" });
    assert.ok(!bad.success);
    assert.deepEqual(
      bad.error.issues.map((i) => [i.path.join("."), i.message]),
      [["threads", '"auto" or a whole number of threads (at least 1)']],
    );
    assert.equal(TrainingConfigSchema.parse({}).threads, "auto");
  });
});
