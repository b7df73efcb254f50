import type { Readable } from "node:stream";
import { encodeLine } from "../codec";
import { Emitter, type Event } from "../emitter";
import type { AckMessage, HostCommand, TrainerMessage } from "../messages";
import { EventLogWriter, runPaths } from "../runlog";
import {
  ackMessage,
  CommandIntake,
  type CommandOutcome,
  type CommandProblem,
  type ReceivedCommand,
} from "./commands";
import type { LinkAddress } from "./linkFiles";
import { RunReplay } from "./replay";
import { LinkServer, type ListenOptions } from "./server";
import { TrainerStdio } from "./trainerStdio";
import { WriterRole } from "./writerRole";

/**
 * The trainer's end of the live link (docs/protocol.md). Every message goes to the event log
 * (every step), then to stdout and to attached socket clients, each through its own bounded
 * queue, so training never waits for a reader. Commands come from stdin (the process that spawned
 * the trainer) or from the one socket client holding the writer role, through one intake.
 *
 * The training loop calls `send` for every message, `takeCommands` at each step boundary (or
 * `nextCommand` while paused) and `ack` once a command took effect.
 */

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
  onProblem?: (problem: CommandProblem) => void;
  /** Milliseconds an attaching client has to send its handshake. */
  handshakeTimeoutMs?: number;
}

/** The host that commands the trainer is gone. */
export interface HostLoss {
  /** Today only the process that spawned the trainer, seen as the end of its stdin. */
  source: "stdin";
  /** The last step message sent before the loss. */
  step: number;
  reason: string;
}

export class TrainerLink {
  private readonly log: EventLogWriter | null;
  private readonly stdio: TrainerStdio;
  private readonly role = new WriterRole();
  private readonly intake: CommandIntake;
  private readonly replay: RunReplay;
  private server: LinkServer | null = null;
  private lastStep = 0;
  private closed = false;
  private readonly hostLost = new Emitter<HostLoss>();
  private readonly attached = new Emitter<{ clientId: number; writer: boolean }>();
  private readonly detached = new Emitter<number>();
  /** Every command that reaches the loop, as it arrives (with its source). */
  readonly onCommand: Event<ReceivedCommand>;
  /** The host that commands the trainer is gone (stdin ended); fires once. */
  readonly onHostLost = this.hostLost.event;
  readonly onAttach = this.attached.event;
  readonly onDetach = this.detached.event;
  /** Set once the host is lost. */
  hostLoss: HostLoss | null = null;

  private constructor(private readonly options: TrainerLinkOptions) {
    this.log = options.runDir ? new EventLogWriter(runPaths(options.runDir).events) : null;
    this.replay = new RunReplay(this.log?.path ?? null);
    this.intake = new CommandIntake({
      role: this.role,
      currentStep: () => this.lastStep,
      onProblem: options.onProblem,
    });
    this.onCommand = this.intake.onCommand;
    const stdoutFd = options.stdoutFd === undefined ? 1 : options.stdoutFd;
    const stdin = options.stdin === undefined ? (process.stdin.isTTY ? null : process.stdin) : options.stdin;
    if (stdin) this.role.stdinOpened();
    const stdinCommands = stdin
      ? this.intake.reader({ source: "stdin", reply: (line) => this.stdio.stdout?.push(line) })
      : null;
    this.stdio = new TrainerStdio({
      stdoutFd,
      queueLimit: options.queueLimit ?? 256,
      guardStdout: options.guardStdout ?? true,
      stdin,
      onCommandData: (chunk) => stdinCommands?.push(chunk),
      onStdinEnd: () => this.stdinEnded(),
    });
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

  /** Where the socket listens (null unless listening). */
  get address(): LinkAddress | null {
    return this.server?.address ?? null;
  }

  /** Writes one message to the event log, then to every reader. */
  send(message: TrainerMessage): void {
    if (this.closed) throw new Error("the trainer link is closed");
    const line = encodeLine(message);
    // The log first: an attaching client's replay (read from it) then never misses a line.
    this.log?.appendLine(line, message.type !== "step");
    this.replay.remember(message, line);
    const step = message.type === "step" ? message : undefined;
    if (step) this.lastStep = step.step;
    this.stdio.stdout?.push(line, step);
    this.server?.broadcast(line, step);
  }

  /** Commands received since the last call, oldest first. */
  takeCommands(): HostCommand[] {
    return this.intake.take();
  }

  /**
   * The next command (for a paused loop); null when none can come: the link is closed, or the
   * host is lost (onHostLost) and no attached client holds the writer role.
   */
  nextCommand(): Promise<HostCommand | null> {
    return this.intake.next();
  }

  /** Acknowledges a command to every reader (and the event log). */
  ack(command: HostCommand, outcome: CommandOutcome): AckMessage {
    const ack = ackMessage(command.id, command.type, outcome);
    this.send(ack);
    return ack;
  }

  /** Messages waiting for the slowest reader, and step messages coalesced per reader. */
  readerStats(): Array<{ reader: string; queued: number; coalesced: number }> {
    const stdout = this.stdio.stdout;
    return [
      ...(stdout ? [{ reader: "stdout", queued: stdout.queued, coalesced: stdout.stats.coalesced }] : []),
      ...(this.server?.readerStats() ?? []),
    ];
  }

  /**
   * Flushes the readers, then closes the socket and the log: stdout until it is written out, or
   * until its reader took nothing for STDOUT_STALL_MS; socket clients for up to `flushTimeoutMs`.
   */
  async close(flushTimeoutMs = 2000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.intake.close();
    this.server?.refuseNewClients();
    await Promise.all([
      // The host that spawned us reads stdout: give it everything (done last) as long as it reads.
      this.stdio.stdout?.drain(STDOUT_STALL_MS),
      Promise.race([this.server?.idle(), delay(flushTimeoutMs)]),
    ]);
    this.server?.close();
    this.log?.close();
    this.stdio.close();
    for (const emitter of [this.hostLost, this.attached, this.detached]) emitter.dispose();
  }

  private async listen(options: ListenOptions): Promise<void> {
    const runDir = this.options.runDir;
    if (!runDir) throw new Error("listening needs a run folder (for the token and the address)");
    this.server = await LinkServer.listen({
      ...options,
      runDir,
      role: this.role,
      replay: this.replay,
      intake: this.intake,
      queueLimit: this.options.queueLimit ?? 256,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? 5000,
    });
    this.server.onAttach((client) => this.attached.fire(client));
    this.server.onDetach((clientId) => this.detached.fire(clientId));
  }

  private stdinEnded(): void {
    this.role.stdinClosed();
    this.hostLoss = {
      source: "stdin",
      step: this.lastStep,
      reason: "stdin closed: the process that started the trainer is gone",
    };
    // Listeners first, so the loop knows why a paused wait then ends with null.
    this.hostLost.fire(this.hostLoss);
    this.intake.hostLost();
  }
}

/** How long close() waits for a stdout reader that stopped reading. */
export const STDOUT_STALL_MS = 10_000;

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
