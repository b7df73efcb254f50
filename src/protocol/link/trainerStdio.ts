import type { Readable } from "node:stream";
import { fdSink, OutputQueue } from "./outputQueue";

/**
 * The trainer's stdio transport: messages out on a file descriptor (fd 1 when spawned by a host),
 * commands in from stdin. While the link owns fd 1, stray writes to process.stdout (console.log,
 * a library's print) go to stderr, so nothing but protocol lines reaches the stream.
 */

export interface TrainerStdioOptions {
  /** null: no stream out. */
  stdoutFd: number | null;
  queueLimit: number;
  /** Move stray process.stdout writes to stderr; only meaningful when writing to fd 1. */
  guardStdout: boolean;
  /** null: no commands in. */
  stdin: Readable | null;
  onCommandData: (chunk: Buffer) => void;
  /** stdin ended, closed or failed: the process that started the trainer is gone. */
  onStdinEnd: () => void;
}

export class TrainerStdio {
  readonly stdout: OutputQueue | null;
  private restoreStdout: (() => void) | null = null;
  private stopStdin: (() => void) | null = null;

  constructor(options: TrainerStdioOptions) {
    const fd = options.stdoutFd;
    this.stdout = fd === null ? null : new OutputQueue(fdSink(fd), options.queueLimit);
    if (fd === 1 && options.guardStdout) this.restoreStdout = redirectStdoutToStderr();
    if (options.stdin) this.stopStdin = readStdin(options.stdin, options.onCommandData, options.onStdinEnd);
  }

  /** Gives process.stdout back and stops reading stdin, so an open stdin does not keep the trainer alive. */
  close(): void {
    this.restoreStdout?.();
    this.stopStdin?.();
  }
}

/** Reads stdin until it ends; `onEnd` is called once, however it ends. Returns how to stop reading. */
function readStdin(stdin: Readable, onData: (chunk: Buffer) => void, onEnd: () => void): () => void {
  let open = true;
  const ended = () => {
    if (!open) return;
    open = false;
    onEnd();
  };
  stdin.on("data", onData);
  stdin.on("end", ended);
  stdin.on("close", ended);
  stdin.on("error", ended);
  return () => {
    stdin.off("data", onData);
    stdin.pause();
  };
}

function redirectStdoutToStderr(): () => void {
  const stdout = process.stdout;
  const original = stdout.write;
  stdout.write = process.stderr.write.bind(process.stderr) as typeof stdout.write;
  return () => {
    stdout.write = original;
  };
}
