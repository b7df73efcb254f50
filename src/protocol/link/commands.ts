import { encodeLine, MessageReader, type StreamProblem } from "../codec";
import { Emitter } from "../emitter";
import {
  type AckMessage,
  type HostCommand,
  IncompatibleNotice,
  type ParseResult,
  PROTOCOL_VERSION,
  parseHostCommand,
} from "../messages";
import type { CommandSource, WriterRole } from "./writerRole";

/**
 * The trainer's command intake: lines from every sender (stdin, attached clients) are validated
 * the same way and queued for the training loop, which takes them at step boundaries.
 *
 * A command the link itself refuses (it does not validate, or its sender may not write) never
 * reaches the loop: it is answered with a refused `ack` to its sender alone, whatever the
 * transport, and is not written to the event log (nothing of the run changed).
 */

/** A party that sends commands. */
export interface CommandSender {
  readonly source: CommandSource;
  /** Writes a line to this sender alone. */
  reply(line: string): void;
}

export interface CommandOutcome {
  ok: boolean;
  /** Step boundary at which the command took effect (or was refused). */
  step: number;
  result?: unknown;
  error?: string;
}

/** The answer to one command. */
export function ackMessage(id: string, command: string | undefined, outcome: CommandOutcome): AckMessage {
  return {
    v: PROTOCOL_VERSION,
    type: "ack",
    id,
    ...(command ? { command } : {}),
    ok: outcome.ok,
    step: outcome.step,
    ...(outcome.result !== undefined ? { result: outcome.result } : {}),
    ...(outcome.error !== undefined ? { error: outcome.error } : {}),
  };
}

export interface ReceivedCommand {
  command: HostCommand;
  source: CommandSource;
}

export type CommandProblem = StreamProblem & { source: CommandSource };

export interface CommandIntakeOptions {
  role: WriterRole;
  /** The step a refusal is acknowledged at: the last one sent. */
  currentStep: () => number;
  /** Default: one line on stderr, the trainer's log. */
  onProblem?: (problem: CommandProblem) => void;
}

export class CommandIntake {
  private queue: HostCommand[] = [];
  private waiters: Array<(command: HostCommand | null) => void> = [];
  private closed = false;
  private hostGone = false;
  private readonly received = new Emitter<ReceivedCommand>();
  /** Every command that reaches the loop, as it arrives. */
  readonly onCommand = this.received.event;

  constructor(private readonly options: CommandIntakeOptions) {}

  /** A validating reader for one sender's lines. */
  reader(sender: CommandSender): MessageReader<HostCommand> {
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
        // With an id, its sender is waiting for an answer: do not leave it to its ack timeout.
        const id = (value as { id?: unknown } | null)?.id;
        if (typeof id === "string" && id.length > 0) this.refuse(sender, id, parsed.type, parsed.reason);
      }
      return parsed;
    };
    return new MessageReader(parse, {
      onMessage: (command) => this.accept(command, sender),
      onProblem: (problem) => {
        if (this.options.onProblem) this.options.onProblem({ ...problem, source: sender.source });
        else process.stderr.write(`link (${sender.source}, line ${problem.line}): ${problem.reason}\n`);
      },
    });
  }

  /** Commands received since the last call, oldest first. */
  take(): HostCommand[] {
    const taken = this.queue;
    this.queue = [];
    return taken;
  }

  /**
   * The next command; null when none can come: the intake is closed, or the host that spawned
   * the trainer is gone and no attached client holds the writer role (nobody could resume a
   * paused run).
   */
  next(): Promise<HostCommand | null> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.noneCanCome()) return Promise.resolve(null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The host that spawned the trainer is gone: a wait nobody can end is ended. */
  hostLost(): void {
    this.hostGone = true;
    if (this.noneCanCome()) this.wakeWaiters();
  }

  /** No command comes any more: whoever waits for one gets null. */
  close(): void {
    this.closed = true;
    this.wakeWaiters();
    this.received.dispose();
  }

  private noneCanCome(): boolean {
    return this.closed || (this.hostGone && !this.options.role.clientHolds);
  }

  private wakeWaiters(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve(null);
  }

  private accept(command: HostCommand, sender: CommandSender): void {
    if (!this.options.role.mayCommand(sender.source)) {
      this.refuse(
        sender,
        command.id,
        command.type,
        "this client is read-only: another party holds the writer role (attach with write: true when it is free)",
      );
      return;
    }
    if (this.closed) return;
    this.received.fire({ command, source: sender.source });
    const waiter = this.waiters.shift();
    if (waiter) waiter(command);
    else this.queue.push(command);
  }

  private refuse(sender: CommandSender, id: string, command: string | undefined, error: string): void {
    if (this.closed) return;
    sender.reply(encodeLine(ackMessage(id, command, { ok: false, step: this.options.currentStep(), error })));
  }
}
