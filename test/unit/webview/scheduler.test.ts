import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FRAME_BUDGET_MS, LIVE_REDRAW_MS, Scheduler } from "../../../webview/scheduler";

/** A scheduler on a fake clock: frames and timers run when the test says. */
function scheduled(paint: (hasTime: () => boolean) => boolean = () => true) {
  const clock = { now: 0 };
  const frames: (() => void)[] = [];
  const timers: { at: number; run: () => void }[] = [];
  let invalidated = 0;
  const scheduler = new Scheduler(
    { paint: (hasTime) => paint(hasTime), invalidate: () => invalidated++ },
    {
      now: () => clock.now,
      nextFrame: (callback) => frames.push(callback),
      after: (callback, ms) => timers.push({ at: clock.now + ms, run: callback }),
    },
  );
  /** Runs the frame waiting now (the clock stands still inside it unless paint moves it). */
  const frame = () => {
    for (const f of frames.splice(0)) f();
  };
  /** Moves the clock on and runs the timers that are due. */
  const wait = (ms: number) => {
    clock.now += ms;
    for (const timer of timers.splice(0)) {
      if (timer.at <= clock.now) timer.run();
      else timers.push(timer);
    }
  };
  return { scheduler, clock, frames, frame, wait, invalidated: () => invalidated };
}

describe("the panel's frame scheduler", () => {
  it("many requests before a frame draw once", () => {
    let painted = 0;
    const { scheduler, frames, frame } = scheduled(() => {
      painted++;
      return true;
    });
    for (let i = 0; i < 5; i++) scheduler.request();
    assert.equal(frames.length, 1);
    assert.ok(scheduler.busy);
    frame();
    assert.equal(painted, 1);
    assert.equal(scheduler.busy, false);
  });

  it("a frame stops at its budget and leaves the rest to the next frame", () => {
    const { scheduler, clock, frames, frame } = scheduled((hasTime) => {
      let drawn = 0;
      // Each piece takes 3 ms: the budget allows three, then the frame stops.
      while (hasTime() && drawn < 10) {
        clock.now += 3;
        drawn++;
      }
      return drawn === 10;
    });
    scheduler.request();
    frame();
    assert.equal(frames.length, 1, "what was left is drawn at the next frame");
    assert.ok(scheduler.frames[0] > FRAME_BUDGET_MS && scheduler.frames[0] <= FRAME_BUDGET_MS + 3);
  });

  it("live data redraws everything at most every LIVE_REDRAW_MS, and asks a frame each time", () => {
    const { scheduler, frames, frame, wait, invalidated } = scheduled();
    scheduler.live();
    assert.equal(invalidated(), 1, "the first update redraws at once");
    frame();
    wait(10);
    scheduler.live();
    scheduler.live();
    assert.equal(invalidated(), 1, "later ones wait for the throttle");
    assert.equal(frames.length, 1, "but the header still gets its frame");
    assert.ok(scheduler.busy);
    wait(LIVE_REDRAW_MS - 10 - 1);
    assert.equal(invalidated(), 1);
    wait(1);
    assert.equal(invalidated(), 2, "one redraw for all that came meanwhile");
  });

  it("a live redraw due while the last one's cards are not all drawn starts once they are", () => {
    // Each redraw has five cards of 5 ms: two frames of budget.
    let left = 0;
    const { scheduler, clock, frames, frame, wait, invalidated } = scheduled((hasTime) => {
      while (left > 0 && hasTime()) {
        clock.now += 5;
        left--;
      }
      return left === 0;
    });
    const redraws = invalidated;
    scheduler.live();
    left = 5;
    assert.equal(redraws(), 1);
    frame(); // draws two cards (10 ms), three are left
    wait(LIVE_REDRAW_MS);
    scheduler.live();
    assert.equal(redraws(), 1, "not while the first redraw's cards are unfinished");
    assert.ok(scheduler.busy);
    frame(); // the next two
    assert.equal(redraws(), 1);
    frame(); // the last card
    assert.equal(left, 0);
    assert.equal(redraws(), 1, "the frame that completes a redraw ends with every card on one step");
    assert.equal(frames.length, 1);
    frame();
    assert.equal(redraws(), 2, "the waiting redraw starts with the next frame");
  });

  it("counts the time spent applying data into the next frame's figure", () => {
    const { scheduler, frame } = scheduled();
    scheduler.ingested(4);
    scheduler.ingested(2);
    scheduler.request();
    frame();
    scheduler.request();
    frame();
    assert.deepEqual(scheduler.frames, [6, 0]);
  });
});
