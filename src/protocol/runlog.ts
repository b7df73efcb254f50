import * as fs from "node:fs";
import { createReadStream, promises as fsp } from "node:fs";
import { basename, join } from "node:path";
import { encodeLine, MessageReader, type StreamProblem, type StreamStats } from "./codec";
import {
  type DoneMessage,
  type HelloMessage,
  parseTrainerMessage,
  RunSummary,
  type TrainerMessage,
} from "./messages";
import { monotone, readResumeSteps, resumeStep, SupersededRecords } from "./resumes";
import { type RunIdentity, readStoredRunIdentity, runIdentity } from "./runIdentity";

/**
 * The run folder (docs/protocol.md): the resolved config, the event log (the live stream, every step
 * kept), the summary, checkpoints, and while a trainer listens, the link's token and address.
 *
 *   <runs>/<yyyymmdd-hhmmss>-<name>/
 *     config.json      resolved TrainingConfig
 *     events.ndjson    every TrainerMessage the run produced, one per line
 *     summary.json     RunSummary, written at the end
 *     checkpoints/     one folder per checkpoint
 *     run.json         the run's name, tags and note as the user gave them (runIdentity.ts)
 *     link.token       random token, mode 0600 (only while listening)
 *     link.json        { socket | host+port, pid } (only while listening)
 *     link.sock        the Unix socket (only while listening)
 */
export const RUN_FILES = {
  config: "config.json",
  events: "events.ndjson",
  summary: "summary.json",
  checkpoints: "checkpoints",
  token: "link.token",
  linkInfo: "link.json",
  socket: "link.sock",
} as const;

export type RunPaths = Record<keyof typeof RUN_FILES, string> & { dir: string };

export function runPaths(runDir: string): RunPaths {
  const entries = Object.entries(RUN_FILES).map(([key, file]) => [key, join(runDir, file)]);
  return { dir: runDir, ...Object.fromEntries(entries) } as RunPaths;
}

/** "20260101-120000-my_run": sortable by time, readable, safe on every file system. */
export function runDirName(name: string, at: Date = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const stamp =
    `${at.getUTCFullYear()}${pad(at.getUTCMonth() + 1)}${pad(at.getUTCDate())}-` +
    `${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  const safe = name.replace(/[^A-Za-z0-9._-]+/g, "_").slice(0, 60) || "run";
  return `${stamp}-${safe}`;
}

/** Creates a fresh run folder (with checkpoints/) under `runsRoot`; never reuses an existing one. */
export function createRunDir(runsRoot: string, name: string, at: Date = new Date()): string {
  fs.mkdirSync(runsRoot, { recursive: true });
  const base = runDirName(name, at);
  for (let attempt = 0; ; attempt++) {
    const dir = join(runsRoot, attempt === 0 ? base : `${base}-${attempt + 1}`);
    try {
      fs.mkdirSync(dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST" && attempt < 1000) continue;
      throw error;
    }
    fs.mkdirSync(join(dir, RUN_FILES.checkpoints));
    return dir;
  }
}

// ---------------------------------------------------------------------------------------------
// Appending

export interface EventLogOptions {
  /**
   * fsync after every message that is not a step (config, evals, checkpoints, switches, done):
   * those are the ones a crash must not lose; steps are many and cheap to lose. Default true.
   */
  syncImportant?: boolean;
}

/**
 * Appends whole lines to events.ndjson. Each message is one write() of one complete line on an
 * O_APPEND descriptor, so readers only ever see whole lines, or a torn last line if the process
 * died inside that write, which readers skip and report. Opening a log that ends in a torn line
 * (a resumed run after a crash) cuts that line off first, so the next line does not glue onto it.
 */
export class EventLogWriter {
  private fd: number | null;
  /** Bytes of a torn tail cut off when the file was opened. */
  readonly repairedBytes: number;
  private readonly syncImportant: boolean;

  constructor(
    readonly path: string,
    options: EventLogOptions = {},
  ) {
    this.syncImportant = options.syncImportant ?? true;
    this.repairedBytes = cutTornTail(path);
    this.fd = fs.openSync(path, "a", 0o644);
  }

  append(message: TrainerMessage): void {
    this.appendLine(encodeLine(message), message.type !== "step");
  }

  /** Appends an already-encoded line (must end with "\n"); the link encodes once for all outputs. */
  appendLine(line: string, important = false): void {
    if (this.fd === null) throw new Error(`event log ${this.path} is closed`);
    const bytes = Buffer.from(line, "utf8");
    let offset = 0;
    while (offset < bytes.length) offset += fs.writeSync(this.fd, bytes, offset, bytes.length - offset);
    if (important && this.syncImportant) fs.fsyncSync(this.fd);
  }

  sync(): void {
    if (this.fd !== null) fs.fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd === null) return;
    try {
      fs.fsyncSync(this.fd);
    } finally {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

function cutTornTail(path: string): number {
  let fd: number;
  try {
    fd = fs.openSync(path, "r+");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) return 0;
    // Walk back in blocks to the last newline.
    const block = Buffer.alloc(64 * 1024);
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - block.length);
      const n = fs.readSync(fd, block, 0, end - start, start);
      const at = block.subarray(0, n).lastIndexOf(10);
      if (at >= 0) {
        const keep = start + at + 1;
        if (keep < size) fs.ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    fs.ftruncateSync(fd, 0);
    return size;
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Reading and replay

export class ReplayError extends Error {
  constructor(
    message: string,
    readonly runDir: string,
  ) {
    super(message);
    this.name = "ReplayError";
  }
}

export interface ReplayOptions {
  /** Every kind of problem, once (malformed lines, unknown types, a torn tail...). */
  onProblem?: (problem: StreamProblem) => void;
  /** Filled in as the log is read; final once the iteration ends. */
  stats?: StreamStats;
  /**
   * Records a resume superseded (src/protocol/resumes.ts) are left out unless this is true:
   * the default view of a log has monotone steps.
   */
  keepSuperseded?: boolean;
}

/** Accepts a run folder or the path of its events.ndjson. */
export function eventsPath(run: string): string {
  return run.endsWith(".ndjson") ? run : join(run, RUN_FILES.events);
}

/**
 * The messages the run produced, in order, from its event log: the same stream the live link
 * carried (minus coalescing: the log keeps every step), less what a resume superseded. Stops at
 * the last full line. Lines it cannot read are skipped and reported; a log written by a protocol
 * major this reader cannot read throws a ReplayError that says so.
 */
export async function* replay(run: string, options: ReplayOptions = {}): AsyncGenerator<TrainerMessage> {
  const path = eventsPath(run);
  try {
    await fsp.access(path);
  } catch {
    throw new ReplayError(`no event log in ${run} (expected ${RUN_FILES.events})`, run);
  }
  let queue: TrainerMessage[] = [];
  let refusal: string | null = null;
  const superseded = options.keepSuperseded ? null : new SupersededRecords(await readResumeSteps(path));
  const reader = new MessageReader(parseTrainerMessage, {
    onMessage: (message) => {
      if (!superseded || superseded.keep(message)) queue.push(message);
    },
    onProblem: (problem) => {
      if (problem.kind === "version") refusal ??= problem.reason;
      options.onProblem?.(problem);
    },
  });
  const stream = createReadStream(path, { highWaterMark: 256 * 1024 });
  try {
    for await (const chunk of stream) {
      reader.push(chunk as Buffer);
      if (refusal) break;
      const ready = queue;
      queue = [];
      yield* ready;
    }
    if (!refusal) reader.end();
  } finally {
    stream.destroy();
    if (options.stats) Object.assign(options.stats, reader.stats);
  }
  if (refusal) throw new ReplayError(`cannot replay ${run}: ${refusal}`, run);
  yield* queue;
}

/** Reads a whole event log into memory (small logs, tests, summaries). */
export async function readEventLog(
  run: string,
): Promise<{ messages: TrainerMessage[]; stats: StreamStats; problems: StreamProblem[] }> {
  const messages: TrainerMessage[] = [];
  const problems: StreamProblem[] = [];
  const stats = {} as StreamStats;
  for await (const message of replay(run, { onProblem: (p) => problems.push(p), stats }))
    messages.push(message);
  return { messages, stats, problems };
}

// ---------------------------------------------------------------------------------------------
// Scanning a runs folder

export type RunStatus = "running" | DoneMessage["reason"] | "interrupted" | "unknown";

export interface RunInfo {
  dir: string;
  /** Run name (from the config, else the folder name). */
  name: string;
  /** ISO time from hello, else the folder's time. */
  startedAt: string | null;
  /** Strategy in force at the last recorded switch (else the config's). */
  strategy: string | null;
  /** Last step recorded. */
  steps: number;
  status: RunStatus;
  tasks: string[];
  summary: RunSummary | null;
  /** What could not be read, if anything (the run is still listed). */
  problems: string[];
  /** What every view calls the run: its name (automatic or the user's), tags and note (runIdentity.ts). */
  identity: RunIdentity;
}

const FORWARD_NOTES: ReadonlySet<StreamProblem["kind"]> = new Set([
  "newer-minor",
  "unknown-field",
  "unknown-type",
]);
const HEAD_BYTES = 256 * 1024;
const TAIL_BYTES = 256 * 1024;

/**
 * Lists the run folders under `runsRoot` (newest first), from their files only: hello and the
 * first strategy from the head of the event log, the last step, switch and done from its tail,
 * summary.json and config.json when present. Broken folders are listed with their problems.
 */
export async function scanRuns(runsRoot: string): Promise<RunInfo[]> {
  let entries: fs.Dirent[];
  try {
    entries = await fsp.readdir(runsRoot, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const runs = await Promise.all(
    entries.filter((e) => e.isDirectory()).map((e) => readRunInfo(join(runsRoot, e.name))),
  );
  return distinctNames(
    runs
      .filter((r): r is RunInfo => r !== null)
      .sort((a, b) => (b.startedAt ?? "").localeCompare(a.startedAt ?? "") || b.dir.localeCompare(a.dir)),
  );
}

/**
 * Two automatic names can coincide (a four-character id); within one listing the later one gets
 * a suffix, so no two runs read alike. Names the user chose are left as they are.
 */
function distinctNames(runs: RunInfo[]): RunInfo[] {
  const seen = new Map<string, number>();
  for (const run of [...runs].reverse()) {
    const count = (seen.get(run.identity.name) ?? 0) + 1;
    seen.set(run.identity.name, count);
    if (count > 1 && run.identity.automatic)
      run.identity = { ...run.identity, name: `${run.identity.name}-${count}` };
  }
  return runs;
}

/** One run folder's info; null when the folder holds none of a run's files. */
export async function readRunInfo(runDir: string): Promise<RunInfo | null> {
  const paths = runPaths(runDir);
  const info: RunInfo = {
    dir: runDir,
    name: basename(runDir),
    startedAt: timeFromDirName(basename(runDir)),
    strategy: null,
    steps: 0,
    status: "unknown",
    tasks: [],
    summary: null,
    problems: [],
    identity: runIdentity(runDir, null),
  };
  const [config, summary, events, stored] = await Promise.all([
    readJson(paths.config, info.problems),
    readJson(paths.summary, info.problems),
    readHeadAndTail(paths.events, info.problems),
    readStoredRunIdentity(runDir, info.problems),
  ]);
  if (config === undefined && summary === undefined && events === null) return null;

  if (config && typeof config === "object") {
    const c = config as { name?: unknown; strategy?: { name?: unknown } };
    if (typeof c.name === "string") info.name = c.name;
    if (typeof c.strategy?.name === "string") info.strategy = c.strategy.name;
  }
  if (summary !== undefined) {
    const parsed = RunSummary.safeParse(summary);
    if (parsed.success) info.summary = parsed.data;
    else info.problems.push(`${RUN_FILES.summary} is not a valid summary`);
  }

  let hello: HelloMessage | null = null;
  let firstHello: HelloMessage | null = null;
  let done: DoneMessage | null = null;
  // Of a big log only the head and the tail are read: a resume in between is not seen, but the
  // tail is the latest session's, so "the last step read" is still where the run stands.
  for (const message of monotone(events ?? [])) {
    switch (message.type) {
      case "hello": {
        // A resumed run appends a second hello: the run started at the first, and goes on from
        // the checkpoint the latest one names; a done before it ended a session, not the run.
        firstHello ??= message;
        hello = message;
        done = null;
        const resumedAt = resumeStep(message);
        if (resumedAt !== null) info.steps = resumedAt;
        break;
      }
      case "config":
        info.name = message.config.name;
        info.strategy ??= message.config.strategy.name;
        break;
      case "strategy-changed":
        info.strategy = message.name;
        break;
      case "step":
        info.steps = message.step;
        info.strategy = message.strategy;
        break;
      case "done":
        done = message;
        break;
    }
  }
  if (firstHello && hello) {
    info.startedAt = firstHello.startedAt;
    info.tasks = hello.tasks;
  }
  if (done) {
    info.status = done.reason;
    info.summary ??= done.summary;
    info.steps = Math.max(info.steps, done.summary.steps);
  } else if (events !== null) {
    info.status = hello?.pid !== undefined && processAlive(hello.pid) ? "running" : "interrupted";
    // summary.json was written when an earlier session ended; the run has gone on since.
    if (hello && resumeStep(hello) !== null) info.summary = null;
  } else if (info.summary) {
    info.status = "completed";
    info.steps = info.summary.steps;
  }
  info.identity = runIdentity(runDir, startStrategy(config, events), stored);
  return info;
}

/** The strategy a run started with (its name's first part): config.json's, else the log's first. */
function startStrategy(config: unknown, events: TrainerMessage[] | null): string | null {
  const fromConfig = (config as { strategy?: { name?: unknown } } | null | undefined)?.strategy?.name;
  if (typeof fromConfig === "string") return fromConfig;
  for (const message of events ?? []) {
    if (message.type === "config") return message.config.strategy.name;
    if (message.type === "strategy-changed") return message.name;
  }
  return null;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function timeFromDirName(name: string): string | null {
  const match = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})/.exec(name);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match;
  return `${y}-${mo}-${d}T${h}:${mi}:${s}.000Z`;
}

async function readJson(path: string, problems: string[]): Promise<unknown> {
  let text: string;
  try {
    text = await fsp.readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      problems.push(`${basename(path)}: ${String(error)}`);
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    problems.push(`${basename(path)} is not valid JSON`);
    return null;
  }
}

/** The messages in the first and last few hundred kB of an event log (all of it when small). */
async function readHeadAndTail(path: string, problems: string[]): Promise<TrainerMessage[] | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      problems.push(`${RUN_FILES.events}: ${String(error)}`);
    return null;
  }
  try {
    const { size } = await handle.stat();
    const messages: TrainerMessage[] = [];
    const reader = (onMessage: (m: TrainerMessage) => void) =>
      new MessageReader(parseTrainerMessage, {
        onMessage,
        onProblem: (p) => {
          // A newer minor's additions are notes, not problems of the run.
          if (!FORWARD_NOTES.has(p.kind)) problems.push(`${RUN_FILES.events}: ${p.reason}`);
        },
      });
    if (size <= HEAD_BYTES + TAIL_BYTES) {
      const { buffer, bytesRead } = await handle.read(Buffer.alloc(size), 0, size, 0);
      const r = reader((m) => messages.push(m));
      r.push(buffer.subarray(0, bytesRead));
      r.end();
      return messages;
    }
    const head = await handle.read(Buffer.alloc(HEAD_BYTES), 0, HEAD_BYTES, 0);
    const headText = head.buffer.subarray(0, head.bytesRead);
    const headReader = reader((m) => messages.push(m));
    // Only whole lines of the head: the cut inside the last one is ours, not the writer's.
    headReader.push(headText.subarray(0, headText.lastIndexOf(10) + 1));
    const tail = await handle.read(Buffer.alloc(TAIL_BYTES), 0, TAIL_BYTES, size - TAIL_BYTES);
    const tailText = tail.buffer.subarray(0, tail.bytesRead);
    const tailReader = reader((m) => messages.push(m));
    tailReader.push(tailText.subarray(tailText.indexOf(10) + 1));
    tailReader.end();
    return messages;
  } finally {
    await handle.close();
  }
}
