import assert from "node:assert/strict";
import { cpus } from "node:os";
import { before, describe, test } from "node:test";
import { speedTable } from "../../../src/cli/bench";
import { selectBackend } from "../../../src/trainer/backend";
import { benchSpeed, type SpeedCase, type SpeedReport } from "../../../src/trainer/speed";

/** A report with the given ms/step per "strategy/scope/threads". */
function report(cpu: string, ms: Record<string, number>, model = "ple"): SpeedReport {
  const cases: SpeedCase[] = Object.entries(ms).map(([key, msPerStep]) => {
    const [strategy, scope, threads] = key.split("/");
    return {
      strategy,
      scope: scope as SpeedCase["scope"],
      threads: Number(threads),
      msPerStep,
      stepsPerSecond: 1000 / msPerStep,
      p10: msPerStep,
      p90: msPerStep,
      cpuMsPerStep: msPerStep,
    };
  });
  return {
    backend: "wasm",
    cpu: { model: cpu, cores: 2 },
    node: "v20.0.0",
    load: { start: 0.5, end: 0.7 },
    model,
    batchSize: 2048,
    steps: 10,
    threads: [1, 2],
    cases,
    ratioParams: ms["gradcraft/params/2"] / ms["ew/plain/2"],
    ratioRepresentation: 1,
    cpuRatioParams: 1,
    cpuRatioRepresentation: 1,
    peakRssMb: 900,
    checkpoint: { msPerWrite: 120, megabytes: 80, intervalMs: 60_000, shareOfStepTime: 0.002 },
  };
}

const TIMES = {
  "ew/plain/1": 900,
  "gradcraft/params/1": 1000,
  "ew/plain/2": 500,
  "gradcraft/params/2": 550,
};

describe("bench speed report", () => {
  test("states the CPU, its cores, the load and the 1 → N threads speed-up of each configuration", () => {
    const text = speedTable(report("Intel(R) Xeon(R) CPU @ 2.80GHz", TIMES));
    assert.match(text, /CPU Intel\(R\) Xeon\(R\) CPU @ 2\.80GHz, 2 logical cores/);
    assert.match(text, /load average 0\.5 at the start, 0\.7 at the end/);
    assert.match(text, /1 → 2 threads: ew\/plain 1\.80×, gradcraft\/params 1\.82×/);
    assert.match(
      text,
      /checkpoint policy: one write of checkpoints\/last \(80 MB\) 120 ms, at most one per 60 s .*: 0\.20% of step time \(target under 2%: met\)/,
    );
  });

  test("compares with the official step measured on the same CPU kind, goal by goal", () => {
    const intel = speedTable(report("Intel(R) Xeon(R) CPU @ 2.80GHz", TIMES));
    assert.match(intel, /official PyTorch code on Intel Xeon .*EW 537 ms, GradCraft 2332 ms/);
    assert.match(intel, /plain EW 500 ms against its EW 537 ms: 1\.07× \(goal: no slower, met\)/);
    assert.match(intel, /GradCraft 550 ms against its GradCraft 2332 ms: 4\.24× faster \(goal: 4×, met\)/);
    assert.match(intel, /GradCraft \/ plain EW: 1\.10× \(goal: at most 1\.3×, met\)/);
    const amd = speedTable(report("AMD EPYC 7B13", TIMES));
    assert.match(amd, /on AMD EPYC.*EW 411 ms, GradCraft 2172 ms/);
    assert.match(amd, /plain EW 500 ms against its EW 411 ms: 0\.82× \(goal: no slower, MISSED\)/);
  });

  test("says there is no official figure for another CPU rather than comparing across machines", () => {
    const text = speedTable(report("Apple M2", TIMES));
    assert.match(text, /official PyTorch code: not measured on this CPU/);
    assert.doesNotMatch(text, /goal/);
  });
});

describe("bench speed run", () => {
  before(async () => {
    await selectBackend("wasm");
  });

  test("measures every configuration at each thread count and names this machine's CPU", async () => {
    const result = await benchSpeed({
      steps: 1,
      warmup: 0,
      model: "shared-bottom",
      backend: "wasm",
      threads: [1, 2],
      batchSize: 64,
    });
    assert.equal(result.cpu.model, cpus()[0].model.trim());
    assert.ok(result.cpu.cores >= 1);
    // 64 examples make slices under the 256 a thread needs: both counts run on one thread.
    assert.deepEqual(result.threads, [1]);
    assert.deepEqual(
      result.cases.map((c) => `${c.strategy}/${c.scope}`),
      [
        "ew/plain",
        "ew/params",
        "gradcraft/params",
        "gradcraft/representation",
        "ew/plain",
        "ew/params",
        "gradcraft/params",
        "gradcraft/representation",
      ],
    );
    assert.ok(result.cases.every((c) => c.msPerStep > 0 && c.cpuMsPerStep > 0));
    // The checkpoint is written between the same steps, and set against the GradCraft step.
    const gradcraft = result.cases.find((c) => c.strategy === "gradcraft" && c.scope === "params");
    assert.ok(result.checkpoint.msPerWrite > 0 && result.checkpoint.megabytes > 0);
    assert.equal(result.checkpoint.intervalMs, Math.min(60_000, 200 * (gradcraft?.msPerStep ?? Number.NaN)));
  });
});
