import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { JobPool, type WorkerCommand } from "../../../src/trainer/quality/jobs";

const worker: WorkerCommand = {
  modulePath: join(__dirname, "fixtures", "job-worker.ts"),
  args: [],
  execArgv: ["--import", "tsx"],
};

type Setup = { factor: number; failSetup?: boolean };
type Job = { x: number; fail?: "throw" | "exit" };
type Result = { y: number; pid: number };

describe("job pool (bench quality --jobs)", () => {
  test("every job runs once on one of the children, in parallel, with its steps reported", async () => {
    const pool = await JobPool.start<Setup, Job, Result>(2, worker, { factor: 3 });
    try {
      const steps: number[][] = [[], [], [], [], []];
      const results = await Promise.all(
        [1, 2, 3, 4, 5].map((x, i) => pool.run({ x }, (step) => steps[i].push(step))),
      );
      assert.deepEqual(
        results.map((r) => r.y),
        [3, 6, 9, 12, 15],
      );
      assert.equal(new Set(results.map((r) => r.pid)).size, 2, "both children worked");
      assert.ok(!results.some((r) => r.pid === process.pid));
      for (const s of steps) assert.deepEqual(s, [1, 2]);
    } finally {
      pool.close();
    }
  });

  test("a failing job rejects with its error, a dying child fails its job, and the others go on", async () => {
    const pool = await JobPool.start<Setup, Job, Result>(2, worker, { factor: 2 });
    try {
      const [thrown, died, fine, after] = await Promise.allSettled([
        pool.run({ x: 1, fail: "throw" }),
        pool.run({ x: 2, fail: "exit" }),
        pool.run({ x: 3 }),
        pool.run({ x: 4 }),
      ]);
      assert.equal(thrown.status, "rejected");
      assert.match(String((thrown as PromiseRejectedResult).reason), /cannot do 1/);
      assert.equal(died.status, "rejected");
      assert.match(
        String((died as PromiseRejectedResult).reason),
        /worker \d exited during a run \(code 3\)/,
      );
      assert.deepEqual(
        [fine, after].map((r) => (r.status === "fulfilled" ? r.value.y : r.reason)),
        [6, 8],
      );
    } finally {
      pool.close();
    }
  });

  test("a child that cannot set up fails the start with its reason", async () => {
    await assert.rejects(
      JobPool.start<Setup, Job, Result>(1, worker, { factor: 1, failSetup: true }),
      /worker 1: no dataset here/,
    );
  });
});
