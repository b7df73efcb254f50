/**
 * When the panel draws. Data is applied the moment it arrives; drawing waits for the next
 * animation frame, however many updates come before it, and a frame stops once it has spent its
 * budget (what is left waits for the next frame). Live data redraws the charts at most every
 * LIVE_REDRAW_MS, and never before the last redraw has drawn every card on screen: a redraw draws
 * all its cards up to one step (cut.ts), so the cards on screen never show two redraws' steps for
 * longer than the frames one redraw takes. The clock comes in from outside, so the rules are
 * unit-tested (test/unit/webview/scheduler.test.ts).
 */

/** Work per frame: charts past this budget wait for the next frame, so a frame stays short. */
export const FRAME_BUDGET_MS = 8;

/**
 * Live data redraws the charts at most this often (the header, with the step, every frame): at a
 * few hundred steps a second a chart redrawn 60 times a second shows nothing more, and the raster
 * time it takes is what a busy machine would otherwise take from the updates.
 */
export const LIVE_REDRAW_MS = 100;

export interface Clock {
  now(): number;
  nextFrame(callback: () => void): void;
  after(callback: () => void, ms: number): void;
}

export interface Painter {
  /** Draws what is due; `hasTime` says whether the frame's budget allows one more piece. False: some was left. */
  paint(hasTime: () => boolean): boolean;
  /** Marks everything for redrawing (the next frames draw it). */
  invalidate(): void;
}

export class Scheduler {
  /** Milliseconds of each frame (drawing, and applying what arrived since the last one): a benchmark aid. */
  readonly frames: number[] = [];
  private readonly maxFrames = 5000;
  private requested = false;
  private liveTimer = false;
  private lastLiveRedraw = Number.NEGATIVE_INFINITY;
  /** The last frame ran out of time: the cards of the redraw it drew are not all drawn yet. */
  private unfinished = false;
  /** A live redraw came due while the previous one was unfinished: it starts once that is done. */
  private liveDue = false;
  private ingestMs = 0;

  constructor(
    private readonly painter: Painter,
    private readonly clock: Clock,
  ) {}

  /** Draws what is due at the next frame (once, however often it is asked). */
  request(): void {
    if (this.requested) return;
    this.requested = true;
    this.clock.nextFrame(() => this.frame());
  }

  /** Everything is drawn again at the next frame (a view option, the theme, a new run). */
  invalidate(): void {
    this.painter.invalidate();
    this.request();
  }

  /** Live data arrived: the next frame draws what is cheap, the charts wait for their throttle. */
  live(): void {
    this.request();
    if (this.liveTimer) return;
    const wait = this.lastLiveRedraw + LIVE_REDRAW_MS - this.clock.now();
    const redraw = () => {
      this.liveTimer = false;
      if (this.unfinished) {
        this.liveDue = true;
        return;
      }
      this.lastLiveRedraw = this.clock.now();
      this.invalidate();
    };
    if (wait <= 0) redraw();
    else {
      this.liveTimer = true;
      this.clock.after(redraw, wait);
    }
  }

  /** Time spent applying data, counted into the next frame's figure. */
  ingested(ms: number): void {
    this.ingestMs += ms;
  }

  /** Whether a frame or a throttled redraw is still to come. */
  get busy(): boolean {
    return this.requested || this.liveTimer || this.liveDue;
  }

  private frame(): void {
    this.requested = false;
    const started = this.clock.now();
    // A redraw that waited for the last one starts with a frame of its own: between the two, every
    // card on screen shows the same step.
    if (this.liveDue && !this.unfinished) {
      this.liveDue = false;
      this.lastLiveRedraw = started;
      this.painter.invalidate();
    }
    const done = this.painter.paint(() => this.clock.now() - started <= FRAME_BUDGET_MS);
    this.unfinished = !done;
    if (!done || this.liveDue) this.request();
    this.frames.push(this.clock.now() - started + this.ingestMs);
    this.ingestMs = 0;
    if (this.frames.length > this.maxFrames) this.frames.splice(0, this.frames.length - this.maxFrames);
  }
}
