import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";

/**
 * A run's event log as written so far, read incrementally: the trainer writes hundreds of steps a
 * second, and re-reading the whole file on every poll would block the extension host (and with it
 * VS Code's save participants). A line still being written at the end waits for the next read.
 * Shared by the integration suite (extension host) and the browser suite.
 */
export class EventLogTail<T = { type: string; [key: string]: unknown }> {
  private offset = 0;
  private partial = "";
  /** Every message read so far. */
  readonly messages: T[] = [];

  constructor(readonly path: string) {}

  /** Every message written so far. */
  read(): T[] {
    this.readNew();
    return this.messages;
  }

  /** The messages written since the last read. */
  readNew(): T[] {
    if (!existsSync(this.path)) return [];
    const size = statSync(this.path).size;
    if (size <= this.offset) return [];
    const buffer = Buffer.alloc(size - this.offset);
    const fd = openSync(this.path, "r");
    try {
      readSync(fd, buffer, 0, buffer.length, this.offset);
    } finally {
      closeSync(fd);
    }
    this.offset = size;
    const lines = (this.partial + buffer.toString("utf8")).split("\n");
    this.partial = lines.pop() ?? "";
    const fresh = lines.filter((line) => line.trim()).map((line) => JSON.parse(line) as T);
    this.messages.push(...fresh);
    return fresh;
  }
}
