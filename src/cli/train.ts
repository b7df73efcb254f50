import * as fs from "node:fs";
import { dirname, resolve } from "node:path";
import { SingleBar } from "cli-progress";
import type { Command } from "commander";
import type { z } from "zod";
import { parseStrategyParams, requireStrategy } from "../core/combine";
import { BACKENDS, type Backend, TrainingConfig, type TrainingConfigInput } from "../protocol/config";
import { JsonFileError, readConfigFile, readJsonFile } from "../protocol/configFile";
import { configProblemLines } from "../protocol/configIssues";
import { GAUC_NOT_APPLICABLE, gaucText } from "../protocol/gauc";
import { TrainerLink } from "../protocol/link/trainerLink";
import type { RunSummary, SplitMetrics, TrainerMessage } from "../protocol/messages";
import { checkConfigFits, PreflightError } from "../protocol/preflight";
import { createRunDir, runPaths } from "../protocol/runlog";
import { selectBackend } from "../trainer/backend";
import type { Interruption } from "../trainer/control";
import { stepThreads } from "../trainer/parallel/pool";
import { PRESETS, type PresetName, presetConfig } from "../trainer/presets";
import { ResumeError } from "../trainer/resume";
import { train } from "../trainer/train";

/**
 * `gradcraft train [CONFIG]`: resolve the config (preset, file, flags), pick the backend, create
 * the run folder and run the training loop; a progress bar on a terminal, plain lines otherwise,
 * and the per-task results table at the end. Config errors exit 2 and write nothing.
 */

export interface TrainFlags {
  strategy?: string;
  preset?: string;
  backend?: string;
  out?: string;
  resume?: string;
  listen?: boolean;
  protocol?: string;
  maxSteps?: string;
  dataDir?: string;
  threads?: string;
}

export class ConfigError extends Error {}

/** A config object's fields override the preset's, recursively (arrays replace). */
export function mergeConfig(base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override;
  // A different data source replaces the whole block rather than mixing two sources' fields.
  if (
    typeof base.source === "string" &&
    typeof override.source === "string" &&
    base.source !== override.source
  )
    return override;
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) out[key] = mergeConfig(base[key], value);
  return out;
}

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/**
 * zod issues as lines naming the field, e.g. `training.learningRate: expected a number ≤ 1`; an
 * unknown field names the nearest known one when `input` (what was validated) is given.
 */
export function readableIssues(error: z.ZodError, input?: unknown): string[] {
  return configProblemLines(error, input);
}

/** What --backend, --threads and --max-steps change, for a new run and a resumed one alike. */
function flagOverrides(flags: TrainFlags): Record<string, unknown> {
  const overrides: Record<string, unknown> = {};
  if (flags.backend !== undefined) overrides.backend = flags.backend;
  if (flags.threads !== undefined) {
    const n = Number(flags.threads);
    overrides.threads = flags.threads === "auto" || !Number.isInteger(n) ? flags.threads : n;
  }
  if (flags.maxSteps !== undefined) {
    // Not a whole number: passed on as given, so the config error quotes what the user typed.
    const n = Number(flags.maxSteps);
    overrides.training = { maxSteps: Number.isInteger(n) ? n : flags.maxSteps };
  }
  return overrides;
}

/** Validates, then checks the memory the config needs against this machine before anything is allocated. */
function parseConfig(merged: unknown, source?: string): TrainingConfig {
  const parsed = TrainingConfig.safeParse(merged);
  const where = source ? ` ${source}` : "";
  if (!parsed.success)
    throw new ConfigError(`invalid config${where}:\n  ${readableIssues(parsed.error, merged).join("\n  ")}`);
  try {
    checkConfigFits(parsed.data);
  } catch (error) {
    if (error instanceof PreflightError)
      throw new ConfigError(`config${where} does not fit:\n  ${error.message}`);
    throw error;
  }
  return parsed.data;
}

/** Preset, then the file, then the flags; validated. Throws ConfigError (readable) on bad input. */
export function resolveTrainConfig(
  file: string | undefined,
  flags: TrainFlags,
  options: { repoRoot?: string } = {},
): { config: TrainingConfig; baseDir: string } {
  let fromFile: Record<string, unknown> = {};
  let baseDir = process.cwd();
  if (file) {
    const path = resolve(file);
    let parsed: unknown;
    try {
      parsed = readConfigFile(path, file);
    } catch (error) {
      throw new ConfigError(error instanceof JsonFileError ? `config ${error.message}` : String(error));
    }
    if (!isPlainObject(parsed)) throw new ConfigError(`config ${file}: the top level must be a JSON object`);
    fromFile = parsed;
    baseDir = dirname(path);
  }
  const presetName = flags.preset ?? (typeof fromFile.preset === "string" ? fromFile.preset : undefined);
  if (presetName !== undefined && !PRESETS.includes(presetName as PresetName))
    throw new ConfigError(`preset: unknown preset "${presetName}" (allowed: ${PRESETS.join(", ")})`);
  const base: TrainingConfigInput = presetName
    ? {
        ...presetConfig(presetName as PresetName, { dataDir: flags.dataDir, repoRoot: options.repoRoot }),
        preset: presetName as PresetName,
      }
    : {};
  const merged = mergeConfig(mergeConfig(base, fromFile), flagOverrides(flags)) as Record<string, unknown>;
  // --strategy NAME: a different strategy starts from its own defaults; the same one keeps its parameters.
  const current = merged.strategy as { name?: string } | undefined;
  if (flags.strategy !== undefined && flags.strategy !== current?.name)
    merged.strategy = { name: flags.strategy, params: {} };
  const config = parseConfig(merged, file);
  try {
    parseStrategyParams(requireStrategy(config.strategy.name), config.strategy.params);
  } catch (error) {
    throw new ConfigError(`invalid config:\n  strategy: ${(error as Error).message}`);
  }
  return { config, baseDir };
}

function fmt(x: number | null | undefined, digits = 4): string {
  return x === null || x === undefined ? "–" : x.toFixed(digits);
}

/** The per-task results table. */
export function resultsTable(summary: RunSummary, split: "test" | "validation" = "test"): string {
  const metrics: SplitMetrics | undefined = summary.splits[split];
  if (!metrics) return `(no ${split} metrics)`;
  const width = Math.max(4, ...metrics.tasks.map((t) => t.task.length));
  const row = (name: string, m: { auc: number | null; gauc: number | null; logloss: number | null }) =>
    `${name.padEnd(width)}  ${fmt(m.auc).padStart(7)}  ${gaucText(metrics, m.gauc, fmt).padStart(7)}  ${fmt(m.logloss).padStart(7)}`;
  const header = `${"task".padEnd(width)}  ${"AUC".padStart(7)}  ${"GAUC".padStart(7)}  ${"logloss".padStart(7)}`;
  const rule = "-".repeat(header.length);
  return [
    `${split} split`,
    header,
    rule,
    ...metrics.tasks.map((t) => row(t.task, t)),
    rule,
    row("mean", metrics.mean),
    ...(metrics.gaucApplicable === false ? [GAUC_NOT_APPLICABLE] : []),
  ].join("\n");
}

function progressDisplay(interactive: boolean) {
  let bar: SingleBar | null = null;
  let total = 0;
  let lastPlain = 0;
  const started = Date.now();
  return {
    plan(plan: { totalSteps: number; startStep: number }) {
      total = plan.totalSteps;
      if (interactive) {
        bar = new SingleBar({
          format: "{bar} {value}/{total} steps | {speed} steps/s | ETA {eta_formatted} | {losses}",
          stream: process.stderr,
          hideCursor: true,
        });
        bar.start(total, plan.startStep, { speed: "–", losses: "" });
      }
    },
    message(m: TrainerMessage) {
      if (m.type === "step") {
        const speed = (m.step / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(1);
        const losses = `loss ${m.losses.map((l) => l.toFixed(3)).join(" ")}`;
        if (bar) bar.update(m.step, { speed, losses });
        else if (Date.now() - lastPlain > 5000 || m.step === total) {
          lastPlain = Date.now();
          process.stderr.write(`step ${m.step}/${total} (${speed} steps/s) ${losses}\n`);
        }
      } else if (m.type === "eval") {
        const line = `eval ${m.split} @ step ${m.step}: mean AUC ${fmt(m.mean.auc)} GAUC ${gaucText(m, m.mean.gauc, fmt)}${m.best ? " (best)" : ""}`;
        if (bar) bar.updateETA();
        process.stderr.write(bar ? `\r\x1b[K${line}\n` : `${line}\n`);
      } else if (m.type === "error")
        process.stderr.write(`${bar ? "\r\x1b[K" : ""}${m.fatal ? "error" : "warning"}: ${m.message}\n`);
      else if (m.type === "log" && (m.level === "warn" || m.level === "error"))
        process.stderr.write(
          `${bar ? "\r\x1b[K" : ""}${m.level === "warn" ? "warning" : "error"}: ${m.message}\n`,
        );
      else if (m.type === "progress" && !bar && m.fraction === 0) process.stderr.write(`${m.phase}...\n`);
    },
    stop() {
      bar?.stop();
    },
  };
}

export async function runTrain(file: string | undefined, flags: TrainFlags): Promise<number> {
  const protocolMode = flags.protocol === "stdio";
  if (flags.protocol !== undefined && !protocolMode) {
    process.stderr.write(`gradcraft train: --protocol must be "stdio", got "${flags.protocol}"\n`);
    return 2;
  }
  if (flags.backend !== undefined && !BACKENDS.includes(flags.backend as Backend)) {
    process.stderr.write(
      `gradcraft train: --backend: unknown backend "${flags.backend}" (allowed: ${BACKENDS.join(", ")})\n`,
    );
    return 2;
  }
  let config: TrainingConfig;
  let baseDir: string;
  let runDir: string;
  const resume = flags.resume !== undefined;
  try {
    if (resume) {
      runDir = resolve(flags.resume as string);
      const configPath = runPaths(runDir).config;
      if (!fs.existsSync(configPath))
        throw new ConfigError(`--resume: ${flags.resume} is not a run folder (no config.json)`);
      const saved = readJsonFile(configPath);
      config = parseConfig(mergeConfig(saved, flagOverrides(flags)), configPath);
      baseDir = runDir;
    } else {
      ({ config, baseDir } = resolveTrainConfig(file, flags, { repoRoot: process.cwd() }));
      runDir = "";
    }
  } catch (error) {
    if (error instanceof ConfigError || error instanceof JsonFileError) {
      process.stderr.write(`gradcraft train: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
  const backend = await selectBackend((flags.backend as Backend | undefined) ?? config.backend);
  const threads = stepThreads(config.threads, backend.name, config.training.batchSize);
  process.stderr.write(`${backend.summary}; threads per step: ${threads}\n`);
  if (!resume) {
    runDir = createRunDir(resolve(flags.out ?? ".gradcraft/runs"), config.name);
    fs.writeFileSync(runPaths(runDir).config, `${JSON.stringify(config, null, 2)}\n`);
  }
  process.stderr.write(`run folder: ${runDir}\n`);
  const link = await TrainerLink.open({
    runDir,
    stdoutFd: protocolMode ? 1 : null,
    stdin: protocolMode ? process.stdin : null,
    listen: flags.listen === true,
  });
  const display = progressDisplay(!protocolMode && process.stderr.isTTY === true);
  const interruptions = watchInterruptions(link);
  let code = 0;
  try {
    const result = await train({
      config,
      baseDir,
      runDir,
      channel: link,
      backend,
      resume,
      interrupt: interruptions.signal,
      // Under --protocol the host reads every message and tells its user (VS Code's Output
      // channel names the tasks); the same lines again on stderr would only repeat them.
      observe: protocolMode ? undefined : (m) => display.message(m),
      onPlan: (plan) => display.plan(plan),
    });
    display.stop();
    const table = resultsTable(result.summary);
    (protocolMode ? process.stderr : process.stdout).write(`\n${table}\n\n`);
    process.stderr.write(
      `${result.reason}: ${result.summary.steps} steps in ${(result.summary.wallMs / 1000).toFixed(1)} s; run folder ${runDir}\n`,
    );
    code =
      result.reason === "failed"
        ? 1
        : result.reason === "interrupted"
          ? (INTERRUPTED_EXIT_CODES[result.summary.interruptedBy ?? ""] ?? 1)
          : 0;
  } catch (error) {
    if (!(error instanceof ResumeError)) throw error;
    process.stderr.write(`gradcraft train: --resume: ${error.message}\n`);
    code = 2;
  } finally {
    interruptions.dispose();
    display.stop();
    await link.close();
  }
  return code;
}

/** The conventional exit status of a process ended by a signal (128 + its number); a lost host is a hangup. */
export const INTERRUPTED_EXIT_CODES: Readonly<Record<string, number>> = {
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
  "host-lost": 129,
};

/**
 * SIGINT, SIGTERM, SIGHUP and the loss of the host (stdin closed in --protocol stdio) stop the
 * run at the end of its current step: checkpoints/last, summary.json and done are written, and
 * the exit status says what happened. A second signal exits at once.
 */
export function watchInterruptions(
  link: Pick<TrainerLink, "onHostLost">,
  exit: (code: number) => void = (code) => process.exit(code),
) {
  const controller = new AbortController();
  const interrupt = (interruption: Interruption) => {
    if (controller.signal.aborted) return;
    process.stderr.write(`gradcraft train: ${interruption.message}\n`);
    controller.abort(interruption);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      process.stderr.write(`gradcraft train: ${signal} again: exiting now\n`);
      exit(INTERRUPTED_EXIT_CODES[signal]);
      return;
    }
    interrupt({
      by: signal,
      message: `${signal}: stopping after this step; checkpoints/last, summary.json and done follow (${signal} again exits at once)`,
    });
  };
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  for (const signal of signals) process.on(signal, onSignal);
  const hostLost = link.onHostLost((loss) =>
    interrupt({
      by: "host-lost",
      message: `${loss.reason}: stopping after this step; checkpoints/last, summary.json and done follow`,
    }),
  );
  return {
    signal: controller.signal,
    dispose() {
      for (const signal of signals) process.off(signal, onSignal);
      hostLost.dispose();
    },
  };
}

export function registerTrain(program: Command): void {
  program
    .command("train")
    .description(
      "Train a multi-task model (a preset, or a *.gradcraft.json config) and print per-task AUC/GAUC/logloss.",
    )
    .argument("[config]", "JSON config file (*.gradcraft.json); relative data paths resolve from its folder")
    .option("--strategy <name>", "balancing strategy (e.g. gradcraft, ew, pcgrad)")
    .option("--preset <name>", `start from a preset (${PRESETS.join(", ")})`)
    .option("--backend <name>", `compute backend (${BACKENDS.join(", ")})`)
    .option("--out <dir>", "folder for run folders (default .gradcraft/runs)")
    .option("--resume <run>", "continue a run from its last checkpoint")
    .option("--listen", "also serve the live link on a local socket (token in the run folder)")
    .option("--protocol <mode>", "stdio: NDJSON messages on stdout, commands on stdin")
    .option("--threads <n>", 'threads that share each step on wasm and cpu ("auto": every core)')
    .option("--max-steps <n>", "stop after N steps")
    .option("--data-dir <dir>", "data folder for the kuairand preset")
    .action(async (config: string | undefined, flags: TrainFlags) => {
      process.exitCode = await runTrain(config, flags);
    });
}
