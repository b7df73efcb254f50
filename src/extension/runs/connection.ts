import type { ChildProcess } from "node:child_process";
import { AttachClient } from "../../protocol/link/attachClient";
import type { CommandBody as LinkCommandBody } from "../../protocol/link/endpoint";
import { HostLink } from "../../protocol/link/hostLink";
import type { AckMessage, HostCommandInput, TrainerMessage } from "../../protocol/messages";
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
  /** Why the link refused the trainer (another major protocol version); null while it has not. */
  readonly refusal: string | null;
  onStderr: (line: string) => void;
  onExit: (info: ExitInfo) => void;
  /** Sends a command; resolves with its ack (ok or not), rejects on timeout or a closed link. */
  send(command: CommandBody, timeoutMs?: number): Promise<AckMessage>;
  /** Spawned: graceful stop, then signals. Attached: detach. */
  close(timeouts: StopTimeouts): Promise<StopOutcome | "detached">;
  /**
   * Spawned only: the stop command, then signals until the trainer has exited. An attached
   * trainer is not ours to signal: its Stop is the plain command.
   */
  stop?(timeouts: StopTimeouts): StopInProgress;
}

/** A stop under way: the stop command's ack (for whoever asked), and how the process ended. */
export interface StopInProgress {
  readonly ack: Promise<AckMessage>;
  readonly ended: Promise<StopOutcome>;
}

const STDERR_TAIL = 40;
let nextCommandId = 1;

/**
 * The trainer as a child process speaking the protocol on stdout, reading commands on stdin: the
 * protocol's HostLink (no shell, NDJSON reading, acks by id, stderr tail, exit report) seen
 * through the RunConnection interface, plus the graceful stop.
 */
export class SpawnedConnection implements RunConnection {
  readonly kind = "spawned" as const;
  readonly canWrite = true;
  onMessage: (message: TrainerMessage) => void = () => undefined;
  onProblem: (reason: string) => void = () => undefined;
  onStderr: (line: string) => void = () => undefined;
  onExit: (info: ExitInfo) => void = () => undefined;
  private readonly link: HostLink;

  get refusal(): string | null {
    return this.link.refusal;
  }

  constructor(plan: SpawnPlan) {
    this.link = HostLink.spawn(plan.command, plan.args, {
      cwd: plan.cwd,
      env: plan.env,
      windowsHide: true,
      stderrLines: STDERR_TAIL,
    });
    this.link.onMessage((message) => this.onMessage(message));
    this.link.onProblem((problem) => this.onProblem(`${problem.reason} (stream line ${problem.line})`));
    this.link.onStderr((line) => this.onStderr(line));
    this.link.onExit((exit) =>
      this.onExit({
        code: exit.code,
        signal: exit.signal,
        stderrTail: exit.stderrTail,
        spawnError: exit.spawnError,
      }),
    );
  }

  get pid(): number | undefined {
    return this.link.pid;
  }

  get process(): ChildProcess {
    return this.link.child;
  }

  /** Without a timeout: the protocol's ACK_TIMEOUT_MS, the same for both transports. */
  send(command: CommandBody, timeoutMs?: number): Promise<AckMessage> {
    // The extension's own ids, so a run's event log tells its commands from a terminal client's.
    return this.link.send(
      { ...command, id: `vscode-${process.pid}-${nextCommandId++}` } as LinkCommandBody,
      timeoutMs,
    );
  }

  stop(timeouts: StopTimeouts): StopInProgress {
    let ack: Promise<AckMessage> | undefined;
    const outcome = stopProcess(
      this.link.child,
      () => {
        ack = this.send({ type: "stop" }, timeouts.graceMs + timeouts.termMs);
        return ack;
      },
      timeouts,
    );
    const ended = outcome.then(async (how) => {
      // 'exit' has come; the run's state changes on 'close' (stdio drained), a moment later.
      await Promise.race([this.link.exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
      return how;
    });
    // stopProcess sends at once unless the trainer has exited already. Then there is no answer,
    // and a caller that awaits only `ended` must not leave an unhandled rejection behind.
    if (!ack) {
      ack = Promise.reject(new Error("the trainer has already exited"));
      ack.catch(() => undefined);
    }
    return { ack, ended };
  }

  close(timeouts: StopTimeouts): Promise<StopOutcome> {
    return this.stop(timeouts).ended;
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

  private constructor(private readonly client: AttachClient) {
    client.onProblem((problem) => this.onProblem(`${problem.reason} (stream line ${problem.line})`));
    client.onClose(() => this.onExit({ code: null, signal: null, stderrTail: [] }));
  }

  get canWrite(): boolean {
    return this.client.writer;
  }

  get refusal(): string | null {
    return this.client.refusal;
  }

  /**
   * Connects and authenticates (asking to be the writer); the log so far is replayed first.
   * link.json may name another host only when the user setting lists it.
   */
  static async connect(
    runDir: string,
    allowedHosts: readonly string[] = [],
    timeoutMs = 10_000,
  ): Promise<AttachedConnection> {
    const client = await AttachClient.connect(runDir, {
      write: true,
      replay: "all",
      timeoutMs,
      allowedHosts: { hosts: allowedHosts, where: `the user setting "gradcraft.attach.allowedHosts"` },
    });
    return new AttachedConnection(client);
  }

  /**
   * Called by the LiveRun once it has subscribed. The AttachClient holds what arrived before
   * (the replay) until this first listener: the one buffer for early messages.
   */
  start(): void {
    this.client.onMessage((message) => this.onMessage(message));
  }

  /** Without a timeout: the protocol's ACK_TIMEOUT_MS, the same for both transports. */
  send(command: CommandBody, timeoutMs?: number): Promise<AckMessage> {
    return this.client.send(command, timeoutMs);
  }

  async close(): Promise<"detached"> {
    await this.client.detach();
    return "detached";
  }
}
