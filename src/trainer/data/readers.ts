/**
 * Streaming table readers: CSV, TSV and JSON lines, optionally gzip-compressed. A file is read in
 * chunks of `chunkBytes` and parsed as it arrives; it is never held in memory whole.
 */
import fs from "node:fs";
import { basename } from "node:path";
import { type Readable, Transform } from "node:stream";
import { createGunzip } from "node:zlib";
import { parse } from "csv-parse";
import { LineDecoder } from "../../protocol/codec";
import { notRegularFile } from "../../protocol/configFile";

export type TableFormat = "csv" | "tsv" | "jsonl";

/** A data row: values of the requested columns, in request order (undefined: absent from the row). */
export interface TableRow {
  line: number;
  values: (string | undefined)[];
  error?: undefined;
}
/** A row that could not be read at all (wrong column count, broken JSON or quoting). */
export interface BadTableRow {
  line: number;
  error: string;
  values?: undefined;
}

/** How a delimited file is laid out (the data config's layout fields). */
export interface TableLayout {
  /** The column names of a file without a header line. */
  readonly columns?: readonly string[];
  readonly separator?: string;
  /** "" for no quoting. */
  readonly quote?: string;
  readonly trim?: boolean;
  readonly skipLines?: number;
  readonly comment?: string;
}

export interface ReadOptions {
  layout?: TableLayout;
  chunkBytes?: number;
  signal?: AbortSignal;
  /** Called with the fraction of the file's bytes read so far (compressed bytes for .gz). */
  onFraction?: (fraction: number) => void;
}

/** Names a problem in a data file the way an editor can jump to it: `file:line: column "c": why`. */
export class DataFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly column: string | undefined,
    readonly reason: string,
  ) {
    super(
      `${file}${line !== undefined ? `:${line}` : ""}: ${column !== undefined ? `column "${column}": ` : ""}${reason}`,
    );
    this.name = "DataFileError";
  }
}

export function detectFormat(path: string, format: "auto" | TableFormat): TableFormat {
  if (format !== "auto") return format;
  const name = basename(path).toLowerCase().replace(/\.gz$/, "");
  if (name.endsWith(".tsv") || name.endsWith(".tab")) return "tsv";
  if (name.endsWith(".jsonl") || name.endsWith(".ndjson") || name.endsWith(".json")) return "jsonl";
  // UCI's .data files and Weka's .arff files are comma-separated too (their layout aside).
  if ([".csv", ".txt", ".data", ".arff"].some((ext) => name.endsWith(ext))) return "csv";
  throw new DataFileError(
    path,
    undefined,
    undefined,
    'cannot tell the format from the file name (expected .csv, .data, .arff, .tsv, .jsonl, optionally .gz): set "format"',
  );
}

/** Opens the raw byte stream and the decoded text stream (gunzipped when the name ends in .gz). */
function openText(path: string, options: ReadOptions): { raw: fs.ReadStream; text: Readable } {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(path);
  } catch (e) {
    throw new DataFileError(path, undefined, undefined, `cannot open: ${(e as Error).message}`);
  }
  const refused = notRegularFile(stats);
  if (refused !== undefined) throw new DataFileError(path, undefined, undefined, refused);
  const size = stats.size;
  const raw = fs.createReadStream(path, { highWaterMark: options.chunkBytes ?? 1 << 20 });
  let done = 0;
  if (options.onFraction) {
    const report = options.onFraction;
    raw.on("data", (chunk) => {
      done += chunk.length;
      report(size > 0 ? done / size : 1);
    });
  }
  if (!path.toLowerCase().endsWith(".gz")) return { raw, text: raw };
  const gunzip = createGunzip();
  raw.on("error", (e) => gunzip.destroy(e));
  return { raw, text: raw.pipe(gunzip) };
}

function wrapStreamError(path: string, e: unknown): Error {
  if (e instanceof DataFileError || (e instanceof Error && e.name === "AbortError")) return e;
  const message = e instanceof Error ? e.message : String(e);
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("Z_"))
    return new DataFileError(path, undefined, undefined, `corrupt or truncated gzip data (${message})`);
  return new DataFileError(path, undefined, undefined, `cannot read: ${message}`);
}

/**
 * Reads the rows of a table, yielding the requested columns of each. Columns missing from a CSV
 * header (or from the first JSON record) are an error before any row, listing what is available.
 */
export async function* readTable(
  path: string,
  format: TableFormat,
  columns: readonly string[],
  options: ReadOptions = {},
): AsyncGenerator<TableRow | BadTableRow> {
  options.signal?.throwIfAborted();
  const { raw, text } = openText(path, options);
  try {
    const layout = options.layout ?? {};
    if (format === "jsonl") {
      if (layout.columns !== undefined)
        throw new DataFileError(
          path,
          undefined,
          undefined,
          "columns (for a file without a header) applies to CSV and TSV files, not JSON lines",
        );
      yield* readJsonLines(path, text, columns, options);
    } else yield* readDelimited(path, text, format, columns, layout, options);
  } catch (e) {
    throw wrapStreamError(path, e);
  } finally {
    raw.destroy();
    text.destroy();
  }
}

function missingColumnsError(
  path: string,
  line: number | undefined,
  missing: string[],
  available: string[],
): DataFileError {
  return new DataFileError(
    path,
    line,
    undefined,
    `missing column${missing.length > 1 ? "s" : ""} ${missing.map((c) => `"${c}"`).join(", ")}; available: ${available.join(", ")}`,
  );
}

async function* readDelimited(
  path: string,
  text: Readable,
  format: "csv" | "tsv",
  columns: readonly string[],
  layout: TableLayout,
  options: ReadOptions,
): AsyncGenerator<TableRow | BadTableRow> {
  const pendingBad: BadTableRow[] = [];
  // A preamble is dropped before the parser sees it (a quote in it must not confuse the parser);
  // line numbers still count from the top of the file.
  const skipped = layout.skipLines ?? 0;
  const source = skipped > 0 ? text.pipe(dropLines(skipped)) : text;
  if (source !== text) text.on("error", (e) => source.destroy(e));
  const delimiter = format === "tsv" ? "\t" : (layout.separator ?? ",");
  // TSV has no quoting convention: a quote character is data there.
  const quote = format === "tsv" || layout.quote === "" ? "" : (layout.quote ?? '"');
  const parser = source.pipe(
    parse({
      delimiter,
      quote: quote === "" ? false : quote,
      trim: layout.trim ?? false,
      ...(layout.comment !== undefined ? { comment: layout.comment, comment_no_infix: true } : {}),
      relax_column_count: true, // counted here, so the error names file and line
      info: true,
      skip_empty_lines: true,
      bom: true,
      skip_records_with_error: true,
      raw: true, // a broken record's text, to find the line its quote opened on
      on_skip: (err) => {
        if (err) {
          const bad = brokenRecord(err as CsvError, delimiter, quote);
          pendingBad.push({ ...bad, line: bad.line + skipped });
        }
        return undefined;
      },
    }),
  );
  source.on("error", (e) => parser.destroy(e));
  // A file without a header: the names come from the config and the first line is a row.
  const given = layout.columns;
  let indices: number[] | undefined = given && columns.map((c) => given.indexOf(c));
  let width = given?.length ?? 0;
  const missing = given ? columns.filter((c) => !given.includes(c)) : [];
  if (given && missing.length) throw missingColumnsError(path, undefined, missing, [...given]);
  let rows = 0;
  for await (const { record, info: parsed } of parser as AsyncIterable<{
    record: string[];
    info: { lines: number };
  }>) {
    const info = { lines: parsed.lines + skipped };
    while (pendingBad.length) yield pendingBad.shift()!;
    if (!indices) {
      const header = record.map((c) => c.trim());
      const missing = columns.filter((c) => !header.includes(c));
      if (missing.length) throw missingColumnsError(path, info.lines, missing, header);
      indices = columns.map((c) => header.indexOf(c));
      width = header.length;
      continue;
    }
    if ((++rows & 1023) === 0) options.signal?.throwIfAborted();
    if (record.length !== width) {
      const expected = given ? "as data.columns names" : "as in the header";
      yield { line: info.lines, error: `expected ${width} columns ${expected}, found ${record.length}` };
      continue;
    }
    yield { line: info.lines, values: indices.map((i) => record[i]) };
  }
  while (pendingBad.length) yield pendingBad.shift()!;
  if (!indices) throw new DataFileError(path, undefined, undefined, "the file is empty (no header line)");
}

/** Drops the first `count` lines of a byte stream. */
function dropLines(count: number): Transform {
  let left = count;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      let start = 0;
      while (left > 0) {
        const newline = chunk.indexOf(10, start);
        if (newline < 0) return done();
        start = newline + 1;
        left--;
      }
      done(null, start === 0 ? chunk : chunk.subarray(start));
    },
  });
}

/** What csv-parse says about a record it could not read. */
interface CsvError extends Error {
  code?: string;
  lines?: number;
  raw?: string;
}

/**
 * A record csv-parse skipped, at the line a user must look at. For a quote that does not close
 * properly that is the line the quote opened on, not where the parser noticed (for a quote never
 * closed, the end of the file).
 */
function brokenRecord(err: CsvError, delimiter: string, quote: string): BadTableRow {
  const reported = Number(err.lines);
  const reason = err.message.replace(/ at line \d+/, "");
  const raw = err.raw ?? "";
  if (!err.code?.includes("QUOTE") || err.code === "INVALID_OPENING_QUOTE" || raw === "")
    return { line: reported, error: reason };
  // `lines` is the line the parser stands on: the last line of `raw`, or the one after it when
  // `raw` ends with its newline.
  const newlines = raw.split("\n").length - 1;
  const firstLine = reported - newlines + (raw.endsWith("\n") ? 1 : 0);
  const opened = firstLine + lastOpeningQuote(raw, delimiter, quote);
  const error =
    err.code === "CSV_QUOTE_NOT_CLOSED"
      ? `a quote opened on this line is never closed (the parser read to line ${reported} looking for it)`
      : `${reason.replace(/^Invalid Closing Quote: /, "the quoted field opened on this line closes badly: ")}${reported !== opened ? ` (line ${reported})` : ""}`;
  return { line: opened, error };
}

/** Lines into `raw` of the last quote that opened a field (a quote at a field's start). */
function lastOpeningQuote(raw: string, delimiter: string, quote: string): number {
  let line = 0;
  let opened = 0;
  let quoted = false;
  let fieldStart = true;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (quoted) {
      if (c === quote) {
        if (raw[i + 1] === quote) i++;
        else quoted = false;
      } else if (c === "\n") line++;
      continue;
    }
    if (c === "\n") {
      line++;
      fieldStart = true;
    } else if (raw.startsWith(delimiter, i)) {
      i += delimiter.length - 1;
      fieldStart = true;
    } else if (fieldStart && c === quote) {
      quoted = true;
      opened = line;
      fieldStart = false;
    } else if (c !== " " && c !== "\t" && c !== "\r") fieldStart = false;
  }
  return opened;
}

/**
 * Splits a byte stream into lines (LF or CRLF, UTF-8, a leading BOM dropped). Stream errors (a
 * corrupt .gz) surface as rejections of the iteration.
 */
async function* linesOf(input: Readable): AsyncGenerator<string> {
  // The protocol's line splitter, with no length limit: a data line is never dropped.
  const decoder = new LineDecoder(Number.POSITIVE_INFINITY);
  let first = true;
  const withoutBom = (line: string) => {
    if (!first) return line;
    first = false;
    return line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
  };
  for await (const chunk of input) for (const line of decoder.push(chunk as Buffer)) yield withoutBom(line);
  const rest = decoder.end();
  if (rest !== "") yield withoutBom(rest.endsWith("\r") ? rest.slice(0, -1) : rest);
}

function jsonValue(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return JSON.stringify(v);
}

async function* readJsonLines(
  path: string,
  text: Readable,
  columns: readonly string[],
  options: ReadOptions,
): AsyncGenerator<TableRow | BadTableRow> {
  let line = 0;
  let first = true;
  for await (const content of linesOf(text)) {
    line++;
    if ((line & 1023) === 0) options.signal?.throwIfAborted();
    if (content.trim() === "") continue;
    let record: unknown;
    try {
      record = JSON.parse(content);
    } catch (e) {
      yield { line, error: `not valid JSON (${(e as Error).message})` };
      continue;
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) {
      yield { line, error: "expected a JSON object" };
      continue;
    }
    const object = record as Record<string, unknown>;
    if (first) {
      // The first record stands for the header: a column it lacks is almost surely a typo.
      first = false;
      const missing = columns.filter((c) => !(c in object));
      if (missing.length) throw missingColumnsError(path, line, missing, Object.keys(object));
    }
    yield { line, values: columns.map((c) => jsonValue(object[c])) };
  }
  if (first) throw new DataFileError(path, undefined, undefined, "the file has no JSON records");
}
