import type { Command } from "commander";
import { BACKENDS, type Backend } from "../protocol/config";
import { selectBackend } from "../trainer/backend";
import { stepThreads } from "../trainer/parallel/pool";
import { WECHAT_LIKE } from "../trainer/presets";
import { benchSpeed, defaultThreadCounts, type SpeedReport } from "../trainer/speed";

/**
 * `gradcraft bench speed`: training-step throughput of EW and GradCraft (both gradient scopes)
 * on the wechat-like shape, at one thread and at every core, in one run, stating the CPU. (`bench quality`, the paper's table, goes beside it.)
 */

/**
 * The official GradCraft code's training step (PyTorch 1.13, 2 threads, same shape and batch),
 * median ms, by the CPU it was measured on (docs/benchmarks.md, "Training step"): a figure from
 * another CPU says nothing about this one.
 */
const OFFICIAL_STEP_MS: ReadonlyArray<{
  readonly cpu: RegExp;
  readonly machine: string;
  readonly ms: Record<string, { ew: number; gradcraft: number }>;
}> = [
  {
    cpu: /Intel.*Xeon/i,
    machine: "Intel Xeon @ 2.80 GHz, 2 vCPU, 2026-12-03",
    ms: {
      ple: { ew: 537, gradcraft: 2332 },
      mmoe: { ew: 677, gradcraft: 2884 },
      "shared-bottom": { ew: 194, gradcraft: 1009 },
    },
  },
  {
    cpu: /AMD EPYC/i,
    machine: "AMD EPYC, 2 vCPU, 2026-11-29",
    ms: {
      ple: { ew: 411, gradcraft: 2172 },
      mmoe: { ew: 571, gradcraft: 2616 },
      "shared-bottom": { ew: 113, gradcraft: 842 },
    },
  },
];

/** Goals of the training step against the official code (docs/benchmarks.md). */
const GOALS = { gradcraftSpeedup: 4, gradcraftOverPlain: 1.3 };

export function speedTable(report: SpeedReport): string {
  const lines = [
    `CPU ${report.cpu.model}, ${report.cpu.cores} logical cores; Node ${report.node}; backend ${report.backend}; load average ${report.load.start} at the start, ${report.load.end} at the end`,
    `model ${report.model}, batch ${report.batchSize}, ${report.steps} timed steps (median), every configuration in turn step by step; peak RSS ${report.peakRssMb} MB`,
    `${"strategy".padEnd(10)} ${"scope".padEnd(15)} ${"threads".padStart(7)} ${"ms/step".padStart(8)} ${"steps/s".padStart(8)} ${"p10".padStart(7)} ${"p90".padStart(7)} ${"cpu ms".padStart(7)}`,
  ];
  for (const c of report.cases)
    lines.push(
      `${c.strategy.padEnd(10)} ${c.scope.padEnd(15)} ${String(c.threads).padStart(7)} ${c.msPerStep.toFixed(0).padStart(8)} ${c.stepsPerSecond.toFixed(2).padStart(8)} ${c.p10.toFixed(0).padStart(7)} ${c.p90.toFixed(0).padStart(7)} ${c.cpuMsPerStep.toFixed(0).padStart(7)}`,
    );
  const most = Math.max(...report.threads);
  const fewest = Math.min(...report.threads);
  const ms = (strategy: string, scope: string, threads: number) =>
    report.cases.find((c) => c.strategy === strategy && c.scope === scope && c.threads === threads)
      ?.msPerStep;
  if (most > fewest) {
    const speedups = report.cases
      .filter((c) => c.threads === most)
      .map(
        (c) =>
          `${c.strategy}/${c.scope} ${((ms(c.strategy, c.scope, fewest) ?? Number.NaN) / c.msPerStep).toFixed(2)}×`,
      );
    lines.push(`${fewest} → ${most} threads: ${speedups.join(", ")}`);
  }
  lines.push(
    `GradCraft / EW at ${most} thread${most > 1 ? "s" : ""}: ${report.ratioParams.toFixed(2)}× (params scope), ${report.ratioRepresentation.toFixed(2)}× (representation scope); in CPU time ${report.cpuRatioParams.toFixed(2)}× and ${report.cpuRatioRepresentation.toFixed(2)}×`,
  );
  const c = report.checkpoint;
  lines.push(
    `checkpoint policy: one write of checkpoints/last (${c.megabytes} MB) ${c.msPerWrite.toFixed(0)} ms, at most one per ${(c.intervalMs / 1000).toFixed(0)} s of GradCraft training (60 s or 200 steps): ${(c.shareOfStepTime * 100).toFixed(2)}% of step time (target under 2%: ${c.shareOfStepTime < 0.02 ? "met" : "MISSED"})`,
  );
  const official = OFFICIAL_STEP_MS.find((o) => o.cpu.test(report.cpu.model));
  const reference = official?.ms[report.model];
  const plain = ms("ew", "plain", most);
  const gradcraft = ms("gradcraft", "params", most);
  if (!official || !reference)
    lines.push(
      `official PyTorch code: not measured on this CPU (${OFFICIAL_STEP_MS.map((o) => o.machine).join("; ")}): no comparison`,
    );
  else if (plain && gradcraft && report.model !== "ple")
    lines.push(
      `official PyTorch code on ${official.machine} (2 threads): EW ${reference.ew} ms (ours: ${(reference.ew / plain).toFixed(2)}× its speed), GradCraft ${reference.gradcraft} ms (ours: ${(reference.gradcraft / gradcraft).toFixed(2)}×)`,
    );
  else if (plain && gradcraft) {
    const mark = (ok: boolean) => (ok ? "met" : "MISSED");
    lines.push(
      `official PyTorch code on ${official.machine} (2 threads): EW ${reference.ew} ms, GradCraft ${reference.gradcraft} ms`,
      `  plain EW ${plain.toFixed(0)} ms against its EW ${reference.ew} ms: ${(reference.ew / plain).toFixed(2)}× (goal: no slower, ${mark(plain <= reference.ew)})`,
      `  GradCraft ${gradcraft.toFixed(0)} ms against its GradCraft ${reference.gradcraft} ms: ${(reference.gradcraft / gradcraft).toFixed(2)}× faster (goal: ${GOALS.gradcraftSpeedup}×, ${mark(reference.gradcraft / gradcraft >= GOALS.gradcraftSpeedup)})`,
      `  GradCraft / plain EW: ${(gradcraft / plain).toFixed(2)}× (goal: at most ${GOALS.gradcraftOverPlain}×, ${mark(gradcraft / plain <= GOALS.gradcraftOverPlain)})`,
    );
  }
  return lines.join("\n");
}

/** Registers `bench` and `bench speed`; returns `bench` so other subcommands (quality) attach to it. */
export function registerBench(program: Command): Command {
  const bench = program.command("bench").description("Benchmarks: training-step speed and result quality.");
  bench
    .command("speed")
    .description("Steps/s of EW and GradCraft (params and representation scopes) on the wechat-like shape.")
    .option("--json", "print one JSON object")
    .option("--steps <n>", "timed steps per configuration", "20")
    .option("--warmup <n>", "untimed steps first", "3")
    .option("--model <type>", "ple, mmoe or shared-bottom", "ple")
    .option("--backend <name>", `compute backend (${BACKENDS.join(", ")})`, "auto")
    .option(
      "--threads <n,...>",
      "thread counts to compare, each configuration at each (default: 1 and every core)",
    )
    .option("--batch <n>", "examples per step", String(WECHAT_LIKE.batchSize))
    .action(
      async (flags: {
        json?: boolean;
        steps: string;
        warmup: string;
        model: string;
        backend: string;
        threads?: string;
        batch: string;
      }) => {
        const steps = Number(flags.steps);
        const warmup = Number(flags.warmup);
        if (!Number.isInteger(steps) || steps < 1 || !Number.isInteger(warmup) || warmup < 0) {
          process.stderr.write(
            "gradcraft bench speed: --steps must be a positive integer and --warmup a non-negative one\n",
          );
          process.exitCode = 2;
          return;
        }
        if (
          !["ple", "mmoe", "shared-bottom"].includes(flags.model) ||
          !BACKENDS.includes(flags.backend as Backend)
        ) {
          process.stderr.write(
            `gradcraft bench speed: --model must be ple, mmoe or shared-bottom; --backend one of ${BACKENDS.join(", ")}\n`,
          );
          process.exitCode = 2;
          return;
        }
        const threads = flags.threads?.split(",").map(Number) ?? defaultThreadCounts();
        const batchSize = Number(flags.batch);
        if (
          !threads.every((n) => Number.isInteger(n) && n >= 1) ||
          !Number.isInteger(batchSize) ||
          batchSize < 1
        ) {
          process.stderr.write(
            "gradcraft bench speed: --threads takes positive integers separated by commas (1,2) and --batch a positive integer\n",
          );
          process.exitCode = 2;
          return;
        }
        const choice = await selectBackend(flags.backend as Backend);
        // Other backends run their own threads: each configuration once.
        const counts = [...new Set(threads.map((n) => stepThreads(n, choice.name)))];
        process.stderr.write(`${choice.summary}; threads per step: ${counts.join(", ")}\n`);
        const report = await benchSpeed({
          steps,
          warmup,
          model: flags.model as "ple",
          backend: choice.name,
          threads: counts,
          batchSize,
          onProgress: (line) => process.stderr.write(`${line}\n`),
        });
        process.stdout.write(
          flags.json
            ? `${JSON.stringify({ ...report, backendDetail: choice.summary })}\n`
            : `${speedTable(report)}\n`,
        );
      },
    );
  return bench;
}
