import * as fs from "node:fs";
import { type ParseError, parse, printParseErrorCode } from "jsonc-parser";

/**
 * Reading the JSON files a run depends on (a `*.gradcraft.json` config, a run's `config.json`,
 * a checkpoint's `state.json`), the same way in the trainer and in the editor: every error names
 * the file, and the line and column for a syntax error (docs/configuration.md, "The file").
 */

/** Far above any real config or state file; a bigger file is a mistake, not something to read. */
export const MAX_JSON_FILE_BYTES = 16 << 20;

export class JsonFileError extends Error {
  constructor(
    readonly file: string,
    readonly reason: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`${file}${line !== undefined ? `:${line}:${column ?? 1}` : ""}: ${reason}`);
    this.name = "JsonFileError";
  }
}

/**
 * Why a path must not be read to its end, or undefined for a regular file: a device such as
 * /dev/zero never ends and a FIFO blocks until someone writes, so reading either would hang or
 * run out of memory. Checked with stat, before anything is opened.
 */
export function notRegularFile(stats: fs.Stats): string | undefined {
  if (stats.isFile()) return undefined;
  const kind = stats.isDirectory()
    ? "a directory"
    : stats.isFIFO()
      ? "a FIFO"
      : stats.isCharacterDevice() || stats.isBlockDevice()
        ? "a device"
        : stats.isSocket()
          ? "a socket"
          : "not a plain file";
  return `not a regular file (${kind}): refused`;
}

export function requireRegularFile(path: string, file: string = path, maxBytes?: number): fs.Stats {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(path);
  } catch (error) {
    throw new JsonFileError(file, `cannot open: ${(error as Error).message}`);
  }
  const refused = notRegularFile(stats);
  if (refused !== undefined) throw new JsonFileError(file, refused);
  if (maxBytes !== undefined && stats.size > maxBytes)
    throw new JsonFileError(file, `${stats.size} bytes is larger than the ${maxBytes} a JSON file may have`);
  return stats;
}

/** The text of a JSON file, refused when it is not a regular file or implausibly large. */
export function readJsonText(path: string, file: string = path): string {
  requireRegularFile(path, file, MAX_JSON_FILE_BYTES);
  try {
    return fs.readFileSync(path, "utf8");
  } catch (error) {
    throw new JsonFileError(file, `cannot read: ${(error as Error).message}`);
  }
}

/**
 * A config's text: JSON with comments and trailing commas (JSONC, as VS Code's own settings),
 * an optional UTF-8 byte-order mark. The editor and the trainer both read configs through this.
 */
export function parseJsonc(text: string, file: string): unknown {
  return parseStrict(text, file, { disallowComments: false, allowTrailingComma: true });
}

/** Plain JSON (files the trainer writes itself), with the same file:line:column errors. */
export function parseJson(text: string, file: string): unknown {
  return parseStrict(text, file, { disallowComments: true, allowTrailingComma: false });
}

function parseStrict(
  text: string,
  file: string,
  options: { disallowComments: boolean; allowTrailingComma: boolean },
): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const errors: ParseError[] = [];
  const value = parse(body, errors, { ...options, allowEmptyContent: false });
  const first = errors[0];
  if (first) {
    const { line, column } = position(body, first.offset);
    throw new JsonFileError(
      file,
      `not valid JSON: ${describe(printParseErrorCode(first.error))}`,
      line,
      column,
    );
  }
  return value;
}

/** "CommaExpected" -> "comma expected". */
function describe(code: string): string {
  return code.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase();
}

function position(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++)
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  return { line, column: offset - lineStart + 1 };
}

/** Reads and parses a config file (JSONC); throws JsonFileError naming the file. */
export function readConfigFile(path: string, file: string = path): unknown {
  return parseJsonc(readJsonText(path, file), file);
}

/** Reads and parses a JSON file the trainer wrote; throws JsonFileError naming the file. */
export function readJsonFile(path: string, file: string = path): unknown {
  return parseJson(readJsonText(path, file), file);
}
