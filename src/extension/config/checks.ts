import { existsSync } from "node:fs";
import { open, stat } from "node:fs/promises";
import { dirname, extname, isAbsolute, resolve } from "node:path";
import { createGunzip } from "node:zlib";
import { findStrategy, strategies } from "../../core/strategies/index";
import { TrainingConfig } from "../../protocol/config";
import { notRegularFile, parseJsonc } from "../../protocol/configFile";
import { configProblems } from "../../protocol/configIssues";
import { type ColumnUse, columnsRead, type TableJoin } from "../../protocol/dataConfig";
import { checkConfigFits, PreflightError } from "../../protocol/preflight";

/**
 * Checks of a `*.gradcraft.json` file that its JSON Schema cannot express: files that must exist,
 * columns that must be in a file's header, sizes that must agree with each other. Pure apart from
 * reading (the first line of) the files the config names, through `io` so tests can stub it.
 */
export type Severity = "error" | "warning" | "info";

export interface ConfigIssue {
  /** Dotted path of the offending value, e.g. "data.labels.2"; "" for the whole file. */
  readonly path: string;
  readonly message: string;
  readonly severity: Severity;
}

export interface CheckIo {
  exists(path: string): boolean;
  /** The file's first line (decompressed for .gz), or undefined when it cannot be read. */
  firstLine(path: string): Promise<string | undefined>;
}

export const nodeIo: CheckIo = { exists: existsSync, firstLine: readFirstLine };

/** Columns of KuaiRand-like logs that are measured after the impression: they leak the labels. */
const LEAKY_COLUMNS = new Set(["play_time_ms", "profile_stay_time", "comment_stay_time"]);

export async function checkConfig(
  text: string,
  configPath: string,
  io: CheckIo = nodeIo,
): Promise<ConfigIssue[]> {
  let raw: unknown;
  try {
    raw = parseJsonc(text, configPath);
  } catch {
    return []; // syntax errors are the JSON language service's to report
  }
  const parsed = TrainingConfig.safeParse(raw);
  if (!parsed.success) {
    // The JSON Schema (jsonValidation) reports type and range errors as the user types. What it
    // cannot say: the config's own cross-field rules, and the known field an unknown one was
    // probably meant to be (the schema only says it is not allowed).
    return configProblems(parsed.error, raw)
      .filter((problem) => problem.code === "custom" || problem.code === "unrecognized_keys")
      .map((problem) => ({ path: problem.path, severity: "error" as const, message: problem.message }));
  }
  const config = parsed.data;
  const given = raw as Record<string, Record<string, unknown> | undefined>;
  const issues: ConfigIssue[] = [];
  const add = (path: string, severity: Severity, message: string) => issues.push({ path, severity, message });
  const baseDir = dirname(configPath);

  checkStrategy(config, add);
  if (config.trainer) {
    // Its own code (a PyTorch script) defines the data and the model.
    checkOwnTrainer(config.trainer.command, given, baseDir, io, add);
    return issues;
  }
  checkModel(config, given.model ?? {}, add);
  checkTraining(config, add);
  try {
    checkConfigFits(config);
  } catch (error) {
    if (!(error instanceof PreflightError)) throw error;
    add(error.field, "error", error.message);
  }

  const data = config.data;
  if (data.source === "synthetic") {
    if (data.validation + data.test >= 1)
      add("data.validation", "error", "validation + test take every row: nothing is left to train on.");
    const trainRows = Math.floor(data.rows * (1 - data.validation - data.test));
    if (trainRows > 0 && config.training.batchSize > trainRows)
      add(
        "training.batchSize",
        "error",
        `batch size ${config.training.batchSize} exceeds the ${trainRows} training rows.`,
      );
    return issues;
  }

  // The user's own files. Cross-field rules (labels that are features, names a header-less file
  // lacks) are the config's own and were checked by the parse above.
  [
    ...data.features.map((f, i) => [f, `data.features.${i}`]),
    ...data.numericFeatures.map((f, i) => [f, `data.numericFeatures.${i}`]),
  ].forEach(([feature, path]) => {
    if (LEAKY_COLUMNS.has(feature))
      add(path, "warning", `"${feature}" is measured after the impression and leaks the labels.`);
  });

  const paths = typeof data.path === "string" ? [data.path] : data.path;
  const files = paths.map((p) => resolveFrom(baseDir, p));
  files.forEach((file, i) => {
    if (!io.exists(file))
      add(
        typeof data.path === "string" ? "data.path" : `data.path.${i}`,
        "error",
        `data file not found: ${file}`,
      );
  });
  if (io.exists(files[0])) await checkHeader(files[0], data.format, data, columnsRead(data), add);
  if (data.split.by === "files") {
    const testPath = resolveFrom(baseDir, data.split.testPath);
    if (!io.exists(testPath)) add("data.split.testPath", "error", `test file not found: ${testPath}`);
  }
  for (const [i, join] of data.joins.entries()) {
    const joinPath = resolveFrom(baseDir, join.path);
    if (!io.exists(joinPath)) add(`data.joins.${i}.path`, "error", `side table not found: ${joinPath}`);
    else await checkHeader(joinPath, join.format, join, columnsRead(data, i), add);
  }
  return issues;

  /** Every column a table reads must be in its header line (when it has a plain one). */
  async function checkHeader(
    file: string,
    format: string,
    layout: TableLayoutFields,
    uses: ColumnUse[],
    report: Add,
  ) {
    if (layout.columns !== undefined || layout.skipLines > 0 || layout.comment !== undefined) return;
    const header = await readHeader(file, format, io, layout.separator);
    if (!header) return;
    for (const use of uses)
      if (!header.includes(use.column))
        report(
          `data.${use.path.join(".")}`,
          "error",
          `column "${use.column}" is not in the header of ${file}${headerHint(header)}`,
        );
  }
}

type TableLayoutFields = Pick<TableJoin, "columns" | "separator" | "skipLines" | "comment">;

type Add = (path: string, severity: Severity, message: string) => void;

function checkStrategy(config: TrainingConfig, add: Add): void {
  const strategy = findStrategy(config.strategy.name);
  if (!strategy) {
    add(
      "strategy.name",
      "error",
      `unknown strategy "${config.strategy.name}"; known: ${strategies.map((s) => s.name).join(", ")}.`,
    );
    return;
  }
  const result = strategy.params.safeParse(config.strategy.params);
  if (result.success) return;
  for (const issue of result.error.issues) {
    const path = ["strategy.params", ...issue.path.map(String)].join(".");
    add(path, "error", `${strategy.title}: ${issue.message}`);
  }
}

/** A config's own trainer: the scripts it names must exist; model and data are the script's own. */
function checkOwnTrainer(
  command: readonly string[],
  given: Record<string, unknown>,
  baseDir: string,
  io: CheckIo,
  add: Add,
): void {
  command.forEach((arg, i) => {
    if (i > 0 && /\.py$/i.test(arg) && !io.exists(resolveFrom(baseDir, arg)))
      add(`trainer.command.${i}`, "error", `script not found: ${resolveFrom(baseDir, arg)}`);
  });
  for (const field of ["model", "data"])
    if (field in given)
      add(
        field,
        "info",
        `${field} is not used: a config with its own trainer takes it from the trainer's code.`,
      );
}

/** Sizes that must fit together, and fields the chosen architecture ignores. */
function checkModel(config: TrainingConfig, given: Record<string, unknown>, add: Add): void {
  const model = config.model;
  const unused: Record<typeof model.type, string[]> = {
    "shared-bottom": ["numExperts", "levels", "sharedExperts", "specificExperts"],
    mmoe: ["levels", "sharedExperts", "specificExperts"],
    ple: ["numExperts"],
  };
  for (const field of unused[model.type]) {
    if (field in given) add(`model.${field}`, "info", `${field} has no effect on a ${model.type} model.`);
  }
  const expertOut = model.experts[model.experts.length - 1];
  if (model.type !== "shared-bottom" && model.towers.length > 0 && model.towers[0] > expertOut)
    add(
      "model.towers.0",
      "warning",
      `tower width ${model.towers[0]} exceeds the ${expertOut}-wide expert output it reads: the tower cannot add information.`,
    );
  model.experts.forEach((size, i) => {
    if (i > 0 && size > model.experts[i - 1])
      add(
        `model.experts.${i}`,
        "warning",
        `expert layer ${i} (${size}) is wider than the layer before it (${model.experts[i - 1]}).`,
      );
  });
  if (model.type === "ple" && model.levels > 1 && model.experts.length < 2)
    add(
      "model.levels",
      "warning",
      `${model.levels} PLE levels over a single expert layer: each level reuses that one layer size.`,
    );
}

function checkTraining(config: TrainingConfig, add: Add): void {
  const t = config.training;
  if (t.maxSteps !== undefined && t.maxSteps < t.evalEvery)
    add(
      "training.evalEvery",
      "warning",
      `evalEvery ${t.evalEvery} > maxSteps ${t.maxSteps}: no validation before the end of the run.`,
    );
  if (t.maxSteps !== undefined && t.checkpointEvery > t.maxSteps)
    add(
      "training.checkpointEvery",
      "info",
      `checkpointEvery ${t.checkpointEvery} > maxSteps ${t.maxSteps}: the step interval never comes (checkpoints/last is still kept by time, at evaluations and at the end).`,
    );
}

function resolveFrom(baseDir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(baseDir, path);
}

function headerHint(header: string[]): string {
  const shown = header.slice(0, 12).join(", ");
  return ` (columns: ${shown}${header.length > 12 ? ", ..." : ""}).`;
}

/** The column names of a CSV/TSV header line, or the keys of the first JSON line. */
export async function readHeader(
  path: string,
  format: string,
  io: CheckIo,
  separator?: string,
): Promise<string[] | undefined> {
  const line = await io.firstLine(path);
  if (line === undefined) return undefined;
  const kind = format !== "auto" ? format : formatFromName(path);
  if (kind === "jsonl") {
    try {
      const first = JSON.parse(line);
      return typeof first === "object" && first !== null ? Object.keys(first) : undefined;
    } catch {
      return undefined;
    }
  }
  const delimiter = kind === "tsv" ? "\t" : (separator ?? ",");
  return line
    .replace(/\r$/, "")
    .split(delimiter)
    .map((cell) => cell.trim().replace(/^"(.*)"$/, "$1"));
}

function formatFromName(path: string): "csv" | "tsv" | "jsonl" {
  const name = path.toLowerCase().replace(/\.gz$/, "");
  const ext = extname(name);
  if (ext === ".tsv" || ext === ".tab") return "tsv";
  if (ext === ".jsonl" || ext === ".ndjson" || ext === ".json") return "jsonl";
  return "csv";
}

/** Reads only as far as the first newline (through gunzip for .gz), never the whole file. */
export async function readFirstLine(path: string, maxBytes = 1 << 20): Promise<string | undefined> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    // Opening a FIFO waits for a writer: look before opening.
    if (notRegularFile(await stat(path)) !== undefined) return undefined;
    handle = await open(path, "r");
    const stream = handle.createReadStream({ start: 0, end: maxBytes - 1, autoClose: false });
    const source = path.toLowerCase().endsWith(".gz") ? stream.pipe(createGunzip()) : stream;
    let text = "";
    for await (const chunk of source) {
      text += (chunk as Buffer).toString("utf8");
      const newline = text.indexOf("\n");
      if (newline >= 0) {
        stream.destroy();
        return text.slice(0, newline);
      }
      if (text.length > maxBytes) break;
    }
    return text.length > 0 ? text : undefined;
  } catch {
    return undefined;
  } finally {
    await handle?.close();
  }
}
