import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { encodeLine, LineDecoder, MessageReader, type StreamProblem } from "./codec";
import {
  type AckMessage,
  type AttachRequest,
  type HostCommand,
  type HostCommandInput,
  IncompatibleNotice,
  type ParseResult,
  PROTOCOL_VERSION,
  parseAttachRequest,
  parseHostCommand,
  parseTrainerMessage,
  type StepMessage,
  type TrainerMessage,
} from "./messages";
import { EventLogWriter, RUN_FILES, runPaths } from "./runlog";

/**
 * The live link's transports (issue 4).
 *
 * Trainer side, TrainerLink: every message goes to the event log (every step), to stdout and to
 * attached socket clients. Outputs other than the log are bounded queues: a slow reader gets
 * intermediate `step` messages coalesced (the next step says how many), never anything else
 * dropped, and training never waits for it. Commands come from stdin (the process that spawned
 * the trainer) or from the one socket client holding the writer role.
 *
 * Host side, HostLink (a child's stdio) and AttachClient (the socket, with the run's token):
 * messages as events or an async iterator, and send(command) resolved by the matching ack.
 */

// ---------------------------------------------------------------------------------------------
// Bounded output queue with step coalescing

/** Where a queue writes: `done` is called once the sink can take more. */
export interface Sink {
  write(data: string, done: (error?: Error | null) => void): void;
}

interface QueueItem {
  line: string;
  /** Set for step messages: the object, to re-encode with `coalesced` when steps were dropped. */
  step?: StepMessage;
  coalesced: number;
}

export interface OutputQueueStats {
  /** Step messages dropped for this reader. */
  coalesced: number;
  /** Messages handed to the sink. */
  written: number;
  /** Most messages waiting at once. */
  maxQueued: number;
}

/**
 * One write in flight; what arrives meanwhile waits, and is written in one batch when the sink
 * is ready. Past `limit` waiting messages, the oldest waiting step that has a newer step behind
 * it is dropped and the newer one carries the count.
 */
export class OutputQueue {
  private queue: QueueItem[] = [];
  private inFlight = false;
  private dead = false;
  /** Steps dropped with no later step queued yet: the next step carries them. */
  private carry = 0;
  private idleWaiters: Array<() => void> = [];
  readonly stats: OutputQueueStats = { coalesced: 0, written: 0, maxQueued: 0 };

  constructor(
    private readonly sink: Sink,
    private readonly limit = 64,
    private readonly onError?: (error: Error) => void,
  ) {}

  push(line: string, step?: StepMessage): void {
    if (this.dead) return;
    const item: QueueItem = { line, step, coalesced: 0 };
    if (step && this.carry > 0) {
      item.coalesced = this.carry;
      this.carry = 0;
    }
    if (!this.inFlight) {
      this.write([item]);
      return;
    }
    this.queue.push(item);
    if (this.queue.length > this.limit) this.coalesce();
    this.stats.maxQueued = Math.max(this.stats.maxQueued, this.queue.length);
  }

  /** Waiting messages (not counting the one being written). */
  get queued(): number {
    return this.queue.length;
  }

  get closed(): boolean {
    return this.dead;
  }

  /** Resolves when nothing waits and nothing is in flight (or the sink died). */
  idle(): Promise<void> {
    if (this.dead || (!this.inFlight && this.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops writing; waiting messages are discarded. */
  kill(): void {
    this.dead = true;
    this.queue = [];
    this.wakeIdle();
  }

  private coalesce(): void {
    for (let i = 0; i < this.queue.length; i++) {
      const item = this.queue[i];
      if (!item.step) continue;
      const next = this.queue.findIndex((other, j) => j > i && other.step !== undefined);
      if (next < 0) return;
      this.queue[next].coalesced += item.coalesced + 1;
      this.queue.splice(i, 1);
      this.stats.coalesced++;
      return;
    }
  }

  private write(items: QueueItem[]): void {
    this.inFlight = true;
    let data = "";
    for (const item of items)
      data +=
        item.step && item.coalesced > 0
          ? encodeLine({ ...item.step, coalesced: item.coalesced + (item.step.coalesced ?? 0) })
          : item.line;
    this.stats.written += items.length;
    let settled = false;
    this.sink.write(data, (error) => {
      if (settled) return;
      settled = true;
      this.inFlight = false;
      if (error) {
        this.kill();
        this.onError?.(error);
        return;
      }
      if (this.dead) return;
      if (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        this.write(batch);
      } else this.wakeIdle();
    });
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A file descriptor written off the main thread (fs.write): a full pipe never blocks training. */
export function fdSink(fd: number): Sink {
  return {
    write(data, done) {
      const bytes = Buffer.from(data, "utf8");
      const attempt = (offset: number) => {
        fs.write(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
          // A non-blocking descriptor answers EAGAIN when full: try again shortly.
          if (error && error.code === "EAGAIN") return void setTimeout(() => attempt(offset), 5);
          if (error) return done(error);
          if (offset + written < bytes.length) attempt(offset + written);
          else done();
        });
      };
      attempt(0);
    },
  };
}

/** A socket: `done` fires once the kernel took the data. */
export function socketSink(socket: net.Socket): Sink {
  return {
    write(data, done) {
      if (socket.destroyed || !socket.writable) return done(new Error("socket closed"));
      socket.write(data, (error) => done(error ?? null));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Trainer side

export type CommandSource = "stdin" | `client-${number}`;

export interface CommandOutcome {
  ok: boolean;
  /** Step boundary at which the command took effect (or was refused). */
  step: number;
  result?: unknown;
  error?: string;
}

export interface ListenOptions {
  /** "auto": a Unix socket where available, else loopback TCP. */
  transport?: "auto" | "unix" | "tcp";
}

/** link.json: how to reach a listening trainer. The token is in its own 0600 file. */
export interface LinkAddress {
  protocol: string;
  pid: number;
  transport: "unix" | "tcp";
  path?: string;
  host?: string;
  port?: number;
}

export interface TrainerLinkOptions {
  /** Run folder: messages are appended to its events.ndjson; required to listen. */
  runDir?: string | null;
  /** Where the stream goes; default fd 1 (stdout). null: nowhere. */
  stdoutFd?: number | null;
  /** Where commands come from; default process.stdin unless it is a terminal. null: nowhere. */
  stdin?: Readable | null;
  /** Also serve the link on a local socket guarded by a token in the run folder. */
  listen?: boolean | ListenOptions;
  /** Waiting messages per reader before steps are coalesced. */
  queueLimit?: number;
  /**
   * Send console.log and other stray process.stdout writes to stderr while the link owns
   * stdout, so nothing corrupts the stream. Default: true when writing to fd 1.
   */
  guardStdout?: boolean;
  /**
   * Problems on the command side (bad lines on stdin or from clients, a newer host's unknown
   * fields and commands), each once per stream. Default: one line on stderr, the trainer's log.
   */
  onProblem?: (problem: StreamProblem & { source: CommandSource }) => void;
  /** Seconds an attaching client has to send its handshake. */
  handshakeTimeoutMs?: number;
}

interface Client {
  id: number;
  socket: net.Socket;
  queue: OutputQueue;
  writer: boolean;
  attached: boolean;
}

export interface TrainerLinkEvents {
  command: [command: HostCommand, source: CommandSource];
  "stdin-closed": [];
  attach: [clientId: number, writer: boolean];
  detach: [clientId: number];
}

/**
 * The trainer's end of the link. The training loop calls `send` for every message, `takeCommands`
 * at each step boundary (or `nextCommand` while paused) and `ack` once a command took effect.
 */
export class TrainerLink extends EventEmitter<TrainerLinkEvents> {
  private readonly log: EventLogWriter | null;
  private readonly stdout: OutputQueue | null;
  private readonly clients = new Map<number, Client>();
  private nextClientId = 1;
  private server: net.Server | null = null;
  private token: string | null = null;
  private commands: HostCommand[] = [];
  private commandWaiters: Array<(command: HostCommand | null) => void> = [];
  private stdinOpen = false;
  private lastStep = 0;
  private closed = false;
  private restoreStdout: (() => void) | null = null;
  private stopStdin: (() => void) | null = null;
  /** Kept for clients that attach without an event log to replay. */
  private readonly preamble = new Map<string, string>();
  private readonly options: TrainerLinkOptions;
  address: LinkAddress | null = null;

  private constructor(options: TrainerLinkOptions) {
    super();
    this.options = options;
    this.log = options.runDir ? new EventLogWriter(runPaths(options.runDir).events) : null;
    const fd = options.stdoutFd === undefined ? 1 : options.stdoutFd;
    this.stdout = fd === null ? null : new OutputQueue(fdSink(fd), options.queueLimit ?? 256);
    if (fd === 1 && (options.guardStdout ?? true)) this.restoreStdout = redirectStdoutToStderr();
    const stdin = options.stdin === undefined ? (process.stdin.isTTY ? null : process.stdin) : options.stdin;
    if (stdin) this.readStdin(stdin);
  }

  static async open(options: TrainerLinkOptions = {}): Promise<TrainerLink> {
    const link = new TrainerLink(options);
    if (options.listen) {
      try {
        await link.listen(typeof options.listen === "object" ? options.listen : {});
      } catch (error) {
        await link.close();
        throw error;
      }
    }
    return link;
  }

  /** Writes one message to the event log and every reader. */
  send(message: TrainerMessage): void {
    if (this.closed) throw new Error("the trainer link is closed");
    const line = encodeLine(message);
    this.log?.appendLine(line, message.type !== "step");
    const step = message.type === "step" ? message : undefined;
    if (step) this.lastStep = step.step;
    if (message.type === "hello" || message.type === "config") this.preamble.set(message.type, line);
    if (message.type === "strategy-changed") this.preamble.set(message.type, line);
    this.stdout?.push(line, step);
    for (const client of this.clients.values()) if (client.attached) client.queue.push(line, step);
  }

  /** Commands received since the last call, oldest first. */
  takeCommands(): HostCommand[] {
    const taken = this.commands;
    this.commands = [];
    return taken;
  }

  /** The next command (for a paused loop); null once the link is closed. */
  nextCommand(): Promise<HostCommand | null> {
    const queued = this.commands.shift();
    if (queued) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.commandWaiters.push(resolve));
  }

  /** Acknowledges a command to every reader (and the event log). */
  ack(command: HostCommand, outcome: CommandOutcome): AckMessage {
    const ack: AckMessage = {
      v: PROTOCOL_VERSION,
      type: "ack",
      id: command.id,
      command: command.type,
      ok: outcome.ok,
      step: outcome.step,
      ...(outcome.result !== undefined ? { result: outcome.result } : {}),
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    };
    this.send(ack);
    return ack;
  }

  /** Messages waiting for the slowest reader, and step messages coalesced per reader. */
  readerStats(): Array<{ reader: string; queued: number; coalesced: number }> {
    const stats = [];
    if (this.stdout)
      stats.push({ reader: "stdout", queued: this.stdout.queued, coalesced: this.stdout.stats.coalesced });
    for (const c of this.clients.values())
      stats.push({ reader: `client-${c.id}`, queued: c.queue.queued, coalesced: c.queue.stats.coalesced });
    return stats;
  }

  /** Flushes the readers (up to `flushTimeoutMs`), closes the socket and the log. */
  async close(flushTimeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const waiters = this.commandWaiters;
    this.commandWaiters = [];
    for (const resolve of waiters) resolve(null);
    const flushes = [this.stdout?.idle(), ...[...this.clients.values()].map((c) => c.queue.idle())];
    await Promise.race([Promise.all(flushes), delay(flushTimeoutMs)]);
    this.server?.close();
    for (const client of this.clients.values()) client.socket.end();
    if (this.options.runDir) {
      const paths = runPaths(this.options.runDir);
      for (const file of [paths.token, paths.linkInfo]) fs.rmSync(file, { force: true });
      if (this.address?.transport === "unix" && this.address.path)
        fs.rmSync(this.address.path, { force: true });
    }
    this.log?.close();
    this.restoreStdout?.();
    this.stopStdin?.();
  }

  // --- commands ---

  private readStdin(stdin: Readable): void {
    this.stdinOpen = true;
    const reader = this.commandReader("stdin", null);
    const onData = (chunk: Buffer) => reader.push(chunk);
    stdin.on("data", onData);
    // Once closed, stop reading, so that an open stdin does not keep the trainer alive.
    this.stopStdin = () => {
      stdin.off("data", onData);
      stdin.pause();
    };
    stdin.on("end", () => this.stdinEnded());
    stdin.on("close", () => this.stdinEnded());
    stdin.on("error", () => this.stdinEnded());
  }

  private stdinEnded(): void {
    if (!this.stdinOpen) return;
    this.stdinOpen = false;
    this.emit("stdin-closed");
  }

  /**
   * Validates command lines. A command that fails validation but carries an id gets an error
   * ack (to the sending client only, or on the stream for stdin), so its sender is not left
   * waiting; the run goes on unchanged.
   */
  private commandReader(source: CommandSource, client: Client | null): MessageReader<HostCommand> {
    const parse = (value: unknown): ParseResult<HostCommand> => {
      // A host of another major refuses this trainer with one notice (docs/protocol.md, "Versions").
      const notice =
        (value as { type?: unknown } | null)?.type === "incompatible"
          ? IncompatibleNotice.safeParse(value)
          : null;
      if (notice?.success)
        return {
          ok: false,
          kind: "version",
          reason: `the host speaks protocol ${notice.data.v}: ${notice.data.reason}`,
        };
      const parsed = parseHostCommand(value);
      if (!parsed.ok) {
        const id = (value as { id?: unknown } | null)?.id;
        if (typeof id === "string" && id.length > 0) {
          const ack = this.refusal(id, parsed.type, parsed.reason);
          if (client) client.queue.push(encodeLine(ack));
          else if (!this.closed) this.send(ack);
        }
      }
      return parsed;
    };
    return new MessageReader(parse, {
      onMessage: (command) => (client ? this.clientCommand(client, command) : this.receive(command, source)),
      onProblem: (problem) => {
        if (this.options.onProblem) this.options.onProblem({ ...problem, source });
        else process.stderr.write(`link (${source}, line ${problem.line}): ${problem.reason}\n`);
      },
    });
  }

  private refusal(id: string, command: string | undefined, error: string): AckMessage {
    return {
      v: PROTOCOL_VERSION,
      type: "ack",
      id,
      ...(command ? { command } : {}),
      ok: false,
      step: this.lastStep,
      error,
    };
  }

  private receive(command: HostCommand, source: CommandSource): void {
    if (this.closed) return;
    this.emit("command", command, source);
    const waiter = this.commandWaiters.shift();
    if (waiter) waiter(command);
    else this.commands.push(command);
  }

  // --- socket ---

  private async listen(options: ListenOptions): Promise<void> {
    const runDir = this.options.runDir;
    if (!runDir) throw new Error("listening needs a run folder (for the token and the address)");
    const paths = runPaths(runDir);
    this.token = randomBytes(32).toString("hex");
    // Owner-only from creation; chmod too in case the file existed with wider rights.
    fs.writeFileSync(paths.token, this.token, { mode: 0o600 });
    fs.chmodSync(paths.token, 0o600);

    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    const transport = options.transport ?? "auto";
    let address: LinkAddress | null = null;
    if (transport !== "tcp" && process.platform !== "win32") {
      // Unix socket paths are limited to ~107 bytes: long run folders get one in the temp dir.
      const path =
        paths.socket.length <= 100
          ? paths.socket
          : join(tmpdir(), `gradcraft-${randomBytes(6).toString("hex")}.sock`);
      fs.rmSync(path, { force: true });
      try {
        await listenOn(server, path);
        fs.chmodSync(path, 0o600);
        address = { protocol: PROTOCOL_VERSION, pid: process.pid, transport: "unix", path };
      } catch (error) {
        if (transport === "unix") throw error;
      }
    }
    if (!address) {
      await listenOn(server, { host: "127.0.0.1", port: 0 });
      const { port } = server.address() as net.AddressInfo;
      address = { protocol: PROTOCOL_VERSION, pid: process.pid, transport: "tcp", host: "127.0.0.1", port };
    }
    this.address = address;
    fs.writeFileSync(paths.linkInfo, JSON.stringify(address, null, 2) + "\n", { mode: 0o600 });
  }

  private accept(socket: net.Socket): void {
    if (this.closed) return void socket.destroy();
    const id = this.nextClientId++;
    const client: Client = {
      id,
      socket,
      writer: false,
      attached: false,
      queue: new OutputQueue(socketSink(socket), this.options.queueLimit ?? 256, () => socket.destroy()),
    };
    this.clients.set(id, client);
    const timer = setTimeout(
      () => this.refuse(client, "no attach handshake in time"),
      this.options.handshakeTimeoutMs ?? 5000,
    );
    const reader = this.commandReader(`client-${id}`, client);
    const lines = new LineDecoder(64 * 1024);
    socket.on("data", (chunk) => {
      for (const line of lines.push(chunk)) {
        // Refused: ignore whatever else the client sent.
        if (client.queue.closed) return;
        if (client.attached) reader.line(line);
        else {
          clearTimeout(timer);
          this.handshake(client, line);
        }
        if (socket.destroyed) return;
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      clearTimeout(timer);
      client.queue.kill();
      this.clients.delete(id);
      if (client.attached) this.emit("detach", id);
    });
  }

  private handshake(client: Client, line: string): void {
    let value: unknown = null;
    try {
      value = JSON.parse(line);
    } catch {
      // handled as malformed below
    }
    const parsed = parseAttachRequest(value);
    if (!parsed.ok) {
      this.refuse(client, parsed.reason);
      return;
    }
    const request: AttachRequest = parsed.message;
    if (!this.token || !sameSecret(request.token, this.token)) {
      this.refuse(client, "wrong token");
      return;
    }

    let readOnlyReason: string | undefined;
    if (request.write) {
      if (this.stdinOpen)
        readOnlyReason = "the process that started the trainer holds the writer role (its stdin)";
      else if ([...this.clients.values()].some((c) => c.writer))
        readOnlyReason = "another client holds the writer role";
      else client.writer = true;
    }
    const replay = this.replayLines(request.replay);
    client.queue.push(
      encodeLine({
        v: PROTOCOL_VERSION,
        type: "attached",
        writer: client.writer,
        ...(readOnlyReason ? { readOnlyReason } : {}),
        runDir: this.options.runDir ?? "",
        replayed: replay.count,
      } satisfies TrainerMessage),
    );
    // The replay is one write: the log was read in this tick, so live messages follow it with
    // no gap and no duplicate.
    if (replay.text) client.queue.push(replay.text);
    client.attached = true;
    this.emit("attach", client.id, client.writer);
  }

  private refuse(client: Client, reason: string): void {
    const error: TrainerMessage = {
      v: PROTOCOL_VERSION,
      type: "error",
      message: `attach refused: ${reason}`,
      fatal: false,
    };
    client.socket.end(encodeLine(error));
    client.queue.kill();
  }

  private clientCommand(client: Client, command: HostCommand): void {
    if (!client.writer) {
      const ack = this.refusal(
        command.id,
        command.type,
        "this client is read-only: another party holds the writer role (attach with write: true when it is free)",
      );
      client.queue.push(encodeLine(ack));
      return;
    }
    this.receive(command, `client-${client.id}`);
  }

  private replayLines(mode: AttachRequest["replay"]): { text: string; count: number } {
    if (mode === "none") return { text: "", count: 0 };
    let text: string;
    if (this.log) {
      try {
        text = fs.readFileSync(this.log.path, "utf8");
      } catch {
        text = "";
      }
    } else text = [...this.preamble.values()].join("");
    // Only whole lines: the appender writes whole lines, but be strict anyway.
    text = text.slice(0, text.lastIndexOf("\n") + 1);
    let lines = text.length > 0 ? text.slice(0, -1).split("\n") : [];
    if (typeof mode === "number" && lines.length > mode) {
      // The tail, plus the run's preamble (hello, config, the strategy in force) for context.
      const tail = lines.slice(lines.length - mode);
      const head = [...this.preamble.values()].map((l) => l.slice(0, -1)).filter((l) => !tail.includes(l));
      lines = [...head, ...tail];
    }
    return { text: lines.length > 0 ? lines.join("\n") + "\n" : "", count: lines.length };
  }
}

function redirectStdoutToStderr(): () => void {
  const stdout = process.stdout;
  const original = stdout.write;
  stdout.write = process.stderr.write.bind(process.stderr) as typeof stdout.write;
  return () => {
    stdout.write = original;
  };
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function listenOn(server: net.Server, where: string | net.ListenOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    const done = () => {
      server.off("error", onError);
      resolve();
    };
    if (typeof where === "string") server.listen(where, done);
    else server.listen(where, done);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

// ---------------------------------------------------------------------------------------------
// Host side

export type CommandBody = HostCommandInput extends infer C
  ? C extends unknown
    ? Omit<C, "v" | "id"> & { id?: string }
    : never
  : never;

export interface LinkEndpointEvents {
  message: [message: TrainerMessage];
  /** Once per kind of stream problem (malformed lines, a newer version...). */
  problem: [problem: StreamProblem];
  close: [];
}

let commandCounter = 0;

/**
 * How long a host waits for a command's ack, whatever the transport (spawned or attached). A
 * command takes effect at the next step boundary; before the first step the trainer may still
 * be loading data or compiling, which takes tens of seconds on large logs.
 */
export const ACK_TIMEOUT_MS = 60_000;

/**
 * What HostLink and AttachClient share: message dispatch, acks, async iteration. Events (see
 * LinkEndpointEvents): "message", "problem", "close"; HostLink adds "stderr" and "exit".
 */
abstract class LinkEndpoint extends EventEmitter {
  protected readonly reader: MessageReader<TrainerMessage>;
  private readonly pending = new Map<
    string,
    { resolve: (ack: AckMessage) => void; reject: (error: Error) => void; timer: NodeJS.Timeout }
  >();
  private buffered: TrainerMessage[] = [];
  private iteratorWaiter: ((result: IteratorResult<TrainerMessage>) => void) | null = null;
  private iterating = false;
  protected ended = false;
  /** The run's hello and config, once seen. */
  hello: Extract<TrainerMessage, { type: "hello" }> | null = null;
  config: Extract<TrainerMessage, { type: "config" }> | null = null;
  /** Default wait for an ack (ACK_TIMEOUT_MS). */
  ackTimeoutMs = ACK_TIMEOUT_MS;
  /** Set when the link was refused: the trainer speaks another major version. */
  refusal: string | null = null;

  constructor() {
    super();
    this.reader = new MessageReader(parseTrainerMessage, {
      onMessage: (message) => this.dispatch(message),
      onProblem: (problem) => this.problem(problem),
    });
  }

  /**
   * Every stream problem is reported; a message of another major version ends the link (the
   * version handshake, docs/protocol.md "Versions"): the host answers with the version it
   * speaks, stops writing, and rejects whatever waits for an ack with the reason.
   */
  protected problem(problem: StreamProblem): void {
    this.emit("problem", problem);
    if (problem.kind !== "version" || this.refusal !== null || this.ended) return;
    this.refusal = `refused the trainer: ${problem.reason}`;
    const notice: IncompatibleNotice = { v: PROTOCOL_VERSION, type: "incompatible", reason: this.refusal };
    this.writeLine(encodeLine(notice));
    this.endLink();
    this.finish(this.refusal);
  }

  /** After a refusal: stop talking to the trainer (and end it, where this host started it). */
  protected abstract endLink(): void;

  /** hello, config and acks are taken in at once; `deliver` hands the message to listeners. */
  protected dispatch(message: TrainerMessage): void {
    if (this.refusal !== null) return;
    if (message.type === "hello") this.hello = message;
    if (message.type === "config") this.config = message;
    this.deliver(message);
    if (message.type === "ack") {
      const entry = this.pending.get(message.id);
      if (entry) {
        clearTimeout(entry.timer);
        this.pending.delete(message.id);
        entry.resolve(message);
      }
    }
  }

  protected deliver(message: TrainerMessage): void {
    this.emit("message", message);
    if (this.iterating) {
      if (this.iteratorWaiter) {
        const resolve = this.iteratorWaiter;
        this.iteratorWaiter = null;
        resolve({ value: message, done: false });
      } else this.buffered.push(message);
    }
  }

  /**
   * Sends a command; resolves with its ack (ok or refused); rejects on timeout, or when the link
   * closes first. An id is made up when the body has none.
   */
  send(body: CommandBody, timeoutMs = this.ackTimeoutMs): Promise<AckMessage> {
    const id = body.id ?? `host-${process.pid}-${++commandCounter}`;
    const command = { v: PROTOCOL_VERSION, ...body, id };
    const parsed = parseHostCommand(command);
    if (!parsed.ok) return Promise.reject(new Error(parsed.reason));
    if (this.ended)
      return Promise.reject(
        new Error(
          `the link is closed${this.refusal ? ` (${this.refusal})` : ""}; "${command.type}" was not sent`,
        ),
      );
    if (this.pending.has(id))
      return Promise.reject(new Error(`a command with id "${id}" is already waiting`));
    const promise = new Promise<AckMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(
          new Error(
            `no ack for "${command.type}" (${id}) within ${timeoutMs} ms: the trainer did not acknowledge it`,
          ),
        );
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    this.writeLine(encodeLine(command));
    return promise;
  }

  protected abstract writeLine(line: string): void;

  protected finish(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new Error(reason));
      this.pending.delete(id);
    }
    if (this.iteratorWaiter) {
      const resolve = this.iteratorWaiter;
      this.iteratorWaiter = null;
      resolve({ value: undefined, done: true });
    }
    this.emit("close");
  }

  /** Messages from the moment of this call (or from the start, if called before any arrived). */
  [Symbol.asyncIterator](): AsyncIterator<TrainerMessage> {
    this.iterating = true;
    return {
      next: () => {
        const value = this.buffered.shift();
        if (value) return Promise.resolve({ value, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.iteratorWaiter = resolve;
        });
      },
      return: () => {
        this.iterating = false;
        this.buffered = [];
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

export interface TrainerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the trainer wrote to stderr. */
  stderrTail: string[];
  /** True when stdout ended inside a line: the trainer died while writing a message. */
  diedMidLine: boolean;
  /** Set when the process could not start (ENOENT...). */
  spawnError?: string;
}

export interface HostLinkEvents extends LinkEndpointEvents {
  stderr: [line: string];
  exit: [exit: TrainerExit];
}

export interface HostLinkOptions {
  /** stderr lines kept for the exit report. */
  stderrLines?: number;
}

/** The host's end over a child process's stdio (stdin: commands, stdout: messages). */
export class HostLink extends LinkEndpoint {
  private readonly stderrTail: string[] = [];
  private readonly stderrLimit: number;
  private exitReport: TrainerExit | null = null;
  private readonly stderrLines = new LineDecoder(64 * 1024);
  /** Resolves with the exit report once the child is gone and its output read. */
  readonly exited: Promise<TrainerExit>;

  constructor(
    readonly child: ChildProcess,
    options: HostLinkOptions = {},
  ) {
    super();
    this.stderrLimit = options.stderrLines ?? 50;
    if (!child.stdout || !child.stdin)
      throw new Error("HostLink needs a child spawned with piped stdin and stdout");
    child.stdout.on("data", (chunk: Buffer) => this.reader.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
      for (const line of this.stderrLines.push(chunk)) this.stderrLine(line);
    });
    // EPIPE when the trainer is gone: the exit report says what happened.
    child.stdin.on("error", () => {});
    let spawnError: string | undefined;
    this.exited = new Promise((resolve) => {
      // `on`, not `once`: a failed kill() emits "error" too, and an unheard "error" would throw.
      child.on("error", (error) => {
        spawnError ??= error.message;
        // A child that never started emits no close.
        if (child.pid === undefined) resolve(this.report(null, null, spawnError));
      });
      child.once("close", (code, signal) => resolve(this.report(code, signal, spawnError)));
    });
  }

  /** Spawns a trainer (no shell) and links to it. */
  static spawn(
    command: string,
    args: readonly string[],
    options: SpawnOptions & HostLinkOptions = {},
  ): HostLink {
    const child = spawn(command, args, { ...options, stdio: ["pipe", "pipe", "pipe"], shell: false });
    return new HostLink(child, options);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  protected writeLine(line: string): void {
    this.child.stdin?.write(line);
  }

  /** Closes stdin: the trainer sees the end of its command stream. */
  endCommands(): void {
    this.child.stdin?.end();
  }

  /** A refused trainer is ended: nobody can read what it would train. Its exit is still reported. */
  protected endLink(): void {
    this.endCommands();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
  }

  private stderrLine(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > this.stderrLimit) this.stderrTail.shift();
    this.emit("stderr", line);
  }

  private report(code: number | null, signal: NodeJS.Signals | null, spawnError?: string): TrainerExit {
    // A failed spawn may be followed by close: report once.
    if (this.exitReport) return this.exitReport;
    const before = this.reader.stats.truncated;
    this.reader.end();
    const rest = this.stderrLines.end();
    if (rest.length > 0) this.stderrLine(rest);
    const exit: TrainerExit = {
      code,
      signal,
      stderrTail: [...this.stderrTail],
      diedMidLine: this.reader.stats.truncated > before,
      ...(spawnError ? { spawnError } : {}),
    };
    const how = spawnError
      ? `could not start: ${spawnError}`
      : signal
        ? `was killed by ${signal}`
        : `exited with code ${code}`;
    this.exitReport = exit;
    this.finish(`the trainer ${how} before acknowledging`);
    this.emit("exit", exit);
    return exit;
  }
}

export interface AttachOptions {
  /** Ask for the writer role. */
  write?: boolean;
  /** "all" the log so far (default), "none", or its last N messages plus hello and config. */
  replay?: AttachRequest["replay"];
  timeoutMs?: number;
  /** Subscribed to "message" before the first one is delivered. */
  onMessage?: (message: TrainerMessage) => void;
}

/**
 * The host's end over a listening trainer's socket. The replay often arrives with `attached`,
 * before the caller of `connect` could subscribe: messages are held (hello, config and acks
 * still taken in) until the first "message" listener or async iteration, then delivered in order.
 * This is the one buffer for early messages on an attached run; a client that never listens
 * keeps everything, so listen or iterate even when only acks matter.
 */
export class AttachClient extends LinkEndpoint {
  private held: TrainerMessage[] | null = [];

  private constructor(
    private readonly socket: net.Socket,
    readonly writer: boolean,
    readonly readOnlyReason: string | undefined,
    readonly replayed: number,
  ) {
    super();
    this.on("newListener", (event) => {
      // The listener is added after this event: deliver once the caller's code has run.
      if (event === "message") queueMicrotask(() => this.release());
    });
  }

  protected override deliver(message: TrainerMessage): void {
    if (this.held) this.held.push(message);
    else super.deliver(message);
  }

  override [Symbol.asyncIterator](): AsyncIterator<TrainerMessage> {
    const iterator = super[Symbol.asyncIterator]();
    this.release();
    return iterator;
  }

  private release(): void {
    const held = this.held;
    if (!held) return;
    this.held = null;
    for (const message of held) super.deliver(message);
  }

  /** Reads link.json and link.token from the run folder, connects and authenticates. */
  static async connect(runDir: string, options: AttachOptions = {}): Promise<AttachClient> {
    const paths = runPaths(runDir);
    let address: LinkAddress;
    let token: string;
    try {
      address = JSON.parse(fs.readFileSync(paths.linkInfo, "utf8")) as LinkAddress;
      token = fs.readFileSync(paths.token, "utf8").trim();
    } catch {
      throw new Error(
        `no trainer is listening in ${runDir} (${RUN_FILES.linkInfo} or ${RUN_FILES.token} missing: start it with --listen)`,
      );
    }
    return AttachClient.connectTo(address, token, options);
  }

  /** Connects to an address with a token (what connect() reads from the run folder). */
  static connectTo(address: LinkAddress, token: string, options: AttachOptions = {}): Promise<AttachClient> {
    const socket =
      address.transport === "unix"
        ? net.createConnection(address.path ?? "")
        : net.createConnection(address.port ?? 0, address.host ?? "127.0.0.1");
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      let client: AttachClient | null = null;
      // One reader for the whole connection: the handshake's answer, then the client's messages.
      const reader = new MessageReader(parseTrainerMessage, {
        onMessage: (message) => {
          if (client) return client.dispatch(message);
          if (message.type === "attached") {
            client = new AttachClient(socket, message.writer, message.readOnlyReason, message.replayed);
            if (options.onMessage) client.on("message", options.onMessage);
            clearTimeout(timer);
            resolve(client);
          } else if (message.type === "error") fail(new Error(message.message));
        },
        onProblem: (problem) => {
          if (client) client.problem(problem);
          else if (problem.kind === "version") {
            socket.write(
              encodeLine({
                v: PROTOCOL_VERSION,
                type: "incompatible",
                reason: `refused the trainer: ${problem.reason}`,
              } satisfies IncompatibleNotice),
            );
            fail(new Error(`cannot attach: ${problem.reason}`));
          }
        },
      });
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.end();
        socket.destroySoon();
        reject(error);
      };
      const timer = setTimeout(() => fail(new Error(`attach timed out after ${timeoutMs} ms`)), timeoutMs);
      socket.on("connect", () => {
        const request: AttachRequest = {
          v: PROTOCOL_VERSION,
          type: "attach",
          token,
          write: options.write ?? false,
          replay: options.replay ?? "all",
        };
        socket.write(encodeLine(request));
      });
      socket.on("data", (chunk) => reader.push(chunk));
      socket.on("error", (error: NodeJS.ErrnoException) => {
        if (client) return;
        const where = address.transport === "unix" ? address.path : `${address.host}:${address.port}`;
        const gone = error.code === "ECONNREFUSED" || error.code === "ENOENT";
        fail(
          new Error(
            gone
              ? `cannot attach: no trainer is listening at ${where} any more (it exited; ${RUN_FILES.linkInfo} is stale)`
              : `cannot attach: ${error.message}`,
          ),
        );
      });
      socket.on("close", () => {
        reader.end();
        if (client) client.finish("detached from the trainer");
        else fail(new Error("the trainer closed the connection during the handshake"));
      });
    });
  }

  /** After a refusal the socket is closed; the trainer goes on (it was not started here). */
  protected endLink(): void {
    this.socket.end();
  }

  protected writeLine(line: string): void {
    this.socket.write(line);
  }

  /** Detaches; the run goes on. */
  detach(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      this.socket.once("close", () => resolve());
      this.socket.end();
    });
  }
}
