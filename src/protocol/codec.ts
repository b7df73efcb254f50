import { StringDecoder } from "node:string_decoder";
import {
  type HostCommand,
  type ParseResult,
  PROTOCOL_VERSION,
  parseHostCommand,
  parseTrainerMessage,
  type RejectKind,
  type TrainerMessage,
} from "./messages";

/**
 * NDJSON framing: one JSON object per line, "\n" terminated ("\r\n" tolerated). JSON.stringify
 * escapes every newline inside strings, so an encoded message is always exactly one line.
 */

/** Distinct unknown types and fields noted per stream before the reader stops naming them. */
const MAX_DETAILED_NOTES = 32;

/** Longest line a reader accepts (a hello with many strategies is a few kB; a step a few hundred bytes). */
export const DEFAULT_MAX_LINE_LENGTH = 4 * 1024 * 1024;

export function encodeLine(message: unknown): string {
  return JSON.stringify(message) + "\n";
}

/**
 * Chunks in, complete lines out. A partial last line is kept until its newline arrives; a line
 * longer than the limit is dropped whole (its remainder up to the next newline too) and counted.
 */
export class LineDecoder {
  private readonly text = new StringDecoder("utf8");
  private partial = "";
  private skipping = false;
  /** Lines dropped for exceeding the limit. */
  oversized = 0;

  constructor(private readonly maxLineLength = DEFAULT_MAX_LINE_LENGTH) {}

  push(chunk: Buffer | string): string[] {
    const data = typeof chunk === "string" ? chunk : this.text.write(chunk);
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const newline = data.indexOf("\n", start);
      if (newline < 0) break;
      const piece = data.slice(start, newline);
      start = newline + 1;
      if (this.skipping) {
        this.skipping = false;
        this.partial = "";
        continue;
      }
      const line = this.partial + piece;
      this.partial = "";
      if (line.length > this.maxLineLength) {
        this.oversized++;
        continue;
      }
      lines.push(line.endsWith("\r") ? line.slice(0, -1) : line);
    }
    if (!this.skipping) {
      this.partial += data.slice(start);
      if (this.partial.length > this.maxLineLength) {
        // Stop buffering: the rest of this line is discarded when its newline comes.
        this.oversized++;
        this.partial = "";
        this.skipping = true;
      }
    }
    return lines;
  }

  /** The unterminated rest of the stream ("" when the stream ended on a newline). */
  end(): string {
    const rest = this.partial + this.text.end();
    this.partial = "";
    this.skipping = false;
    return rest;
  }

  /** Characters waiting for their newline. */
  get pending(): number {
    return this.partial.length;
  }
}

export type ProblemKind = RejectKind | "newer-minor" | "unknown-field" | "oversized" | "truncated";

export interface StreamProblem {
  kind: ProblemKind;
  /** Plain words for a log or notification. */
  reason: string;
  /** 1-based line number in the stream where it was first seen. */
  line: number;
}

export interface StreamStats {
  lines: number;
  messages: number;
  malformed: number;
  invalid: number;
  unknownTypes: number;
  unsupportedVersion: number;
  newerMinor: number;
  /** Messages read with fields this reader does not know (dropped). */
  unknownFields: number;
  oversized: number;
  truncated: number;
}

export function emptyStats(): StreamStats {
  return {
    lines: 0,
    messages: 0,
    malformed: 0,
    invalid: 0,
    unknownTypes: 0,
    unsupportedVersion: 0,
    newerMinor: 0,
    unknownFields: 0,
    oversized: 0,
    truncated: 0,
  };
}

export interface MessageReaderOptions<M> {
  onMessage: (message: M) => void;
  /**
   * Called with the first occurrence of each problem: once per kind per stream, except unknown
   * message types (once per type) and unknown fields (once per message type and field).
   */
  onProblem?: (problem: StreamProblem) => void;
  maxLineLength?: number;
}

/**
 * A validating NDJSON stream reader. Never throws on its input: every bad line is counted in
 * `stats` and reported once through `onProblem` (see MessageReaderOptions.onProblem).
 */
export class MessageReader<M> {
  readonly stats = emptyStats();
  private readonly lines: LineDecoder;
  /** Problem keys already reported: a kind, or "kind:detail" for per-type and per-field notes. */
  private readonly reported = new Set<string>();
  /** Distinct per-type and per-field notes so far: a stream inventing names cannot flood the log. */
  private detailedNotes = 0;
  private seenOversized = 0;

  constructor(
    private readonly parse: (value: unknown) => ParseResult<M>,
    private readonly options: MessageReaderOptions<M>,
  ) {
    this.lines = new LineDecoder(options.maxLineLength);
  }

  push(chunk: Buffer | string): void {
    for (const line of this.lines.push(chunk)) this.line(line);
    this.countOversized();
  }

  /** Ends the stream; a non-empty unterminated tail is a torn line (a writer died mid-line). */
  end(): void {
    const tail = this.lines.end();
    this.countOversized();
    if (tail.trim().length > 0) {
      this.stats.truncated++;
      this.problem(
        "truncated",
        `the stream ended in the middle of a line (${tail.length} characters dropped)`,
      );
    }
  }

  /** Feeds one complete line (without its newline). */
  line(line: string): void {
    this.stats.lines++;
    if (line.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      this.stats.malformed++;
      this.problem("malformed", `line is not JSON: ${preview(line)}`);
      return;
    }
    const result = this.parse(value);
    if (result.ok) {
      this.stats.messages++;
      if (result.newerMinor) {
        this.stats.newerMinor++;
        this.problem(
          "newer-minor",
          `the writer speaks a newer minor protocol version (${(value as { v: string }).v}); unknown fields are ignored`,
        );
      }
      if (result.droppedFields.length > 0) {
        this.stats.unknownFields++;
        const type = (value as { type: string }).type;
        for (const field of result.droppedFields)
          this.problem(
            "unknown-field",
            `"${type}" field ${field} is not known to this reader (protocol ${PROTOCOL_VERSION}) and was ignored`,
            `${type}:${field}`,
          );
      }
      this.options.onMessage(result.message);
      return;
    }
    switch (result.kind) {
      case "malformed":
        this.stats.malformed++;
        break;
      case "invalid":
        this.stats.invalid++;
        break;
      case "unknown-type":
        this.stats.unknownTypes++;
        break;
      case "version":
        this.stats.unsupportedVersion++;
        break;
    }
    this.problem(result.kind, result.reason, result.kind === "unknown-type" ? result.type : undefined);
  }

  private countOversized(): void {
    if (this.lines.oversized === this.seenOversized) return;
    this.stats.oversized += this.lines.oversized - this.seenOversized;
    this.seenOversized = this.lines.oversized;
    this.problem(
      "oversized",
      `a line longer than ${this.options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH} characters was dropped`,
    );
  }

  private problem(kind: ProblemKind, reason: string, detail?: string): void {
    const key = detail === undefined ? kind : `${kind}:${detail}`;
    if (this.reported.has(key)) return;
    if (detail !== undefined) {
      if (this.detailedNotes === MAX_DETAILED_NOTES) {
        this.detailedNotes++;
        this.options.onProblem?.({
          kind,
          reason: `more than ${MAX_DETAILED_NOTES} unknown types and fields: further ones are skipped without a note`,
          line: this.stats.lines,
        });
      }
      if (this.detailedNotes >= MAX_DETAILED_NOTES) return;
      this.detailedNotes++;
    }
    this.reported.add(key);
    this.options.onProblem?.({ kind, reason, line: this.stats.lines });
  }
}

/** Reads what a trainer writes. */
export function trainerMessageReader(
  options: MessageReaderOptions<TrainerMessage>,
): MessageReader<TrainerMessage> {
  return new MessageReader(parseTrainerMessage, options);
}

/** Reads what a host writes. */
export function hostCommandReader(options: MessageReaderOptions<HostCommand>): MessageReader<HostCommand> {
  return new MessageReader(parseHostCommand, options);
}

/** Parses one line as a trainer message. Never throws. */
export function decodeTrainerLine(line: string): ParseResult<TrainerMessage> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, kind: "malformed", reason: `line is not JSON: ${preview(line)}` };
  }
  return parseTrainerMessage(value);
}

function preview(line: string): string {
  const text = line.length > 80 ? `${line.slice(0, 77)}...` : line;
  return JSON.stringify(text);
}
