import { encodeLine, MessageReader, type StreamProblem } from "../codec";
import { Emitter, type Event } from "../emitter";
import {
  type AckMessage,
  type HostCommandInput,
  type IncompatibleNotice,
  PROTOCOL_VERSION,
  parseHostCommand,
  parseTrainerMessage,
  type TrainerMessage,
} from "../messages";

/**
 * The host's end of a link, whatever carries it (a child's stdio: HostLink; a socket: AttachClient):
 * messages in as typed events or an async iterator, and `send(command)` resolved by the matching
 * ack. A trainer of another major protocol version is refused here, once, for both transports.
 */

export type CommandBody = HostCommandInput extends infer C
  ? C extends unknown
    ? Omit<C, "v" | "id"> & { id?: string }
    : never
  : never;

/**
 * How long a host waits for a command's ack, whatever the transport (spawned or attached). A
 * command takes effect at the next step boundary; before the first step the trainer may still
 * be loading data or compiling, which takes tens of seconds on large logs.
 */
export const ACK_TIMEOUT_MS = 60_000;

let commandCounter = 0;

/** The line a host answers a trainer of another major with (docs/protocol.md, "Versions"). */
export function incompatibleLine(reason: string): string {
  return encodeLine({ v: PROTOCOL_VERSION, type: "incompatible", reason } satisfies IncompatibleNotice);
}

export abstract class LinkEndpoint {
  protected readonly reader: MessageReader<TrainerMessage>;
  private readonly messages = new Emitter<TrainerMessage>({
    onFirstListener: () => this.firstMessageListener(),
  });
  private readonly problems = new Emitter<StreamProblem>();
  private readonly closed = new Emitter<void>();
  /** Every message of the trainer, in order (a refused trainer's none). */
  readonly onMessage: Event<TrainerMessage> = this.messages.event;
  /** Once per kind of stream problem (malformed lines, a newer version...). */
  readonly onProblem: Event<StreamProblem> = this.problems.event;
  /** The link ended: every command still waiting for its ack has been rejected. */
  readonly onClose: Event<void> = this.closed.event;
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
    this.problems.fire(problem);
    if (problem.kind !== "version" || this.refusal !== null || this.ended) return;
    this.refusal = `refused the trainer: ${problem.reason}`;
    this.writeLine(incompatibleLine(this.refusal));
    this.endLink();
    this.finish(this.refusal);
  }

  /** After a refusal: stop talking to the trainer (and end it, where this host started it). */
  protected abstract endLink(): void;

  protected abstract writeLine(line: string): void;

  /** Called when the first "message" listener subscribes. */
  protected firstMessageListener(): void {}

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
    this.messages.fire(message);
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
    this.closed.fire();
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
