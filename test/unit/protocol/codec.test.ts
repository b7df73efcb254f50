import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  decodeTrainerLine,
  encodeLine,
  hostCommandReader,
  LineDecoder,
  type StreamProblem,
  trainerMessageReader,
} from "../../../src/protocol/codec";
import { COMMAND_EXAMPLES, TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { parseHostCommand, parseTrainerMessage, type TrainerMessage } from "../../../src/protocol/messages";

const examples = Object.values(TRAINER_EXAMPLES);

function readAll(chunks: Array<string | Buffer>) {
  const messages: TrainerMessage[] = [];
  const problems: StreamProblem[] = [];
  const reader = trainerMessageReader({
    onMessage: (m) => messages.push(m),
    onProblem: (p) => problems.push(p),
  });
  for (const chunk of chunks) reader.push(chunk);
  reader.end();
  return { messages, problems, stats: reader.stats };
}

/** Splits a string at the given cut points (sorted, deduplicated, in range). */
function cut(text: string | Buffer, points: number[]) {
  const sorted = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const pieces = [];
  let last = 0;
  for (const p of sorted) {
    pieces.push(text.slice(last, p));
    last = p;
  }
  pieces.push(text.slice(last));
  return pieces;
}

describe("NDJSON codec", () => {
  it("an encoded message is exactly one line, even with newlines in strings", () => {
    const line = encodeLine({ ...TRAINER_EXAMPLES.log, message: "two\nlines\r\n" });
    assert.equal(line.indexOf("\n"), line.length - 1);
    const decoded = decodeTrainerLine(line.slice(0, -1));
    assert.ok(decoded.ok);
    assert.equal(decoded.ok && decoded.message.type === "log" && decoded.message.message, "two\nlines\r\n");
  });

  it("decodes every example however the byte stream is chunked (multi-byte characters split too)", () => {
    const stream = Buffer.from(
      examples.map(encodeLine).join("") + encodeLine({ ...TRAINER_EXAMPLES.log, message: "ε→τ ✓" }),
    );
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (points) => {
        const { messages, stats } = readAll(cut(stream, points));
        assert.equal(messages.length, examples.length + 1);
        assert.deepEqual(messages.slice(0, -1), examples);
        const last = messages.at(-1);
        assert.equal(last?.type === "log" && last.message, "ε→τ ✓");
        assert.equal(stats.malformed + stats.invalid + stats.truncated, 0);
      }),
      { numRuns: 200 },
    );
  });

  it("tolerates CRLF line endings and blank lines", () => {
    const text = `${JSON.stringify(TRAINER_EXAMPLES.log)}\r\n\r\n${JSON.stringify(TRAINER_EXAMPLES.paused)}\r\n`;
    const { messages, problems } = readAll([text]);
    assert.deepEqual(messages, [TRAINER_EXAMPLES.log, TRAINER_EXAMPLES.paused]);
    assert.deepEqual(problems, []);
  });

  it("keeps a partial last line until its newline comes", () => {
    const decoder = new LineDecoder();
    assert.deepEqual(decoder.push('{"a":'), []);
    assert.equal(decoder.pending, 5);
    assert.deepEqual(decoder.push('1}\n{"b"'), ['{"a":1}']);
    assert.equal(decoder.end(), '{"b"');
  });

  it("drops an over-long line whole and goes on with the next", () => {
    const decoder = new LineDecoder(10);
    const lines = [
      ...decoder.push("short\n0123456789abc"),
      ...decoder.push("def\nnext\n"),
      ...decoder.push("x".repeat(11) + "\nok\n"),
    ];
    assert.deepEqual(lines, ["short", "next", "ok"]);
    assert.equal(decoder.oversized, 2);
  });

  it("counts every kind of bad line and reports each kind once (unknown types once each), with its line number", () => {
    const lines = [
      "not json",
      "{broken",
      JSON.stringify({ ...TRAINER_EXAMPLES.log, type: "telemetry" }),
      JSON.stringify({ ...TRAINER_EXAMPLES.log, type: "telemetry2" }),
      JSON.stringify({ ...TRAINER_EXAMPLES.step, losses: "x" }),
      JSON.stringify({ ...TRAINER_EXAMPLES.log, v: "2.0" }),
      JSON.stringify({ ...TRAINER_EXAMPLES.log, v: "3.1" }),
      JSON.stringify({ ...TRAINER_EXAMPLES.log, v: "1.9" }),
      JSON.stringify({ ...TRAINER_EXAMPLES.log, v: "1.9" }),
      JSON.stringify(TRAINER_EXAMPLES.log),
    ];
    const { messages, problems, stats } = readAll([lines.join("\n") + '\n{"v":"1.0","ty']);
    assert.equal(messages.length, 3);
    assert.deepEqual(
      { ...stats },
      {
        lines: 10,
        messages: 3,
        malformed: 2,
        invalid: 1,
        unknownTypes: 2,
        unsupportedVersion: 2,
        newerMinor: 2,
        unknownFields: 0,
        oversized: 0,
        truncated: 1,
      },
    );
    assert.deepEqual(
      problems.map((p) => [p.kind, p.line]),
      [
        ["malformed", 1],
        ["unknown-type", 3],
        ["unknown-type", 4],
        ["invalid", 5],
        ["version", 6],
        ["newer-minor", 8],
        ["truncated", 10],
      ],
    );
    const version = problems.find((p) => p.kind === "version");
    assert.match(version?.reason ?? "", /protocol version 2\.0 is newer than this reader/);
  });

  it("never throws on random bytes, and counts what it cannot read", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 8 }), (chunks) => {
        const { stats } = readAll(chunks.map((c) => Buffer.from(c)));
        assert.ok(stats.messages <= stats.lines);
      }),
      { numRuns: 300 },
    );
  });

  it("never throws on random JSON values, as messages or commands", () => {
    const anyJson = fc.jsonValue();
    const shaped = fc.record({
      v: fc.oneof(fc.constant("1.0"), fc.string()),
      type: fc.oneof(
        fc.constantFrom(...Object.keys(TRAINER_EXAMPLES), ...Object.keys(COMMAND_EXAMPLES)),
        fc.string(),
      ),
      id: fc.string(),
      step: fc.jsonValue(),
      losses: fc.jsonValue(),
    });
    fc.assert(
      fc.property(fc.oneof(anyJson, shaped), (value) => {
        const message = parseTrainerMessage(value);
        const command = parseHostCommand(value);
        if (!message.ok) assert.equal(typeof message.reason, "string");
        if (!command.ok) assert.equal(typeof command.reason, "string");
      }),
      { numRuns: 500 },
    );
  });

  it("mutating a valid message's fields never throws, and invalid results name a field", () => {
    fc.assert(
      fc.property(fc.constantFrom(...examples), fc.jsonValue(), fc.nat(), (example, replacement, pick) => {
        const keys = Object.keys(example).filter((k) => k !== "v" && k !== "type");
        if (keys.length === 0) return;
        const key = keys[pick % keys.length];
        const mutated = { ...example, [key]: replacement };
        const result = parseTrainerMessage(JSON.parse(JSON.stringify(mutated)));
        if (!result.ok) {
          assert.match(result.reason, /^invalid "/);
          assert.ok(
            keys.some((k) => result.reason.includes(`${k}`)),
            result.reason,
          );
        }
      }),
      { numRuns: 500 },
    );
  });

  it("mutating a valid command's fields never throws, and invalid results say what is wrong", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.values(COMMAND_EXAMPLES)),
        fc.jsonValue(),
        fc.nat(),
        (example, replacement, pick) => {
          const keys = Object.keys(example).filter((k) => k !== "v" && k !== "type");
          const key = keys[pick % keys.length];
          const result = parseHostCommand(JSON.parse(JSON.stringify({ ...example, [key]: replacement })));
          if (!result.ok)
            assert.ok(result.reason.includes(key) || /nothing to change/.test(result.reason), result.reason);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("a truncated stream yields the whole lines before the cut and reports the torn tail", () => {
    const stream = examples.map(encodeLine).join("");
    fc.assert(
      fc.property(fc.nat({ max: stream.length }), (at) => {
        const { messages, stats } = readAll([stream.slice(0, at)]);
        const whole = stream.slice(0, at).split("\n").length - 1;
        assert.equal(messages.length, whole);
        const torn = stream.slice(0, at).endsWith("\n") || at === 0 ? 0 : 1;
        assert.equal(stats.truncated, torn);
      }),
      { numRuns: 200 },
    );
  });

  it("reads commands with the same machinery", () => {
    const received: string[] = [];
    const reader = hostCommandReader({ onMessage: (c) => received.push(c.type) });
    reader.push(Object.values(COMMAND_EXAMPLES).map(encodeLine).join(""));
    reader.end();
    assert.deepEqual(received, Object.keys(COMMAND_EXAMPLES));
  });
});
