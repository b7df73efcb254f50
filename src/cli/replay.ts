import * as fs from "node:fs";
import { basename, join, resolve } from "node:path";
import type { Command } from "commander";
import { encodeLine, type StreamProblem } from "../protocol/codec";
import { GAUC_NOT_APPLICABLE, gaucText } from "../protocol/gauc";
import {
  type EvalMessage,
  type MetricSet,
  RunSummary,
  SPLITS,
  type Split,
  type SplitMetrics,
} from "../protocol/messages";
import { resumeStep } from "../protocol/resumes";
import { RUN_FILES, readRunInfo, replay } from "../protocol/runlog";

/**
 * `gradcraft replay RUN`: the run's message stream as NDJSON, as a live run wrote it, less the
 * records a resume superseded (steps never go backwards; `--all` keeps them).
 * `gradcraft summary RUN`: the run's per-task table (AUC, GAUC, log loss per split, with means).
 */

export const DEFAULT_RUNS_DIR = join(".gradcraft", "runs");

export interface ReplayIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

const defaultIo: ReplayIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export class RunNotFound extends Error {}

/** A run folder path, or a name (or unique prefix/suffix of one) under the runs folder. */
export function resolveRun(run: string, runsDir = DEFAULT_RUNS_DIR): string {
  if (fs.existsSync(run) && fs.statSync(run).isDirectory()) return resolve(run);
  let names: string[] = [];
  try {
    names = fs.readdirSync(runsDir).filter((n) => fs.statSync(join(runsDir, n)).isDirectory());
  } catch {
    throw new RunNotFound(`no run folder "${run}" (and no runs folder ${runsDir})`);
  }
  const exact = names.find((n) => n === run);
  if (exact) return resolve(runsDir, exact);
  const matches = names.filter((n) => n.startsWith(run) || n.endsWith(`-${run}`) || n.endsWith(run));
  if (matches.length === 1) return resolve(runsDir, matches[0]);
  if (matches.length > 1)
    throw new RunNotFound(`"${run}" matches several runs in ${runsDir}: ${matches.sort().join(", ")}`);
  throw new RunNotFound(
    `no run "${run}" in ${runsDir}${names.length ? ` (runs: ${names.sort().join(", ")})` : ""}`,
  );
}

/** resolveRun for a subcommand: a missing run is said on stderr (undefined: exit with 2). */
function resolveRunFor(
  command: string,
  run: string,
  runsDir: string | undefined,
  io: ReplayIo,
): string | undefined {
  try {
    return resolveRun(run, runsDir);
  } catch (error) {
    io.stderr(`gradcraft ${command}: ${(error as Error).message}\n`);
    return undefined;
  }
}

export interface ReplayCommandOptions {
  runs?: string;
  /** Only these message types (comma-separated on the command line). */
  types?: string[];
  /** Also the records a resume superseded (the log as written). */
  all?: boolean;
}

/** Prints the event log's messages as NDJSON; problems go to stderr. Returns the exit code. */
export async function runReplay(
  run: string,
  options: ReplayCommandOptions = {},
  io = defaultIo,
): Promise<number> {
  const dir = resolveRunFor("replay", run, options.runs, io);
  if (dir === undefined) return 2;
  const onProblem = (problem: StreamProblem) =>
    io.stderr(
      `gradcraft replay: ${basename(dir)}/${RUN_FILES.events} line ${problem.line}: ${problem.reason}\n`,
    );
  const wanted = options.types && options.types.length > 0 ? new Set(options.types) : null;
  try {
    let batch = "";
    for await (const message of replay(dir, { onProblem, keepSuperseded: options.all })) {
      if (wanted && !wanted.has(message.type)) continue;
      batch += encodeLine(message);
      if (batch.length > 64 * 1024) {
        io.stdout(batch);
        batch = "";
      }
    }
    if (batch) io.stdout(batch);
    return 0;
  } catch (error) {
    io.stderr(`gradcraft replay: ${(error as Error).message}\n`);
    return 1;
  }
}

export interface SummaryCommandOptions {
  runs?: string;
  json?: boolean;
}

interface SummarySource {
  summary: RunSummary;
  /** Where the numbers came from, for the header. */
  from: "summary.json" | "done" | "evaluations";
}

/**
 * The run's summary: summary.json, else the done message, else the last evaluation of each split
 * (of the log as it stands after any resume). A summary.json written before the run was resumed
 * (the latest session has no done yet) describes training that was since redone: not used.
 */
async function findSummary(
  dir: string,
  onProblem: (p: StreamProblem) => void,
): Promise<SummarySource | null> {
  const summaryPath = join(dir, RUN_FILES.summary);
  const fromFile = () => {
    if (!fs.existsSync(summaryPath)) return null;
    const parsed = RunSummary.safeParse(JSON.parse(fs.readFileSync(summaryPath, "utf8")));
    return parsed.success ? ({ summary: parsed.data, from: "summary.json" } as const) : null;
  };
  if (!fs.existsSync(join(dir, RUN_FILES.events))) return fromFile();
  const lastEval = new Map<Split, EvalMessage>();
  let steps = 0;
  let wallMs = 0;
  let strategy: string | undefined;
  let done: RunSummary | null = null;
  let resumedSinceDone = false;
  for await (const message of replay(dir, { onProblem })) {
    if (message.type === "hello" && resumeStep(message) !== null) resumedSinceDone = true;
    if (message.type === "done") {
      done = message.summary;
      resumedSinceDone = false;
    }
    if (message.type === "eval") lastEval.set(message.split, message);
    if (message.type === "step") {
      steps = message.step;
      wallMs = message.wallMs;
      strategy = message.strategy;
    }
  }
  if (!resumedSinceDone) {
    const file = fromFile();
    if (file) return file;
    if (done) return { summary: done, from: "done" };
  }
  if (lastEval.size === 0) return null;
  const splits: RunSummary["splits"] = {};
  for (const [split, e] of lastEval) splits[split] = { tasks: e.tasks, mean: e.mean };
  return { summary: { steps, wallMs, ...(strategy ? { strategy } : {}), splits }, from: "evaluations" };
}

/** Prints the per-task table. Returns the exit code. */
export async function runSummary(
  run: string,
  options: SummaryCommandOptions = {},
  io = defaultIo,
): Promise<number> {
  const dir = resolveRunFor("summary", run, options.runs, io);
  if (dir === undefined) return 2;
  try {
    const problems: string[] = [];
    const found = await findSummary(dir, (p) => problems.push(p.reason));
    for (const p of problems) io.stderr(`gradcraft summary: ${basename(dir)}: ${p}\n`);
    if (!found) {
      io.stderr(`gradcraft summary: ${dir} has no summary and no evaluation yet\n`);
      return 1;
    }
    if (options.json) {
      io.stdout(`${JSON.stringify(found.summary, null, 2)}\n`);
      return 0;
    }
    const info = await readRunInfo(dir);
    io.stdout(
      formatSummary(found.summary, {
        name: basename(dir),
        status: info?.status ?? "unknown",
        from: found.from,
      }),
    );
    return 0;
  } catch (error) {
    io.stderr(`gradcraft summary: ${(error as Error).message}\n`);
    return 1;
  }
}

const fmt = (x: number | null | undefined) => (x === null || x === undefined ? "-" : x.toFixed(4));

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, "0")}m`
    : m > 0
      ? `${m}m${String(sec).padStart(2, "0")}s`
      : `${sec}s`;
}

/** A plain-text table: one row per task and a mean row, AUC/GAUC/logloss per split. */
export function formatSummary(
  summary: RunSummary,
  header: { name: string; status: string; from: string },
): string {
  const splits = SPLITS.filter((s) => summary.splits[s]) as Split[];
  const tasks: string[] = [];
  for (const split of splits)
    for (const t of summary.splits[split]?.tasks ?? []) if (!tasks.includes(t.task)) tasks.push(t.task);
  const metricsOf = (split: Split, task: string | null): MetricSet | undefined => {
    const s = summary.splits[split] as SplitMetrics;
    return task === null ? s.mean : s.tasks.find((t) => t.task === task);
  };
  const columns = ["task", ...splits.flatMap((s) => [`${s} AUC`, "GAUC", "logloss"])];
  const rows = [...tasks, null].map((task) => [
    task ?? "mean",
    ...splits.flatMap((split) => {
      const m = metricsOf(split, task);
      return [fmt(m?.auc), gaucText(summary.splits[split], m?.gauc, fmt), fmt(m?.logloss)];
    }),
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  const facts = [
    header.status,
    `${summary.steps} steps`,
    summary.strategy,
    duration(summary.wallMs),
    summary.bestStep !== undefined ? `best at step ${summary.bestStep}` : undefined,
    header.from === "evaluations" ? "from the last evaluations: the run has no summary" : undefined,
  ].filter(Boolean);
  const out = [`run ${header.name} (${facts.join(", ")})`, line(columns), ...rows.slice(0, -1).map(line)];
  out.push("-".repeat(widths.reduce((a, b) => a + b + 2, -2)), line(rows.at(-1) as string[]));
  if (splits.some((s) => summary.splits[s]?.gaucApplicable === false)) out.push(GAUC_NOT_APPLICABLE);
  return `${out.join("\n")}\n`;
}

export function registerReplay(program: Command): void {
  program
    .command("replay")
    .description(
      "Print a run's message stream as NDJSON, the messages the live run produced; of a resumed run, the records the resume redid are left out.",
    )
    .argument("<run>", "run folder, or a run's name under the runs folder")
    .option("--runs <dir>", "runs folder", DEFAULT_RUNS_DIR)
    .option("--types <list>", "only these message types, comma-separated (e.g. step,eval)", (v: string) =>
      v
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .option("--all", "keep the records a resume superseded (the event log as written)")
    .exitOverride()
    .action(async (run: string, options: ReplayCommandOptions) => {
      const code = await runReplay(run, options);
      if (code !== 0) process.exitCode = code;
    });
}

export function registerSummary(program: Command): void {
  program
    .command("summary")
    .description("Print a run's per-task table: AUC, GAUC and log loss per split, with their means.")
    .argument("<run>", "run folder, or a run's name under the runs folder")
    .option("--runs <dir>", "runs folder", DEFAULT_RUNS_DIR)
    .option("--json", "print the summary as JSON")
    .exitOverride()
    .action(async (run: string, options: SummaryCommandOptions) => {
      const code = await runSummary(run, options);
      if (code !== 0) process.exitCode = code;
    });
}
