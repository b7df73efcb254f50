import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeLine, LineDecoder, type MessageReader } from "../codec";
import { Emitter } from "../emitter";
import type { HostCommand, StepMessage } from "../messages";
import { PROTOCOL_VERSION } from "../messages";
import { runPaths } from "../runlog";
import type { CommandIntake } from "./commands";
import { answerHandshake, attachedLine, refusalLine } from "./handshake";
import { createToken, type LinkAddress, publishAddress, removeLinkFiles } from "./linkFiles";
import { OutputQueue, socketSink } from "./outputQueue";
import type { RunReplay } from "./replay";
import type { WriterRole } from "./writerRole";

/**
 * The trainer's socket server: a Unix socket in the run folder (loopback TCP where there is none),
 * found through link.json and guarded by the run's token. Each client gets its own bounded queue;
 * after the handshake it receives the replay, then every live message; the writer's commands go
 * to the same intake as stdin's.
 */

export interface ListenOptions {
  /** "auto": a Unix socket where available, else loopback TCP. */
  transport?: "auto" | "unix" | "tcp";
}

export interface LinkServerOptions extends ListenOptions {
  runDir: string;
  role: WriterRole;
  replay: RunReplay;
  intake: CommandIntake;
  /** Waiting messages per client before steps are coalesced. */
  queueLimit: number;
  /** How long a new connection has to send its attach request. */
  handshakeTimeoutMs: number;
}

interface Client {
  id: number;
  socket: net.Socket;
  queue: OutputQueue;
  attached: boolean;
}

export interface ClientAttached {
  clientId: number;
  writer: boolean;
}

export class LinkServer {
  private readonly clients = new Map<number, Client>();
  private nextClientId = 1;
  private closed = false;
  private readonly attached = new Emitter<ClientAttached>();
  private readonly detached = new Emitter<number>();
  readonly onAttach = this.attached.event;
  readonly onDetach = this.detached.event;

  private constructor(
    private readonly server: net.Server,
    private readonly token: string,
    readonly address: LinkAddress,
    private readonly options: LinkServerOptions,
  ) {
    server.on("connection", (socket) => this.accept(socket));
  }

  /** Creates the token, listens and publishes link.json. */
  static async listen(options: LinkServerOptions): Promise<LinkServer> {
    const token = createToken(options.runDir);
    const server = net.createServer();
    try {
      const address = await bind(server, options.runDir, options.transport ?? "auto");
      publishAddress(options.runDir, address);
      return new LinkServer(server, token, address, options);
    } catch (error) {
      server.close();
      removeLinkFiles(options.runDir, null);
      throw error;
    }
  }

  /** Hands a message to every attached client. */
  broadcast(line: string, step?: StepMessage): void {
    for (const client of this.clients.values()) if (client.attached) client.queue.push(line, step);
  }

  readerStats(): Array<{ reader: string; queued: number; coalesced: number }> {
    return [...this.clients.values()].map((c) => ({
      reader: `client-${c.id}`,
      queued: c.queue.queued,
      coalesced: c.queue.stats.coalesced,
    }));
  }

  /** Resolves once every client's queue is written out. */
  idle(): Promise<unknown> {
    return Promise.all([...this.clients.values()].map((c) => c.queue.idle()));
  }

  /** From now on a new connection is closed at once; those already open stay until close(). */
  refuseNewClients(): void {
    this.closed = true;
  }

  /** Stops listening, ends every connection and removes the link files. */
  close(): void {
    this.closed = true;
    this.server.close();
    for (const client of this.clients.values()) client.socket.end();
    removeLinkFiles(this.options.runDir, this.address);
    this.attached.dispose();
    this.detached.dispose();
  }

  private accept(socket: net.Socket): void {
    if (this.closed) return void socket.destroy();
    const id = this.nextClientId++;
    const client: Client = {
      id,
      socket,
      attached: false,
      queue: new OutputQueue(socketSink(socket), this.options.queueLimit, () => socket.destroy()),
    };
    this.clients.set(id, client);
    const timer = setTimeout(
      () => this.refuse(client, "no attach handshake in time"),
      this.options.handshakeTimeoutMs,
    );
    let commands: MessageReader<HostCommand> | null = null;
    const lines = new LineDecoder(64 * 1024);
    socket.on("data", (chunk) => {
      for (const line of lines.push(chunk)) {
        // Refused: ignore whatever else the client sent.
        if (client.queue.closed) return;
        if (commands) commands.line(line);
        else {
          clearTimeout(timer);
          commands = this.handshake(client, line);
        }
        if (socket.destroyed) return;
      }
    });
    socket.on("error", () => socket.destroy());
    socket.on("close", () => {
      clearTimeout(timer);
      client.queue.kill();
      this.clients.delete(id);
      this.options.role.release(id);
      if (client.attached) this.detached.fire(id);
    });
  }

  /** Answers the first line: refused, or joined to the stream with a reader for its commands. */
  private handshake(client: Client, line: string): MessageReader<HostCommand> | null {
    const answer = answerHandshake(line, this.token, this.options.role, client.id);
    if (!answer.ok) {
      this.refuse(client, answer.reason);
      return null;
    }
    // The replay is read and queued in this tick, and from this tick on the client gets every
    // live message: the event log is appended before any reader gets a line (TrainerLink.send),
    // so replay and live stream meet with no gap and no duplicate.
    const replay = this.options.replay.read(answer.request.replay);
    client.queue.push(encodeLine(attachedLine(answer, this.options.runDir, replay.count)));
    if (replay.text) client.queue.push(replay.text);
    client.attached = true;
    this.attached.fire({ clientId: client.id, writer: answer.writer });
    return this.options.intake.reader({
      source: `client-${client.id}`,
      reply: (reply) => client.queue.push(reply),
    });
  }

  private refuse(client: Client, reason: string): void {
    client.socket.end(encodeLine(refusalLine(reason)));
    client.queue.kill();
  }
}

/** Binds a Unix socket in the run folder (or the temp folder), else loopback TCP. */
async function bind(
  server: net.Server,
  runDir: string,
  transport: "auto" | "unix" | "tcp",
): Promise<LinkAddress> {
  if (transport !== "tcp" && process.platform !== "win32") {
    const socketPath = runPaths(runDir).socket;
    // Unix socket paths are limited to ~107 bytes: long run folders get one in the temp dir.
    const path =
      socketPath.length <= 100
        ? socketPath
        : join(tmpdir(), `gradcraft-${randomBytes(6).toString("hex")}.sock`);
    fs.rmSync(path, { force: true });
    try {
      await listenOn(server, path);
      fs.chmodSync(path, 0o600);
      return { protocol: PROTOCOL_VERSION, pid: process.pid, transport: "unix", path };
    } catch (error) {
      if (transport === "unix") throw error;
    }
  }
  await listenOn(server, { host: "127.0.0.1", port: 0 });
  const { port } = server.address() as net.AddressInfo;
  return { protocol: PROTOCOL_VERSION, pid: process.pid, transport: "tcp", host: "127.0.0.1", port };
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
