import * as fs from "node:fs";
import * as os from "node:os";
import { join, resolve } from "node:path";
import { SingleBar } from "cli-progress";
import { Command, InvalidArgumentError, Option } from "commander";
import { TrainingConfig, type TrainingConfigInput } from "../protocol/config";
import { selectBackend } from "../trainer/backend";
import { loadDataset } from "../trainer/data/index";
import { PRESETS, type PresetName, presetConfig, WECHAT_LIKE } from "../trainer/presets";
import {
  allStrategyNames,
  compareWithPaper,
  markdownTable,
  meanOf,
  mergeReports,
  type QualityEvent,
  type QualityReport,
  qualityEntries,
  ReuseMismatch,
  runQuality,
  tableRows,
  textTable,
} from "../trainer/quality";
import { readableIssues } from "./train";

/**
 * `gradcraft bench quality`: the GradCraft paper's comparison on one dataset (src/trainer/quality.ts
 * says what is run). Prints the AUC and GAUC tables, writes quality-DATASET.json and .md into
 * --out; progress on stderr (a bar on a terminal, plain lines otherwise). Bad flags exit 2.
 */

export interface BenchQualityFlags {
  dataset: string;
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
      new Option("--dataset <name>", "preset whose data, model and training settings are used")
        .choices([...PRESETS])
        .default("wechat-like"),
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
    .option("--backend <name>", "compute backend (auto, wasm, cpu, ...)", "auto")
    .option("--data-dir <dir>", "KuaiRand-Pure folder (kuairand dataset)")
    .addOption(
      new Option("--scope <scope>", "gradient scope of the balancing")
        .choices(["params", "representation"])
        .default("params"),
    )
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
      process.exitCode = await runBenchQuality(flags);
    });
}

export interface BenchIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True: draw a progress bar on stderr. */
  interactive: boolean;
}

const defaultIo: BenchIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  interactive: Boolean(process.stderr.isTTY),
};

class UsageError extends Error {}

/** How the command line recorded in the report starts (the standalone entry below changes it). */
let invokedAs = "gradcraft";

/** The preset with the flags' data-size and scope changes applied, parsed (the command's one parse). */
export function benchBaseConfig(flags: BenchQualityFlags): TrainingConfig {
  if (!PRESETS.includes(flags.dataset as PresetName))
    throw new UsageError(`--dataset: unknown dataset "${flags.dataset}" (allowed: ${PRESETS.join(", ")})`);
  const preset = presetConfig(flags.dataset as PresetName, { dataDir: flags.dataDir });
  const data = preset.data as Record<string, unknown> | undefined;
  if (flags.rows !== undefined && data?.source !== "synthetic")
    throw new UsageError(`--rows applies to synthetic datasets only; "${flags.dataset}" reads files`);
  const base = {
    ...preset,
    backend: flags.backend ?? "auto",
    ...(flags.rows !== undefined ? { data: { ...data, rows: flags.rows } } : {}),
    training: { ...preset.training, gradientScope: flags.scope ?? "params" },
  } as TrainingConfigInput;
  const parsed = TrainingConfig.safeParse(base);
  if (!parsed.success) throw new UsageError(`invalid settings: ${readableIssues(parsed.error).join("; ")}`);
  return parsed.data;
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
): Promise<number> {
  const command = `${invokedAs} ${argv.slice(2).join(" ")}`;
  if (flags.merge) return mergeCommand(flags, io, command);
  let base: TrainingConfig;
  let entries: ReturnType<typeof qualityEntries>;
  let shard: ReturnType<typeof parseShard>;
  let reuse: QualityReport[];
  try {
    shard = parseShard(flags.shard);
    reuse = readReports("--reuse", flags.reuse ?? []);
    base = benchBaseConfig(flags);
    const names = flags.strategies
      ? flags.strategies
          .split(",")
          .map((s) => s.trim())
          .filter((s) => s.length > 0)
      : allStrategyNames();
    if (names.length === 0) throw new UsageError("--strategies: the list is empty");
    const presetParams = base.strategy.params;
    const gradcraftParams = (Object.keys(presetParams).length > 0 ? presetParams : WECHAT_LIKE.gradcraft) as {
      tau: number;
      eps: number;
    };
    entries = qualityEntries(names, { ablations: flags.ablations === true, gradcraft: gradcraftParams });
  } catch (error) {
    io.stderr(`gradcraft bench quality: ${(error as Error).message}\n`);
    return 2;
  }
  const backend = await selectBackend((flags.backend ?? "auto") as never);
  io.stderr(`${backend.summary}\n`);
  const loadStarted = Date.now();
  const dataset = await loadDataset(base.data, { baseDir: process.cwd() });
  io.stderr(
    `dataset ${flags.dataset}: ${dataset.train.size} train, ${dataset.validation.size} validation, ${dataset.test.size} test rows, ${dataset.taskNames.length} tasks (loaded in ${((Date.now() - loadStarted) / 1000).toFixed(1)} s)\n`,
  );
  const seeds = Array.from({ length: flags.seeds }, (_, i) => i + (flags.firstSeed ?? 1));
  const progress = progressDisplay(io);
  const outDir = resolve(flags.out);
  fs.mkdirSync(outDir, { recursive: true });
  const stem = `quality-${flags.dataset}${shard ? `-shard${shard.index + 1}of${shard.count}` : ""}${flags.firstSeed ? `-from-seed${flags.firstSeed}` : ""}${flags.reverse ? "-reverse" : ""}`;
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
      datasetName: flags.dataset,
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
  printReport(io, flags, report, jsonPath, mdPath);
  return 0;
}

function writeReport(outDir: string, stem: string, report: QualityReport, context: RunContext) {
  const jsonPath = join(outDir, `${stem}.json`);
  const mdPath = join(outDir, `${stem}.md`);
  fs.writeFileSync(jsonPath, `${JSON.stringify({ ...context, ...report }, null, 2)}\n`);
  fs.writeFileSync(mdPath, qualityMarkdown(report, context));
  return { jsonPath, mdPath };
}

function printReport(
  io: BenchIo,
  flags: BenchQualityFlags,
  report: QualityReport,
  jsonPath: string,
  mdPath: string,
) {
  if (flags.json) {
    io.stdout(`${fs.readFileSync(jsonPath, "utf8")}`);
    return;
  }
  const n = report.seeds.length;
  io.stdout(
    `\nTest AUC (${report.dataset}; mean ± std over ${n} seed${n > 1 ? "s" : ""})${report.complete ? "" : " (INCOMPLETE: runs missing)"}\n`,
  );
  io.stdout(`${textTable(tableRows(report, "auc"))}\n\nTest GAUC\n${textTable(tableRows(report, "gauc"))}\n`);
  io.stdout(`\nwrote ${jsonPath} and ${mdPath}\n`);
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
  printReport(io, flags, report, jsonPath, mdPath);
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

export interface RunContext {
  command: string;
  date: string;
  machine: string;
  node: string;
}

export function runContext(command: string): RunContext {
  const cpus = os.cpus();
  return {
    command,
    date: new Date().toISOString(),
    machine: `${cpus.length}× ${cpus[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

export function qualityMarkdown(report: QualityReport, context: RunContext): string {
  const b = report.budget;
  const lines = [
    `## Quality: ${report.dataset}`,
    "",
    `Command: \`${context.command}\``,
    `Machine: ${context.machine}; Node ${context.node}; backend ${report.backend}; ${context.date}; ${(report.wallMs / 60000).toFixed(1)} min.`,
    `Budget per run: ${b.maxSteps !== undefined ? `at most ${b.maxSteps} steps, ` : ""}at most ${b.epochs} epochs, validation every ${b.evalEvery} steps, patience ${b.patience}; seeds ${report.seeds.join(", ")}.`,
    ...(report.partialSeeds ?? []).map(
      (p) =>
        `Seed ${p.seed} is left out of the tables: ${p.runs} of its ${p.of} runs finished (they are listed below).`,
    ),
    "",
    "Test AUC (mean ± std over seeds); AV = mean over tasks; RI = mean over tasks of the relative improvement over Single, paired by seed.",
    "",
    markdownTable(tableRows(report, "auc")),
    "",
    "Test GAUC",
    "",
    markdownTable(tableRows(report, "gauc")),
    "",
    ...paperLines(report),
    "Runs (Single: one run per task, selected on that task's validation AUC):",
    "",
    markdownTable([
      ["run", "seed", "steps", "best step", "stopped", "wall s"],
      ...report.runs.map((r) => [
        r.task !== undefined ? `${r.label} [${report.taskNames[r.task]}]` : r.label,
        String(r.seed),
        String(r.steps),
        r.bestStep === null ? "–" : String(r.bestStep),
        r.reason,
        (r.wallMs / 1000).toFixed(0),
      ]),
    ]),
    "",
  ];
  return lines.join("\n");
}

/** Our averages and ranks beside the paper's WeChat ones, with Spearman's ρ of the rankings. */
function paperLines(report: QualityReport): string[] {
  const c = compareWithPaper(report);
  if (c.rows.length === 0) return [];
  const f = (x: number | null) => (x === null ? "–" : x.toFixed(4).replace(/^0\./, "."));
  const rho = (x: number | null) => (x === null ? "–" : x.toFixed(2));
  return [
    `Beside the paper (WeChat, PLE; different data, so compare rankings, not values). Spearman's ρ of the AV rankings: AUC ${rho(c.rhoAuc)}, GAUC ${rho(c.rhoGauc)}.`,
    "",
    markdownTable([
      ["strategy", "AV AUC (ours)", "rank", "AV AUC (paper)", "rank", "AV GAUC (ours)", "AV GAUC (paper)"],
      ...c.rows
        .slice()
        .sort((a, b) => a.rank.ours - b.rank.ours)
        .map((r) => [
          r.label,
          f(r.ours.auc),
          String(r.rank.ours),
          f(r.paper.auc),
          String(r.rank.paper),
          f(r.ours.gauc),
          f(r.paper.gauc),
        ]),
    ]),
    "",
  ];
}

/** A bar on a terminal; otherwise a line per run and at most one progress line per 30 s. */
function progressDisplay(io: BenchIo): { update: (event: QualityEvent) => void; stop: () => void } {
  const started = Date.now();
  const units = 1000;
  let lastLine = 0;
  const done = (event: QualityEvent) =>
    event.type === "run-end"
      ? event.index + 1
      : event.index +
        (event.type === "run-step" ? Math.min(1, event.step / Math.max(1, event.stepBudget)) : 0);
  const eta = (fraction: number) => {
    if (fraction <= 0) return "?";
    const seconds = ((Date.now() - started) / 1000) * (1 / fraction - 1);
    return seconds >= 3600
      ? `${(seconds / 3600).toFixed(1)} h`
      : seconds >= 60
        ? `${Math.round(seconds / 60)} min`
        : `${Math.round(seconds)} s`;
  };
  const name = (event: QualityEvent) =>
    `${event.run.label}${event.run.task !== undefined ? ` [task ${event.run.task}]` : ""} seed ${event.run.seed}`;
  if (io.interactive) {
    // Our own ETA: cli-progress's {eta} (a reserved name) extrapolates from the last updates only.
    const bar = new SingleBar({
      format: "{bar} {percentage}% | run {run}/{runs}: {name} step {step} | ETA {remaining}",
      stream: process.stderr,
      hideCursor: true,
    });
    let startedBar = false;
    return {
      update: (event) => {
        if (!startedBar) {
          bar.start(event.total * units, 0, {
            run: 1,
            runs: event.total,
            name: name(event),
            step: 0,
            remaining: "?",
          });
          startedBar = true;
        }
        const fraction = done(event) / event.total;
        bar.update(Math.round(done(event) * units), {
          run: event.index + 1,
          name: name(event),
          step: event.type === "run-step" ? event.step : event.type === "run-end" ? event.record.steps : 0,
          remaining: eta(fraction),
        });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    update: (event) => {
      const prefix = `[${event.index + 1}/${event.total}] ${name(event)}`;
      if (event.type === "run-start")
        io.stderr(
          `${prefix}: started (at most ${Number.isFinite(event.stepBudget) ? event.stepBudget : "∞"} steps)\n`,
        );
      else if (event.type === "run-end") {
        const r = event.record;
        const auc = r.task !== undefined ? r.testAuc[r.task] : meanOf(r.testAuc);
        io.stderr(
          `${prefix}: ${r.reason} after ${r.steps} steps (best ${r.bestStep ?? "–"}), test AUC ${auc === null ? "–" : auc.toFixed(4)}, ${(r.wallMs / 1000).toFixed(0)} s; ETA ${eta(done(event) / event.total)}\n`,
        );
      } else if (Date.now() - lastLine > 30_000) {
        lastLine = Date.now();
        io.stderr(`${prefix}: step ${event.step}; ETA ${eta(done(event) / event.total)}\n`);
      }
    },
    stop: () => {},
  };
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
