import * as net from "node:net";
import { encodeLine, MessageReader } from "../codec";
import { type AttachRequest, PROTOCOL_VERSION, parseTrainerMessage, type TrainerMessage } from "../messages";
import { RUN_FILES } from "../runlog";
import { incompatibleLine, LinkEndpoint } from "./endpoint";
import {
  type AllowedHosts,
  DEFAULT_HOST,
  describeAddress,
  type LinkAddress,
  readLinkFiles,
} from "./linkFiles";

/**
 * The host's end over a listening trainer's socket (`gradcraft train --listen`): link.json says
 * where, the run folder's owner-only token proves the right to read. Detaching leaves the run going.
 *
 * The replay often arrives with `attached`, before the caller of `connect` could subscribe:
 * messages are held (hello, config and acks still taken in) until the first onMessage listener or
 * async iteration, then delivered in order. This is the one buffer for early messages on an
 * attached run; a client that never listens keeps everything, so listen or iterate even when
 * only acks matter.
 */

export interface AttachOptions {
  /** Ask for the writer role. */
  write?: boolean;
  /** "all" the log so far (default), "none", or its last N messages plus hello and config. */
  replay?: AttachRequest["replay"];
  timeoutMs?: number;
  /** Subscribed to onMessage before the first message is delivered. */
  onMessage?: (message: TrainerMessage) => void;
  /** Hosts besides this machine that link.json may name (default: none). */
  allowedHosts?: AllowedHosts;
}

export class AttachClient extends LinkEndpoint {
  private held: TrainerMessage[] | null = [];

  private constructor(
    private readonly socket: net.Socket,
    readonly writer: boolean,
    readonly readOnlyReason: string | undefined,
    readonly replayed: number,
  ) {
    super();
  }

  /** The first listener is subscribed now; deliver once the caller's code has run. */
  protected override firstMessageListener(): void {
    queueMicrotask(() => this.release());
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

  /**
   * Reads link.json and link.token from the run folder, connects and authenticates. link.json
   * may name only a Unix socket or this machine's loopback, unless `allowedHosts` lists its host.
   */
  static async connect(runDir: string, options: AttachOptions = {}): Promise<AttachClient> {
    const { address, token } = readLinkFiles(
      runDir,
      options.allowedHosts ?? { hosts: [], where: "the allowedHosts of AttachClient.connect" },
    );
    return AttachClient.connectTo(address, token, options);
  }

  /** Connects to an address with a token (what connect() reads from the run folder). */
  static connectTo(address: LinkAddress, token: string, options: AttachOptions = {}): Promise<AttachClient> {
    const socket =
      address.transport === "unix"
        ? net.createConnection(address.path ?? "")
        : net.createConnection(address.port ?? 0, address.host ?? DEFAULT_HOST);
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      let client: AttachClient | null = null;
      // One reader for the whole connection: the handshake's answer, then the client's messages.
      const reader = new MessageReader(parseTrainerMessage, {
        onMessage: (message) => {
          if (client) return client.dispatch(message);
          if (message.type === "attached") {
            client = new AttachClient(socket, message.writer, message.readOnlyReason, message.replayed);
            if (options.onMessage) client.onMessage(options.onMessage);
            clearTimeout(timer);
            resolve(client);
          } else if (message.type === "error") fail(new Error(message.message));
        },
        onProblem: (problem) => {
          if (client) client.problem(problem);
          else if (problem.kind === "version") {
            socket.write(incompatibleLine(`refused the trainer: ${problem.reason}`));
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
        const gone = error.code === "ECONNREFUSED" || error.code === "ENOENT";
        fail(
          new Error(
            gone
              ? `cannot attach: no trainer is listening at ${describeAddress(address)} any more (it exited; ${RUN_FILES.linkInfo} is stale)`
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
