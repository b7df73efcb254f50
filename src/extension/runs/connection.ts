import { type ChildProcess, spawn } from "node:child_process";
import { trainerMessageReader } from "../../protocol/codec";
import {
  type AckMessage,
  type HostCommandInput,
  hostCommand,
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

  create(timeoutMs: number): { id: string; promise: Promise<AckMessage> } {
    const id = `vscode-${process.pid}-${nextCommandId++}`;
    const promise = new Promise<AckMessage>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`the trainer did not acknowledge within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
    });
    return { id, promise };
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
    const { id, promise } = this.acks.create(timeoutMs);
    const line = `${JSON.stringify(hostCommand({ ...command, id } as never))}\n`;
    this.child.stdin!.write(line);
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
 * A run started elsewhere (`gradcraft train --listen`), reached over the socket its run folder
 * names (link.json), authenticated with the folder's token (link.token, owner-only). Closing it
 * detaches: the trainer goes on.
 */
export class AttachedConnection implements RunConnection {
  readonly kind = "attached" as const;
  canWrite = false;
  onMessage: (message: TrainerMessage) => void = () => undefined;
  onProblem: (reason: string) => void = () => undefined;
  onStderr: (line: string) => void = () => undefined;
  onExit: (info: ExitInfo) => void = () => undefined;
  private readonly acks = new AckBook();
  private closed = false;

  private constructor(private readonly socket: import("node:net").Socket) {}

  /** Connects and authenticates; resolves once the trainer answered the handshake. */
  static async connect(
    target: { path: string } | { host: string; port: number },
    token: string,
    wantWrite: boolean,
    timeoutMs = 10_000,
  ): Promise<AttachedConnection> {
    const net = await import("node:net");
    const socket =
      "path" in target ? net.createConnection(target.path) : net.createConnection(target.port, target.host);
    const connection = new AttachedConnection(socket);
    return new Promise<AttachedConnection>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error("the trainer did not answer the attach handshake"));
      }, timeoutMs);
      let handshakeDone = false;
      const reader = trainerMessageReader({
        onMessage: (message) => {
          if (!handshakeDone && message.type === "attached") {
            handshakeDone = true;
            clearTimeout(timer);
            connection.canWrite = message.writer;
            resolve(connection);
            return;
          }
          connection.acks.settle(message);
          connection.onMessage(message);
        },
        onProblem: (problem) => connection.onProblem(problem.reason),
      });
      socket.on("data", (chunk) => reader.push(chunk));
      socket.on("error", (error) => {
        clearTimeout(timer);
        if (!handshakeDone) reject(new Error(`cannot attach: ${error.message}`));
      });
      socket.on("close", () => {
        clearTimeout(timer);
        reader.end();
        if (!handshakeDone) reject(new Error("the trainer closed the connection (wrong token?)"));
        connection.finish();
      });
      socket.write(
        `${JSON.stringify({ v: "1.0", type: "attach", token, write: wantWrite, replay: "all" })}\n`,
      );
    });
  }

  send(command: CommandBody, timeoutMs = 30_000): Promise<AckMessage> {
    if (this.closed) return Promise.reject(new Error("detached from the trainer"));
    const { id, promise } = this.acks.create(timeoutMs);
    this.socket.write(`${JSON.stringify(hostCommand({ ...command, id } as never))}\n`);
    return promise;
  }

  async close(): Promise<"detached"> {
    this.socket.end();
    this.socket.destroy();
    this.finish();
    return "detached";
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.acks.failAll("detached from the trainer");
    this.onExit({ code: null, signal: null, stderrTail: [] });
  }
}
