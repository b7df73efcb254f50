import type { HostToWebview, Surface, ViewSettings } from "../../panel/messages";
import { PatchCursor } from "../../panel/patch";
import type { RunModel } from "../../panel/runModel";
import type { AckMessage, TrainerMessage } from "../../protocol/messages";

export interface PanelFeedOptions {
  /** How often changes are sent, in ms (one delta per flush, however many steps arrived). */
  flushMs?: number;
  /** Deltas (and snapshots) the panel may hold unconfirmed; the next waits for its `applied`. */
  maxUnconfirmed?: number;
  /** How long an unanswered delta holds the next one back (a panel that never says `applied`). */
  appliedTimeoutMs?: number;
  now?: () => number;
  /** Timer functions (tests pass fakes). */
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * Feeds one panel from one run model: `push` each validated trainer message (the feed ingests it
 * into the model, so keep one feed per model or call `model.ingest` yourself and pass
 * `ingest: false`), and the panel receives at most one delta per `flushMs`: the model's changes
 * since the previous one (a patch of the touched buckets, see src/panel/patch.ts), never the raw steps, so
 * what the webview has to read stays small at any trainer speed. And few at a time: with
 * `maxUnconfirmed` (2) deltas the panel has not said it `applied`, the next one waits, changes
 * meanwhile joining it, so a busy panel never has a queue of stale deltas to work through:
 * whatever it reads next is the run as it is now (two, not one, so the round trip of the
 * confirmation does not set the pace when the panel keeps up). Hidden panels get nothing; on `ready` (first open, reload, shown again)
 * the panel gets a snapshot.
 */
export class PanelFeed {
  private readonly cursor = new PatchCursor();
  private acks: AckMessage[] = [];
  private timer: unknown = null;
  private needsSnapshot = true;
  /** The model's rewinds when the panel last got a snapshot. */
  private rewinds: number;
  /** When each snapshot or delta the panel has not yet confirmed was posted, oldest first. */
  private unconfirmed: number[] = [];
  private lastPostAt = Number.NEGATIVE_INFINITY;
  private readonly maxUnconfirmed: number;
  visible = true;
  private readonly flushMs: number;
  private readonly appliedTimeoutMs: number;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(
    readonly model: RunModel,
    private readonly post: (message: HostToWebview) => void,
    options: PanelFeedOptions = {},
    private readonly surface?: Surface,
  ) {
    this.rewinds = model.rewinds;
    this.flushMs = options.flushMs ?? 50;
    this.maxUnconfirmed = options.maxUnconfirmed ?? 2;
    this.appliedTimeoutMs = options.appliedTimeoutMs ?? 2000;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer =
      options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  push(message: TrainerMessage, ingest = true): void {
    if (ingest) this.model.ingest(message);
    if (this.needsSnapshot) return; // the next snapshot will contain it
    if (this.model.rewinds !== this.rewinds) {
      // A resumed trainer took the model back: a patch only adds, so the panel starts afresh.
      this.needsSnapshot = true;
      this.schedule();
      return;
    }
    if (message.type === "ack") this.acks.push(message);
    this.schedule();
  }

  /** The panel posted `ready` (or became visible again): send the whole (decimated) state. */
  ready(settings?: ViewSettings): void {
    this.needsSnapshot = true;
    this.visible = true;
    // A (re)loaded panel will never confirm what its predecessor was sent.
    this.unconfirmed = [];
    this.flush(settings);
  }

  /** The panel posted `applied`: what changed since goes now (no sooner than a flush interval). */
  applied(): void {
    if (this.unconfirmed.shift() === undefined) return;
    // The timer may be the long one that waits for a panel that never answers.
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    // A panel that took its time has waited a flush interval already.
    this.schedule(Math.max(0, this.flushMs - (this.now() - this.lastPostAt)));
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.schedule();
  }

  private schedule(ms = this.flushMs): void {
    if (this.timer !== null || !this.visible) return;
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }

  flush(settings?: ViewSettings): void {
    if (!this.visible) return;
    if (this.needsSnapshot) {
      this.needsSnapshot = false;
      this.rewinds = this.model.rewinds;
      this.acks = [];
      this.cursor.reset(this.model);
      this.sent();
      this.post({ type: "snapshot", run: this.model.toSnapshot(), surface: this.surface, settings });
      return;
    }
    // A confirmation that never came (a panel that never answers) stops counting in the end.
    const now = this.now();
    while (this.unconfirmed.length > 0 && now - this.unconfirmed[0] >= this.appliedTimeoutMs)
      this.unconfirmed.shift();
    if (this.unconfirmed.length >= this.maxUnconfirmed) {
      // `applied` reschedules; this timer only covers a panel that never answers.
      this.schedule(this.appliedTimeoutMs - (now - this.unconfirmed[0]));
      return;
    }
    // Every ingested message (acks too) moves the model's revision: no patch, nothing new.
    const patch = this.cursor.next(this.model);
    if (!patch) return;
    const acks = this.acks;
    this.acks = [];
    this.sent();
    this.post({ type: "delta", runId: this.model.runId, patch, acks });
  }

  private sent(): void {
    this.lastPostAt = this.now();
    this.unconfirmed.push(this.lastPostAt);
  }

  dispose(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.acks = [];
  }
}
