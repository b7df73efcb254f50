import type { Command } from "commander";
import { BACKENDS, type Backend } from "../protocol/config";
import { selectBackend } from "../trainer/backend";
import { benchSpeed, type SpeedReport } from "../trainer/speed";

/**
 * `gradcraft bench speed`: training-step throughput of EW and GradCraft (both gradient scopes)
 * on the wechat-like shape, in one run. (`bench quality`, the paper's table, goes beside it.)
 */

const OFFICIAL_MS = { ew: 411, gradcraft: 2172 }; // ../shared/reference/README.md §B, PLE step path

export function speedTable(report: SpeedReport): string {
  const lines = [
    `backend ${report.backend}, model ${report.model}, batch ${report.batchSize}, ${report.steps} timed steps (median), peak RSS ${report.peakRssMb} MB`,
    `${"strategy".padEnd(10)} ${"scope".padEnd(15)} ${"ms/step".padStart(8)} ${"steps/s".padStart(8)} ${"p10".padStart(7)} ${"p90".padStart(7)} ${"cpu ms".padStart(7)}`,
  ];
  for (const c of report.cases)
    lines.push(
      `${c.strategy.padEnd(10)} ${c.scope.padEnd(15)} ${c.msPerStep.toFixed(0).padStart(8)} ${c.stepsPerSecond.toFixed(2).padStart(8)} ${c.p10.toFixed(0).padStart(7)} ${c.p90.toFixed(0).padStart(7)} ${c.cpuMsPerStep.toFixed(0).padStart(7)}`,
    );
  const params = report.cases.find((c) => c.strategy === "gradcraft" && c.scope === "params");
  lines.push(
    `GradCraft / EW: ${report.ratioParams.toFixed(2)}× (params scope), ${report.ratioRepresentation.toFixed(2)}× (representation scope); in CPU time ${report.cpuRatioParams.toFixed(2)}× and ${report.cpuRatioRepresentation.toFixed(2)}×`,
  );
  if (params && report.model === "ple")
    lines.push(
      `official PyTorch code (same shape, 2 threads): EW ${OFFICIAL_MS.ew} ms, GradCraft ${OFFICIAL_MS.gradcraft} ms: ours is ${(OFFICIAL_MS.gradcraft / params.msPerStep).toFixed(2)}× faster (params scope)`,
    );
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
    .action(
      async (flags: { json?: boolean; steps: string; warmup: string; model: string; backend: string }) => {
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
        const choice = await selectBackend(flags.backend as Backend);
        process.stderr.write(`${choice.summary}\n`);
        const report = await benchSpeed({
          steps,
          warmup,
          model: flags.model as "ple",
          backend: choice.name,
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
