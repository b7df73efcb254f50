import { createReadStream } from "node:fs";
import { LineDecoder } from "./codec";
import { parseTrainerMessage } from "./messages";

/**
 * A monotone view of an event log (docs/protocol.md, "Resuming"). A resumed trainer appends to
 * the run's log: first a `hello` whose `resumedFrom.step` is the step of the checkpoint it went
 * on from, then the steps after it, again. The earlier session's records past that step describe
 * training that was thrown away, and its `done` ended a session, not the run. Readers leave those
 * records out, so that steps never go backwards.
 *
 * The rule, for a record of session k (the records after the k-th hello): it is superseded when
 * it has a step greater than the smallest `resumedFrom.step` of the hellos after it, or when it
 * is a `done` and another session follows. hello, config, log and progress are always kept.
 */

/** What the rule reads of a record: its type, and the fields that say where it happened. */
export interface LogRecord {
  readonly type: string;
  readonly step?: unknown;
  readonly resumedFrom?: { readonly step?: unknown } | null;
}

/** The step a record happened at; null for those without one (hello, config, log, done, ...). */
function recordStep(record: LogRecord): number | null {
  return record.type !== "hello" && typeof record.step === "number" ? record.step : null;
}

/** The resume step a hello announces; null when it starts a fresh run. */
export function resumeStep(record: LogRecord): number | null {
  if (record.type !== "hello") return null;
  const step = record.resumedFrom?.step;
  return typeof step === "number" ? step : null;
}

/**
 * Decides, record by record in log order, what a resumed run superseded. It needs the resume
 * step of every hello in the log first (`resumeSteps`, in order; null for a hello without one).
 */
export class SupersededRecords {
  /** cut[k]: the last step of session k that still counts (Infinity: all of them). */
  private readonly cut: number[];
  private session = 0;
  /** Records left out so far. */
  dropped = 0;

  constructor(resumeSteps: readonly (number | null)[]) {
    const sessions = resumeSteps.length + 1; // session 0: anything before the first hello
    this.cut = new Array<number>(sessions).fill(Number.POSITIVE_INFINITY);
    let later = Number.POSITIVE_INFINITY;
    for (let k = sessions - 1; k >= 0; k--) {
      this.cut[k] = later;
      // Hello number k (1-based) starts session k; its resume cuts every session before it.
      const step = k > 0 ? resumeSteps[k - 1] : null;
      if (step !== null && step !== undefined) later = Math.min(later, step);
    }
  }

  /** Whether the log has any resume at all (nothing to drop otherwise). */
  get resumed(): boolean {
    return Number.isFinite(this.cut[0]);
  }

  /** Call for every record in log order: true to keep it. */
  keep(record: LogRecord): boolean {
    if (record.type === "hello") this.session = Math.min(this.session + 1, this.cut.length - 1);
    const cut = this.cut[this.session];
    if (!Number.isFinite(cut)) return true;
    const step = recordStep(record);
    const superseded = record.type === "done" || (step !== null && step > cut);
    if (superseded) this.dropped++;
    return !superseded;
  }
}

/** The records of `records` (in log order) that a later resume did not supersede. */
export function monotone<T extends LogRecord>(records: readonly T[]): T[] {
  const steps = records.filter((r) => r.type === "hello").map(resumeStep);
  if (steps.every((s) => s === null)) return [...records];
  const superseded = new SupersededRecords(steps);
  return records.filter((r) => superseded.keep(r));
}

/** The same for NDJSON lines; lines that are not JSON objects are kept (their reader reports them). */
export function monotoneLines(lines: readonly string[]): string[] {
  // Most logs were never resumed: no line needs parsing then.
  if (!lines.some((line) => line.includes('"resumedFrom"'))) return [...lines];
  const records = lines.map((line) => ({ line, record: recordOf(line) }));
  const superseded = new SupersededRecords(
    records.filter((r) => r.record.type === "hello").map((r) => resumeStep(r.record)),
  );
  return records.filter((r) => superseded.keep(r.record)).map((r) => r.line);
}

function recordOf(line: string): LogRecord {
  try {
    const value: unknown = JSON.parse(line);
    if (value && typeof value === "object" && typeof (value as LogRecord).type === "string")
      return value as LogRecord;
  } catch {
    // Not ours to report: the message reader that reads this line says what is wrong with it.
  }
  return { type: "" };
}

/**
 * The resume step of every valid hello in an event log, in order: a pass over the file that
 * parses only the lines that can be a hello, so that a streaming reader can apply the rule.
 */
export async function readResumeSteps(path: string): Promise<(number | null)[]> {
  const steps: (number | null)[] = [];
  const decoder = new LineDecoder();
  const visit = (line: string) => {
    if (!/"type"\s*:\s*"hello"/.test(line)) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return;
    }
    // The same check as the reader that then counts the hellos it passes on.
    const parsed = parseTrainerMessage(value);
    if (parsed.ok && parsed.message.type === "hello") steps.push(parsed.message.resumedFrom?.step ?? null);
  };
  for await (const chunk of createReadStream(path, { highWaterMark: 256 * 1024 }))
    for (const line of decoder.push(chunk as Buffer)) visit(line);
  // The unterminated rest is a torn write, which the readers skip too.
  decoder.end();
  return steps;
}
