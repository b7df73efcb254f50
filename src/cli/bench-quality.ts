import * as fs from "node:fs";
import { basename, join, resolve } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import {
  EMBEDDING_OPTIMIZERS,
  type EmbeddingOptimizer,
  TrainingConfig,
  type TrainingConfigInput,
} from "../protocol/config";
import { selectBackend } from "../trainer/backend";
import { loadDataset } from "../trainer/data/index";
import { PRESETS, type PresetName, presetConfig, WECHAT_LIKE } from "../trainer/presets";
import {
  allStrategyNames,
  mergeReports,
  type QualityReport,
  qualityEntries,
  ReuseMismatch,
  runQuality,
} from "../trainer/quality";
import type { WorkerCommand } from "../trainer/quality/jobs";
import { parseLearningRates } from "../trainer/quality/plan";
import { serveQualityRuns } from "../trainer/quality/worker";
import {
  type BenchIo,
  printReport,
  progressDisplay,
  type RunContext,
  runContext,
  writeReport,
} from "./bench-quality-output";
import { ConfigError, readableIssues, resolveTrainConfig } from "./train";

/**
 * `gradcraft bench quality`: the GradCraft paper's comparison on a preset's dataset or on any
 * training config (src/trainer/quality/ says what is run). Prints the AUC and GAUC tables, writes
 * quality-NAME.json and .md into --out; progress on stderr (a bar on a terminal, plain lines
 * otherwise). Bad flags exit 2.
 */

export interface BenchQualityFlags {
  /** A preset (default wechat-like when no --config). */
  dataset?: string;
  /** A training config file (*.gradcraft.json): its data, model and training settings. */
  config?: string;
  seeds: number;
  strategies?: string;
  ablations?: boolean;
  out: string;
  maxSteps?: number;
  epochs?: number;
  evalEvery?: number;
  patience?: number;
  rows?: number;
  backend?: string;
  dataDir?: string;
  scope?: "params" | "representation";
  json?: boolean;
  /** "i/n": run every n-th run of the plan from the i-th (1-based), for parallel processes. */
  shard?: string;
  /** Seeds are firstSeed..firstSeed+seeds−1 (default 1). */
  firstSeed?: number;
  /** Run this process's part of the plan from its end. */
  reverse?: boolean;
  /** Report files of shards to join instead of training. */
  merge?: string[];
  /** Report files whose matching runs are taken instead of trained again. */
  reuse?: string[];
  /** Tune each row's learning rate on validation over this grid. */
  lrGrid?: number[];
  /** Runs trained at once, each in its own process. */
  jobs?: number;
  /** The embedding recipe of every run (default: the config's). */
  embeddingOptimizer?: EmbeddingOptimizer;
  /** Internal: serve runs to a parent `--jobs` process over IPC. */
  worker?: boolean;
}

const positive = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError(`${name} must be a positive integer, got "${value}"`);
  return n;
};

export function registerBenchQuality(bench: Command): Command {
  return bench
    .command("quality")
    .description(
      "Train every strategy (and Single, one model per task) per seed with early stopping on mean validation AUC; print per-task test AUC/GAUC, AV and RI, mean ± std over seeds.",
    )
    .addOption(
      new Option(
        "--dataset <name>",
        "preset whose data, model and training settings are used (default wechat-like)",
      ).choices([...PRESETS]),
    )
    .option(
      "--config <file>",
      "a training config (*.gradcraft.json, your own data too) whose data, model and training settings are used instead of a preset's; its strategy is ignored, except GradCraft's τ and ε",
    )
    .option("--seeds <n>", "training seeds 1..N", positive("--seeds"), 3)
    .option(
      "--strategies <list>",
      `comma-separated strategies (default: all: ${allStrategyNames().join(",")})`,
    )
    .option("--ablations", "add the paper's GradCraft ablations (ε=0, τ=1, τ=0, local projection)")
    .option("--out <dir>", "folder for quality-DATASET.json and .md", ".gradcraft/bench")
    .option("--max-steps <n>", "cap on training steps per run", positive("--max-steps"))
    .option("--epochs <n>", "cap on epochs per run (default: the preset's)", positive("--epochs"))
    .option("--eval-every <n>", "validate every N steps (default: the preset's)", positive("--eval-every"))
    .option(
      "--patience <n>",
      "evaluations without improvement before stopping (default: the preset's)",
      positive("--patience"),
    )
    .option(
      "--rows <n>",
      "synthetic datasets only: rows to generate (default: the preset's)",
      positive("--rows"),
    )
    .option("--backend <name>", "compute backend (auto, wasm, cpu, ...; default: the config's, else auto)")
    .option("--data-dir <dir>", "KuaiRand-Pure folder (kuairand dataset)")
    .addOption(
      new Option(
        "--scope <scope>",
        "gradient scope of the balancing (default: the config's, else params)",
      ).choices(["params", "representation"]),
    )
    .addOption(
      new Option(
        "--embedding-optimizer <name>",
        "how every run trains the embedding tables (default: the config's, else lazy-adam)",
      ).choices([...EMBEDDING_OPTIMIZERS]),
    )
    .option(
      "--lr-grid <rates>",
      "tune each row's learning rate on validation, as the paper does: train every rate of this comma-separated grid (e.g. 1e-4,5e-4,1e-3) and report the one with the best mean validation AUC over seeds (Single: per task)",
      (text: string) => {
        try {
          return parseLearningRates(text);
        } catch (error) {
          throw new InvalidArgumentError(`--lr-grid: ${(error as Error).message}`);
        }
      },
    )
    .option(
      "--jobs <n>",
      "train n runs at once, each in its own process (about one per core; each loads the dataset)",
      positive("--jobs"),
    )
    .addOption(new Option("--worker", "serve runs to a parent --jobs process (internal)").hideHelp())
    .option("--json", "print the report as JSON on stdout instead of the tables")
    .option("--shard <i/n>", "run only the i-th of n interleaved parts of the plan (join them with --merge)")
    .option("--first-seed <n>", "seeds are n..n+N−1 (default 1)", positive("--first-seed"))
    .option(
      "--reverse",
      "run this process's part of the plan from its end (a late extra worker; merge the reports)",
    )
    .option(
      "--reuse <files...>",
      "take the runs these JSON reports already measured (same dataset, tasks, budget and row parameters) instead of training them again: resume an interrupted benchmark, or add rows to a table",
    )
    .option(
      "--merge <files...>",
      "join the JSON reports of shards (no training); writes the joined report to --out",
    )
    .action(async (flags: BenchQualityFlags) => {
      if (flags.worker) await serveQualityRuns();
      else process.exitCode = await runBenchQuality(flags);
    });
}

const defaultIo: BenchIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

class UsageError extends Error {}

/** How the command line recorded in the report starts (the standalone entry below changes it). */
let invokedAs = "gradcraft";

/** This program again in its worker mode, for --jobs: the bundled CLI, or the standalone TypeScript entry. */
function workerCommand(): WorkerCommand {
  return {
    modulePath: process.argv[1] ?? "",
    args: invokedAs === "gradcraft" ? ["bench", "quality", "--worker"] : ["--worker"],
  };
}

/** What the runs start from: the resolved config, where its relative data paths resolve from, and the name of the report. */
export interface BenchBase {
  readonly config: TrainingConfig;
  readonly baseDir: string;
  readonly name: string;
}

/**
 * The preset or the config file, with the flags' data-size, backend and scope changes applied,
 * parsed (the command's one parse).
 */
export function benchBaseConfig(flags: BenchQualityFlags): BenchBase {
  if (flags.config !== undefined && flags.dataset !== undefined)
    throw new UsageError("give --dataset (a preset) or --config (a file), not both");
  let start: { input: TrainingConfigInput; baseDir: string; name: string };
  if (flags.config !== undefined) {
    try {
      const { config, baseDir } = resolveTrainConfig(flags.config, { dataDir: flags.dataDir });
      const stem = basename(flags.config).replace(/(\.gradcraft)?\.json$/, "");
      start = { input: config, baseDir, name: config.name !== "run" ? config.name : stem };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      throw new UsageError(`--config: ${error.message}`);
    }
  } else {
    const dataset = flags.dataset ?? "wechat-like";
    if (!PRESETS.includes(dataset as PresetName))
      throw new UsageError(`--dataset: unknown dataset "${dataset}" (allowed: ${PRESETS.join(", ")})`);
    start = {
      input: presetConfig(dataset as PresetName, { dataDir: flags.dataDir }),
      baseDir: process.cwd(),
      name: dataset,
    };
  }
  const { input } = start;
  const data = input.data as Record<string, unknown> | undefined;
  if (flags.rows !== undefined && data?.source !== "synthetic")
    throw new UsageError(`--rows applies to synthetic datasets only; "${start.name}" reads files`);
  const base = {
    ...input,
    backend: flags.backend ?? input.backend ?? "auto",
    // With --jobs the runs already share the cores, a process each: every run keeps to one thread.
    ...(flags.jobs !== undefined && flags.jobs > 1 ? { threads: 1 } : {}),
    ...(flags.rows !== undefined ? { data: { ...data, rows: flags.rows } } : {}),
    training: {
      ...input.training,
      gradientScope: flags.scope ?? input.training?.gradientScope ?? "params",
      ...(flags.embeddingOptimizer ? { embeddingOptimizer: flags.embeddingOptimizer } : {}),
    },
  } as TrainingConfigInput;
  const parsed = TrainingConfig.safeParse(base);
  if (!parsed.success) throw new UsageError(`invalid settings: ${readableIssues(parsed.error).join("; ")}`);
  return { config: parsed.data, baseDir: start.baseDir, name: start.name };
}

export function parseShard(text: string | undefined): { index: number; count: number } | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)\/(\d+)$/.exec(text.trim());
  const i = match ? Number(match[1]) : Number.NaN;
  const n = match ? Number(match[2]) : Number.NaN;
  if (!(n >= 1 && i >= 1 && i <= n))
    throw new UsageError(`--shard: expected i/n with 1 ≤ i ≤ n (e.g. 1/2), got "${text}"`);
  return { index: i - 1, count: n };
}

export async function runBenchQuality(
  flags: BenchQualityFlags,
  io: BenchIo = defaultIo,
  argv = process.argv,
  worker: WorkerCommand = workerCommand(),
): Promise<number> {
  const command = `${invokedAs} ${argv.slice(2).join(" ")}`;
  if (flags.merge) return mergeCommand(flags, io, command);
  let bench: BenchBase;
  let entries: ReturnType<typeof qualityEntries>;
  let shard: ReturnType<typeof parseShard>;
  let reuse: QualityReport[];
  try {
    shard = parseShard(flags.shard);
    reuse = readReports("--reuse", flags.reuse ?? []);
    bench = benchBaseConfig(flags);
    const names = flags.strategies
      ? flags.strategies
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : allStrategyNames();
    if (names.length === 0) throw new UsageError("--strategies: the list is empty");
    // τ and ε of the config's GradCraft (or PCGrad+); else the wechat-like preset's.
    const chosen = bench.config.strategy;
    const gradcraftParams = (
      ["gradcraft", "pcgrad-plus"].includes(chosen.name)
        ? { ...WECHAT_LIKE.gradcraft, ...chosen.params }
        : WECHAT_LIKE.gradcraft
    ) as { tau: number; eps: number };
    entries = qualityEntries(names, { ablations: flags.ablations === true, gradcraft: gradcraftParams });
  } catch (error) {
    io.stderr(`gradcraft bench quality: ${(error as Error).message}\n`);
    return 2;
  }
  const base = bench.config;
  const backend = await selectBackend(base.backend);
  io.stderr(`${backend.summary}\n`);
  const loadStarted = Date.now();
  const dataset = await loadDataset(base.data, { baseDir: bench.baseDir });
  io.stderr(
    `dataset ${bench.name}: ${dataset.train.size} train, ${dataset.validation.size} validation, ${dataset.test.size} test rows, ${dataset.taskNames.length} tasks (loaded in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s)\n`,
  );
  const seeds = Array.from({ length: flags.seeds }, (_, i) => i + (flags.firstSeed ?? 1));
  const progress = progressDisplay(io);
  const outDir = resolve(flags.out);
  fs.mkdirSync(outDir, { recursive: true });
  const stem = `quality-${bench.name}${shard ? `-shard${shard.index + 1}of${shard.count}` : ""}${flags.firstSeed ? `-from-seed${flags.firstSeed}` : ""}${flags.reverse ? "-reverse" : ""}`;
  const overwritten = (flags.reuse ?? []).find((file) => resolve(file) === join(outDir, `${stem}.json`));
  if (overwritten) {
    // The new report keeps only this plan's rows: writing it over a reused report could lose runs.
    io.stderr(
      `gradcraft bench quality: --reuse ${overwritten} is where this run writes its report; pick another --out\n`,
    );
    return 2;
  }
  if (reuse.length > 0)
    io.stderr(
      `reusing the runs of ${reuse.length} report${reuse.length > 1 ? "s" : ""} where they match this plan\n`,
    );
  const save = (report: QualityReport) => writeReport(outDir, stem, report, runContext(command));
  let report: QualityReport;
  try {
    report = await runQuality({
      base,
      dataset,
      datasetName: bench.name,
      entries,
      seeds,
      backend,
      budget: {
        maxSteps: flags.maxSteps,
        epochs: flags.epochs,
        evalEvery: flags.evalEvery,
        patience: flags.patience,
      },
      onEvent: progress.update,
      shard,
      reverse: flags.reverse === true,
      learningRates: flags.lrGrid,
      jobs:
        flags.jobs !== undefined && flags.jobs > 1
          ? { count: flags.jobs, worker, baseDir: bench.baseDir }
          : undefined,
      reuse,
      // Written after every run: an interrupted benchmark keeps what it measured.
      onProgress: save,
    });
  } catch (error) {
    if (!(error instanceof ReuseMismatch)) throw error;
    io.stderr(`gradcraft bench quality: --reuse: ${error.message}\n`);
    return 2;
  } finally {
    progress.stop();
  }
  const { jsonPath, mdPath } = save(report);
  printReport(io, flags.json === true, report, jsonPath, mdPath);
  return 0;
}

async function mergeCommand(flags: BenchQualityFlags, io: BenchIo, command: string): Promise<number> {
  let report: QualityReport;
  let contexts: RunContext[];
  try {
    const parts = readReports("--merge", flags.merge ?? []) as Array<QualityReport & RunContext>;
    report = mergeReports(parts);
    contexts = parts;
  } catch (error) {
    io.stderr(`gradcraft bench quality: ${(error as Error).message}\n`);
    return 2;
  }
  const context: RunContext = {
    command: [...new Set(contexts.map((c) => c.command))].join(" ; ") + ` ; then ${command}`,
    date:
      contexts
        .map((c) => c.date)
        .sort()
        .at(-1) ?? new Date().toISOString(),
    machine: [...new Set(contexts.map((c) => c.machine))].join("; "),
    node: [...new Set(contexts.map((c) => c.node))].join(", "),
  };
  const outDir = resolve(flags.out);
  fs.mkdirSync(outDir, { recursive: true });
  const { jsonPath, mdPath } = writeReport(outDir, `quality-${report.dataset}`, report, context);
  printReport(io, flags.json === true, report, jsonPath, mdPath);
  return 0;
}

function readReports(flag: string, files: readonly string[]): QualityReport[] {
  return files.map((file) => {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as QualityReport;
    } catch (error) {
      throw new UsageError(`${flag}: cannot read ${file}: ${(error as Error).message}`);
    }
  });
}

// Also runs on its own, without building: `npx tsx src/cli/bench-quality.ts --dataset quick ...`
// (recognised by file name, not require.main: inside the esbuild bundle every module shares the bundle's `module`.)
if (/bench-quality\.ts$/.test(process.argv[1] ?? "")) {
  invokedAs = "npx tsx src/cli/bench-quality.ts";
  const program = new Command("bench");
  registerBenchQuality(program);
  program
    .parseAsync(["quality", ...process.argv.slice(2)], { from: "user" })
    .then(() => process.exit(process.exitCode ?? 0))
    .catch((error: unknown) => {
      console.error(`gradcraft bench quality: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    });
}
