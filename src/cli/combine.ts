import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { combine } from "../core/combine";

/**
 * `gradcraft combine --strategy NAME [--param key=value ...] --input grads.json`: one strategy
 * step on gradients exported from any framework. The input is {"grads": [[...], ...]} (K rows of
 * equal length) with optional "losses" (K numbers); the output is one JSON object
 * {"weights", "update", "stats"} (plus "towerWeights" for loss-weighting methods).
 */

export interface CombineOptions {
  strategy: string;
  param?: string[];
  input: string;
}

export interface CombineIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Reads the input file; "-" means standard input. */
  readInput(path: string): string;
}

const defaultIo: CombineIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readInput: (path) => readFileSync(path === "-" ? 0 : path, "utf8"),
};

/** A usage or input problem: reported on one line, exit code 2. */
class InputError extends Error {}

/**
 * `key=value` pairs to a parameter object. A value is read as JSON (numbers, booleans, null,
 * arrays, objects, quoted strings); anything that is not JSON is kept as a bare string, so enum
 * values can be written unquoted (`--param optimizer=sgd`). The strategy's schema then decides.
 */
export function parseParamPairs(pairs: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const at = pair.indexOf("=");
    if (at <= 0) throw new InputError(`--param "${pair}" must be key=value`);
    const key = pair.slice(0, at).trim();
    const text = pair.slice(at + 1).trim();
    if (Object.hasOwn(params, key)) throw new InputError(`--param ${key} is given twice`);
    if (text === "") throw new InputError(`--param ${key} has no value`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    params[key] = value;
  }
  return params;
}

/** Reads and shape-checks the input document; the rows' contents are checked by combine(). */
function readGradients(io: CombineIo, path: string): { grads: number[][]; losses?: number[] } {
  let text: string;
  try {
    text = io.readInput(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`cannot read --input ${path}: ${reason}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InputError(`--input ${path} is not valid JSON: ${reason}`);
  }
  if (document === null || typeof document !== "object" || Array.isArray(document))
    throw new InputError(`--input ${path} must hold a JSON object {"grads": [[...], ...]}`);
  const { grads, losses } = document as { grads?: unknown; losses?: unknown };
  if (!Array.isArray(grads) || grads.length === 0)
    throw new InputError(`--input ${path}: "grads" must be a non-empty array of K gradient rows`);
  for (let t = 0; t < grads.length; t++) {
    if (!Array.isArray(grads[t]))
      throw new InputError(`--input ${path}: grads[${t}] must be an array of numbers`);
    const bad = (grads[t] as unknown[]).findIndex((x) => typeof x !== "number");
    if (bad >= 0)
      throw new InputError(
        `--input ${path}: grads[${t}][${bad}] (task ${t}) is ${JSON.stringify((grads[t] as unknown[])[bad])}, not a number`,
      );
  }
  if (losses === undefined) return { grads: grads as number[][] };
  if (!Array.isArray(losses)) throw new InputError(`--input ${path}: "losses" must be an array of K numbers`);
  const bad = losses.findIndex((x) => typeof x !== "number");
  if (bad >= 0)
    throw new InputError(
      `--input ${path}: losses[${bad}] (task ${bad}) is ${JSON.stringify(losses[bad])}, not a number`,
    );
  return { grads: grads as number[][], losses: losses as number[] };
}

/** Runs the command; returns the exit code (0, or 2 for any problem with the input). */
export function runCombine(options: CombineOptions, io: CombineIo = defaultIo): number {
  try {
    const params = parseParamPairs(options.param ?? []);
    const { grads, losses } = readGradients(io, options.input);
    const result = combine({ grads, losses, strategy: options.strategy, params });
    const output = {
      weights: result.weights,
      update: result.update,
      ...(result.towerWeights ? { towerWeights: result.towerWeights } : {}),
      stats: result.stats,
    };
    io.stdout(`${JSON.stringify(output)}\n`);
    return 0;
  } catch (error) {
    // Everything that reaches here is about the input (strategy, parameters, rows, values).
    const message = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, " ");
    io.stderr(`gradcraft combine: ${message}\n`);
    return 2;
  }
}

export function registerCombine(program: Command): void {
  program
    .command("combine")
    .description(
      "Combine task gradients with a balancing strategy; prints weights, update and statistics as JSON.",
    )
    .requiredOption("--strategy <name>", "strategy name, e.g. gradcraft, pcgrad, mgda, upgrad")
    .option(
      "--param <key=value>",
      "strategy parameter (repeatable); values are numbers, booleans or JSON",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .requiredOption("--input <file>", 'JSON file {"grads": [[...], ...], "losses"?: [...]}; "-" reads stdin')
    .action((options: CombineOptions) => {
      const code = runCombine(options);
      if (code !== 0) process.exitCode = code;
    });
}
