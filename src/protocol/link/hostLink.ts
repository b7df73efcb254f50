import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { LineDecoder } from "../codec";
import { Emitter, type Event } from "../emitter";
import { LinkEndpoint } from "./endpoint";

/**
 * The host's end over a child process's stdio: commands on its stdin, messages from its stdout,
 * its stderr kept as a tail for the exit report. The child is spawned without a shell.
 */

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

export interface HostLinkOptions {
  /** stderr lines kept for the exit report. */
  stderrLines?: number;
}

export class HostLink extends LinkEndpoint {
  private readonly stderrTail: string[] = [];
  private readonly stderrLimit: number;
  private exitReport: TrainerExit | null = null;
  private readonly stderrLines = new LineDecoder(64 * 1024);
  private readonly stderrEmitter = new Emitter<string>();
  private readonly exitEmitter = new Emitter<TrainerExit>();
  /** Each line the trainer writes to stderr (its log). */
  readonly onStderr: Event<string> = this.stderrEmitter.event;
  /** The trainer is gone and its output read; after onClose. */
  readonly onExit: Event<TrainerExit> = this.exitEmitter.event;
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
    this.stderrEmitter.fire(line);
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
    this.exitEmitter.fire(exit);
    return exit;
  }
}
