import * as fs from "node:fs";
import type * as net from "node:net";
import { encodeLine } from "../codec";
import type { StepMessage } from "../messages";

/**
 * The trainer's writer to one live reader (stdout, or one socket client): a bounded queue that
 * never makes training wait. A slow reader gets intermediate `step` messages coalesced (the next
 * step says how many were dropped), never anything else dropped (docs/protocol.md, "Flow control").
 */

/** Where a queue writes: `done` is called once the sink can take more. */
export interface Sink {
  /** `progress`, where the sink can tell, is called whenever part of the data was taken. */
  write(data: string, done: (error?: Error | null) => void, progress?: () => void): void;
}

interface QueueItem {
  line: string;
  /** Set for step messages: the object, to re-encode with `coalesced` when steps were dropped. */
  step?: StepMessage;
  coalesced: number;
}

export interface OutputQueueStats {
  /** Step messages dropped for this reader. */
  coalesced: number;
  /** Messages handed to the sink. */
  written: number;
  /** Most messages waiting at once. */
  maxQueued: number;
}

/**
 * One write in flight; what arrives meanwhile waits, and is written in one batch when the sink
 * is ready. Past `limit` waiting messages, the oldest waiting step that has a newer step behind
 * it is dropped and the newer one carries the count.
 */
export class OutputQueue {
  private queue: QueueItem[] = [];
  private inFlight = false;
  private dead = false;
  /** Steps dropped with no later step queued yet: the next step carries them. */
  private carry = 0;
  private idleWaiters: Array<() => void> = [];
  /** When the sink last took data (a whole batch, or part of one). */
  private lastProgressAt = 0;
  readonly stats: OutputQueueStats = { coalesced: 0, written: 0, maxQueued: 0 };

  constructor(
    private readonly sink: Sink,
    private readonly limit = 64,
    private readonly onError?: (error: Error) => void,
  ) {}

  push(line: string, step?: StepMessage): void {
    if (this.dead) return;
    const item: QueueItem = { line, step, coalesced: 0 };
    if (step && this.carry > 0) {
      item.coalesced = this.carry;
      this.carry = 0;
    }
    if (!this.inFlight) {
      this.write([item]);
      return;
    }
    this.queue.push(item);
    if (this.queue.length > this.limit) this.coalesce();
    this.stats.maxQueued = Math.max(this.stats.maxQueued, this.queue.length);
  }

  /** Waiting messages (not counting the one being written). */
  get queued(): number {
    return this.queue.length;
  }

  get closed(): boolean {
    return this.dead;
  }

  /** Resolves when nothing waits and nothing is in flight (or the sink died). */
  idle(): Promise<void> {
    if (this.dead || (!this.inFlight && this.queue.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves true once everything queued is written; false when the sink took nothing for
   * `stallMs` (a reader that stopped reading) or died. A slow reader that keeps reading gets
   * everything, however long it takes.
   */
  drain(stallMs: number): Promise<boolean> {
    const started = Date.now();
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const watch = () => {
        const quietMs = Date.now() - Math.max(started, this.lastProgressAt);
        if (quietMs >= stallMs) resolve(false);
        else timer = setTimeout(watch, stallMs - quietMs);
      };
      void this.idle().then(() => {
        clearTimeout(timer);
        resolve(!this.dead);
      });
      watch();
    });
  }

  /** Stops writing; waiting messages are discarded. */
  kill(): void {
    this.dead = true;
    this.queue = [];
    this.wakeIdle();
  }

  private coalesce(): void {
    for (let i = 0; i < this.queue.length; i++) {
      const item = this.queue[i];
      if (!item.step) continue;
      const next = this.queue.findIndex((other, j) => j > i && other.step !== undefined);
      if (next < 0) return;
      this.queue[next].coalesced += item.coalesced + 1;
      this.queue.splice(i, 1);
      this.stats.coalesced++;
      return;
    }
  }

  private write(items: QueueItem[]): void {
    this.inFlight = true;
    let data = "";
    for (const item of items)
      data +=
        item.step && item.coalesced > 0
          ? encodeLine({ ...item.step, coalesced: item.coalesced + (item.step.coalesced ?? 0) })
          : item.line;
    this.stats.written += items.length;
    let settled = false;
    const progressed = () => {
      this.lastProgressAt = Date.now();
    };
    this.sink.write(
      data,
      (error) => {
        if (settled) return;
        settled = true;
        this.inFlight = false;
        progressed();
        if (error) {
          this.kill();
          this.onError?.(error);
          return;
        }
        if (this.dead) return;
        if (this.queue.length > 0) {
          const batch = this.queue;
          this.queue = [];
          this.write(batch);
        } else this.wakeIdle();
      },
      progressed,
    );
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** A file descriptor written off the main thread (fs.write): a full pipe never blocks training. */
export function fdSink(fd: number): Sink {
  return {
    write(data, done, progress) {
      const bytes = Buffer.from(data, "utf8");
      const attempt = (offset: number) => {
        fs.write(fd, bytes, offset, bytes.length - offset, null, (error, written) => {
          // A non-blocking descriptor answers EAGAIN when full: try again shortly.
          if (error && error.code === "EAGAIN") return void setTimeout(() => attempt(offset), 5);
          if (error) return done(error);
          progress?.();
          if (offset + written < bytes.length) attempt(offset + written);
          else done();
        });
      };
      attempt(0);
    },
  };
}

/** A socket: `done` fires once the kernel took the data. */
export function socketSink(socket: net.Socket): Sink {
  return {
    write(data, done) {
      if (socket.destroyed || !socket.writable) return done(new Error("socket closed"));
      socket.write(data, (error) => done(error ?? null));
    },
  };
}
