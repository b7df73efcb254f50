import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeLine } from "../../../src/protocol/codec";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { OutputQueue, type Sink } from "../../../src/protocol/link/outputQueue";
import type { StepMessage, TrainerMessage } from "../../../src/protocol/messages";

const step = (n: number): StepMessage => ({ ...(TRAINER_EXAMPLES.step as StepMessage), step: n });
const log = (text: string): TrainerMessage => ({
  ...(TRAINER_EXAMPLES.log as Extract<TrainerMessage, { type: "log" }>),
  message: text,
});

function manualSink() {
  const writes: string[] = [];
  let release: (() => void) | null = null;
  const sink: Sink = {
    write(data, done) {
      writes.push(data);
      release = () => done();
    },
  };
  return { sink, writes, release: () => release?.() };
}

describe("output queue", () => {
  it("coalesces intermediate steps for a slow sink and never drops anything else", () => {
    const { sink, writes, release } = manualSink();
    const queue = new OutputQueue(sink, 3);
    queue.push(encodeLine(step(1)), step(1)); // in flight
    for (let n = 2; n <= 6; n++) queue.push(encodeLine(step(n)), step(n));
    queue.push(encodeLine(log("a")));
    queue.push(encodeLine(log("b")));
    queue.push(encodeLine(step(7)), step(7));
    release();
    const lines = writes
      .join("")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    // Steps 2..6 were dropped while "a" and "b" waited; step 7 says so.
    assert.deepEqual(
      lines.map((m) => (m.type === "step" ? [m.step, m.coalesced ?? 0] : m.message)),
      [[1, 0], "a", "b", [7, 5]],
    );
    assert.equal(queue.stats.coalesced, 5);
  });

  it("a coalesced count is the number of step messages missing before it", () => {
    const { sink, writes, release } = manualSink();
    const queue = new OutputQueue(sink, 2);
    queue.push(encodeLine(step(1)), step(1));
    for (let n = 2; n <= 100; n++) queue.push(encodeLine(step(n)), step(n));
    release();
    for (let n = 101; n <= 110; n++) queue.push(encodeLine(step(n)), step(n));
    for (let i = 0; i < 5; i++) release();
    const steps = writes
      .join("")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as StepMessage);
    let expected = 1;
    for (const s of steps) {
      assert.equal(s.step, expected + (s.coalesced ?? 0));
      expected = s.step + 1;
    }
    assert.equal(steps.at(-1)?.step, 110);
  });
});
