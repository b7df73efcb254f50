import { type ChildProcess, spawn } from "node:child_process";
import { trainerMessageReader } from "../../protocol/codec";
import { AttachClient } from "../../protocol/link";
import {
  type AckMessage,
  type HostCommandInput,
  hostCommand,
  parseHostCommand,
  type TrainerMessage,
} from "../../protocol/messages";
import type { SpawnPlan } from "./spawn";
import { type StopOutcome, type StopTimeouts, stopProcess } from "./stopProcess";

/**
 * One live link to a trainer, whichever transport carries it (a child's stdio, or an attach
 * socket). A LiveRun only ever talks to this interface.
 */
export type CommandBody = HostCommandInput extends infer C
  ? C extends unknown
    ? Omit<C, "v" | "id">
    : never
  : never;

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: string | null;
  /** The last lines the trainer wrote to stderr (empty for attached runs). */
  readonly stderrTail: string[];
  /** Set when the process could not be started at all (ENOENT...). */
  readonly spawnError?: string;
}

export interface RunConnection {
  readonly kind: "spawned" | "attached";
  /** False for a read-only attach (another client holds the writer's seat). */
  readonly canWrite: boolean;
  readonly pid?: number;
  onMessage: (message: TrainerMessage) => void;
  /** Problems of the stream (malformed lines, newer versions), once per kind. */
  onProblem: (reason: string) => void;
  onStderr: (line: string) => void;
  onExit: (info: ExitInfo) => void;
  /** Sends a command; resolves with its ack (ok or not), rejects on timeout or a closed link. */
  send(command: CommandBody, timeoutMs?: number): Promise<AckMessage>;
  /** Spawned: graceful stop, then signals. Attached: detach. */
  close(timeouts: StopTimeouts): Promise<StopOutcome | "detached">;
}

const STDERR_TAIL = 40;
let nextCommandId = 1;

/** Matches acks to the commands that asked for them. */
export class AckBook {
  private readonly pending = new Map<
    string,
    { resolve: (ack: AckMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();

  create(timeoutMs: number): { id: string; promise: Promise<AckMessage>; cancel: () => void } {
    const id = `vscode-${process.pid}-${nextCommandId++}`;
    const promise = new Promise<AckMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the trainer did not acknowledge within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    const cancel = () => {
      const entry = this.pending.get(id);
      if (entry) clearTimeout(entry.timer);
      this.pending.delete(id);
    };
    return { id, promise, cancel };
  }

  /** True when the message was an ack this book was waiting for. */
  settle(message: TrainerMessage): boolean {
    if (message.type !== "ack") return false;
    const entry = this.pending.get(message.id);
    if (!entry) return false;
    clearTimeout(entry.timer);
    this.pending.delete(message.id);
    entry.resolve(message);
    return true;
  }

  failAll(reason: string): void {
    for (const [id, entry] of this.pending) {
      clearTimeout(entry.timer);
      entry.reject(new Error(reason));
      this.pending.delete(id);
    }
  }
}

/** The trainer as a child process speaking the protocol on stdout, reading commands on stdin. */
export class SpawnedConnection implements RunConnection {
  readonly kind = "spawned" as const;
  readonly canWrite = true;
  onMessage: (message: TrainerMessage) => void = () => undefined;
  onProblem: (reason: string) => void = () => undefined;
  onStderr: (line: string) => void = () => undefined;
  onExit: (info: ExitInfo) => void = () => undefined;
  private readonly child: ChildProcess;
  private readonly acks = new AckBook();
  private readonly stderrTail: string[] = [];
  private exited = false;
  private readonly finished: Promise<void>;
  private markFinished: () => void = () => undefined;

  constructor(plan: SpawnPlan) {
    this.finished = new Promise((resolve) => {
      this.markFinished = resolve;
    });
    this.child = spawn(plan.command, plan.args, {
      cwd: plan.cwd,
      env: plan.env,
      shell: plan.shell,
      stdio: ["pipe", "pipe", "pipe"],
      windowsHide: true,
    });
    const reader = trainerMessageReader({
      onMessage: (message) => {
        this.acks.settle(message);
        this.onMessage(message);
      },
      onProblem: (problem) => this.onProblem(`${problem.reason} (stream line ${problem.line})`),
    });
    this.child.stdout!.on("data", (chunk: Buffer) => reader.push(chunk));
    this.child.stdout!.on("end", () => reader.end());
    let partial = "";
    this.child.stderr!.on("data", (chunk: Buffer) => {
      const lines = (partial + chunk.toString("utf8")).split(/\r?\n/);
      partial = lines.pop() ?? "";
      for (const line of lines) this.stderrLine(line);
    });
    // A closed stdin (the trainer exited) must not surface as an unhandled 'error' event.
    this.child.stdin!.on("error", () => undefined);
    let spawnError: string | undefined;
    this.child.on("error", (error) => {
      spawnError = error.message;
      if (this.child.pid === undefined) this.finish(null, null, spawnError);
    });
    this.child.on("close", (code, signal) => {
      if (partial) this.stderrLine(partial);
      this.finish(code, signal, spawnError);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get process(): ChildProcess {
    return this.child;
  }

  send(command: CommandBody, timeoutMs = 30_000): Promise<AckMessage> {
    if (this.exited) return Promise.reject(new Error("the trainer has exited"));
    const { id, promise, cancel } = this.acks.create(timeoutMs);
    // Checked against the protocol before it leaves: a bad command is the host's bug, said here.
    const parsed = parseHostCommand(hostCommand({ ...command, id } as never));
    if (!parsed.ok) {
      cancel();
      return Promise.reject(new Error(parsed.reason));
    }
    this.child.stdin!.write(`${JSON.stringify(parsed.message)}\n`);
    return promise;
  }

  async close(timeouts: StopTimeouts): Promise<StopOutcome> {
    const outcome = await stopProcess(
      this.child,
      () => this.send({ type: "stop" }, timeouts.graceMs + timeouts.termMs),
      timeouts,
    );
    // 'exit' has come; the run's state changes on 'close' (stdio drained), a moment later.
    await Promise.race([this.finished, new Promise((resolve) => setTimeout(resolve, 2000))]);
    return outcome;
  }

  private stderrLine(line: string): void {
    this.stderrTail.push(line);
    if (this.stderrTail.length > STDERR_TAIL) this.stderrTail.shift();
    this.onStderr(line);
  }

  private finish(code: number | null, signal: NodeJS.Signals | string | null, spawnError?: string): void {
    if (this.exited) return;
    this.exited = true;
    this.acks.failAll("the trainer exited before acknowledging");
    this.onExit({ code, signal: signal ?? null, stderrTail: [...this.stderrTail], spawnError });
    this.markFinished();
  }
}

/**
 * A run started elsewhere (`gradcraft train --listen`), reached through the protocol's
 * AttachClient (link.json + the run folder's owner-only token). Closing it detaches: the trainer
 * goes on.
 */
export class AttachedConnection implements RunConnection {
  readonly kind = "attached" as const;
  onMessage: (message: TrainerMessage) => void = () => undefined;
  onProblem: (reason: string) => void = () => undefined;
  onStderr: (line: string) => void = () => undefined;
  onExit: (info: ExitInfo) => void = () => undefined;
  private readonly queued: TrainerMessage[] = [];
  private delivering = false;

  private constructor(private readonly client: AttachClient) {
    client.on("problem", (problem) => this.onProblem(problem.reason));
    client.on("close", () => this.onExit({ code: null, signal: null, stderrTail: [] }));
  }

  get canWrite(): boolean {
    return this.client.writer;
  }

  /** Connects and authenticates (asking to be the writer); the log so far is replayed first. */
  static async connect(runDir: string, timeoutMs = 10_000): Promise<AttachedConnection> {
    let connection: AttachedConnection | undefined;
    const early: TrainerMessage[] = [];
    const client = await AttachClient.connect(runDir, {
      write: true,
      replay: "all",
      timeoutMs,
      // Messages may arrive before the LiveRun subscribes: hold them until it does.
      onMessage: (message) => (connection ? connection.deliver(message) : early.push(message)),
    });
    connection = new AttachedConnection(client);
    connection.queued.push(...early);
    return connection;
  }

  /** Called by the LiveRun once it has subscribed: hands over what arrived before. */
  start(): void {
    this.delivering = true;
    for (const message of this.queued.splice(0)) this.onMessage(message);
  }

  private deliver(message: TrainerMessage): void {
    if (this.delivering) this.onMessage(message);
    else this.queued.push(message);
  }

  send(command: CommandBody, timeoutMs = 30_000): Promise<AckMessage> {
    return this.client.send(command, timeoutMs);
  }

  async close(): Promise<"detached"> {
    await this.client.detach();
    return "detached";
  }
}
