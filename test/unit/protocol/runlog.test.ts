import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeLine, type StreamProblem } from "../../../src/protocol/codec";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { type TrainerMessage, trainerMessage } from "../../../src/protocol/messages";
import {
  createRunDir,
  EventLogWriter,
  ReplayError,
  RUN_FILES,
  readEventLog,
  readRunInfo,
  replay,
  runDirName,
  runPaths,
  scanRuns,
} from "../../../src/protocol/runlog";

let root: string;
before(() => {
  root = fs.mkdtempSync(join(tmpdir(), "gradcraft-runlog-"));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

function step(n: number, strategy = "gradcraft"): TrainerMessage {
  return { ...TRAINER_EXAMPLES.step, step: n, strategy } as TrainerMessage;
}

/** A plausible run: hello, config, initial strategy, steps, a switch, an eval, done. */
function runMessages(steps: number, withDone = true): TrainerMessage[] {
  const messages: TrainerMessage[] = [
    { ...TRAINER_EXAMPLES.hello, pid: 2 ** 30 } as TrainerMessage,
    TRAINER_EXAMPLES.config,
    TRAINER_EXAMPLES["strategy-changed"],
  ];
  for (let i = 1; i <= steps; i++) {
    messages.push(step(i, i > steps / 2 ? "pcgrad" : "gradcraft"));
    if (i === Math.floor(steps / 2))
      messages.push(
        trainerMessage({
          type: "strategy-changed",
          step: i,
          name: "pcgrad",
          params: {},
          previous: { name: "gradcraft", params: { tau: 0.1 } },
          reason: "command",
          commandId: "c1",
        }),
      );
  }
  messages.push(TRAINER_EXAMPLES.eval);
  if (withDone)
    messages.push({
      ...TRAINER_EXAMPLES.done,
      summary: { ...(TRAINER_EXAMPLES.done as { summary: object }).summary, steps },
    } as TrainerMessage);
  return messages;
}

function writeRun(name: string, messages: TrainerMessage[], under = root): string {
  const dir = createRunDir(under, name, new Date(Date.UTC(2026, 0, 2, 3, 4, 5)));
  const log = new EventLogWriter(runPaths(dir).events);
  for (const m of messages) log.append(m);
  log.close();
  return dir;
}

describe("run folder and event log", () => {
  it("names run folders by UTC time and a safe name, never reusing one", () => {
    assert.equal(runDirName("my run/1", new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), "20260102-030405-my_run_1");
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    const a = createRunDir(join(root, "unique"), "x", at);
    const b = createRunDir(join(root, "unique"), "x", at);
    assert.notEqual(a, b);
    assert.ok(fs.statSync(join(a, RUN_FILES.checkpoints)).isDirectory());
  });

  it("replay yields exactly what was appended, in order", async () => {
    const messages = runMessages(40);
    const dir = writeRun("replay", messages);
    const replayed: TrainerMessage[] = [];
    for await (const m of replay(dir)) replayed.push(m);
    assert.deepEqual(replayed, messages);
  });

  it("replays a log larger than one read chunk", async () => {
    const messages = runMessages(1500);
    const dir = writeRun("big", messages);
    assert.ok(fs.statSync(runPaths(dir).events).size > 512 * 1024);
    const { messages: replayed, problems } = await readEventLog(dir);
    assert.equal(replayed.length, messages.length);
    assert.deepEqual(replayed.at(-1), messages.at(-1));
    assert.deepEqual(problems, []);
  });

  it("a torn last line is skipped and reported; the lines before it replay", async () => {
    const messages = runMessages(5, false);
    const dir = writeRun("torn", messages);
    fs.appendFileSync(runPaths(dir).events, encodeLine(step(6)).slice(0, 50));
    const { messages: replayed, problems, stats } = await readEventLog(dir);
    assert.deepEqual(replayed, messages);
    assert.equal(stats.truncated, 1);
    assert.deepEqual(
      problems.map((p) => p.kind),
      ["truncated"],
    );
  });

  it("reopening a log with a torn tail cuts it, so the next line stays whole", async () => {
    const messages = runMessages(3, false);
    const dir = writeRun("resume", messages);
    const torn = encodeLine(step(4)).slice(0, 33);
    fs.appendFileSync(runPaths(dir).events, torn);
    const log = new EventLogWriter(runPaths(dir).events);
    assert.equal(log.repairedBytes, torn.length);
    log.append(step(4));
    log.close();
    const { messages: replayed, stats } = await readEventLog(dir);
    assert.deepEqual(replayed, [...messages, step(4)]);
    assert.equal(stats.malformed + stats.truncated, 0);
  });

  it("a log written by a newer protocol major fails with a plain message", async () => {
    const dir = createRunDir(root, "future");
    fs.writeFileSync(runPaths(dir).events, encodeLine({ ...TRAINER_EXAMPLES.hello, v: "2.0" }));
    await assert.rejects(
      async () => {
        for await (const _ of replay(dir));
      },
      (error: unknown) =>
        error instanceof ReplayError &&
        /cannot replay .*protocol version 2\.0 is newer than this reader/.test(error.message),
    );
  });

  it("replay of a folder without an event log says what is missing", async () => {
    const dir = createRunDir(root, "empty");
    await assert.rejects(async () => {
      for await (const _ of replay(dir));
    }, /no event log/);
  });

  it("junk lines in the middle are skipped and reported once per kind", async () => {
    const dir = createRunDir(root, "junk");
    const problems: StreamProblem[] = [];
    fs.writeFileSync(
      runPaths(dir).events,
      encodeLine(TRAINER_EXAMPLES.hello) + "garbage\n" + "more garbage\n" + encodeLine(step(1)),
    );
    const out: TrainerMessage[] = [];
    for await (const m of replay(dir, { onProblem: (p) => problems.push(p) })) out.push(m);
    assert.equal(out.length, 2);
    assert.deepEqual(
      problems.map((p) => [p.kind, p.line]),
      [["malformed", 2]],
    );
  });
});

describe("scanning a runs folder", () => {
  it("lists finished, interrupted and broken runs from their files", async () => {
    const runs = join(root, "scan");
    writeRun("finished", runMessages(10), runs);
    const interrupted = createRunDir(runs, "interrupted", new Date(Date.UTC(2026, 0, 3)));
    const log = new EventLogWriter(runPaths(interrupted).events);
    for (const m of runMessages(7, false)) log.append(m);
    log.close();
    fs.appendFileSync(runPaths(interrupted).events, '{"v":"1.0","type":"st');
    const broken = createRunDir(runs, "broken", new Date(Date.UTC(2026, 0, 4)));
    fs.writeFileSync(runPaths(broken).config, "{ not json");
    fs.mkdirSync(join(runs, "not-a-run"));
    fs.writeFileSync(join(runs, "stray-file.txt"), "x");

    const list = await scanRuns(runs);
    assert.deepEqual(
      list.map((r) => [r.status, r.steps, r.strategy]),
      [
        ["unknown", 0, null],
        ["interrupted", 7, "pcgrad"],
        ["completed", 10, "pcgrad"],
      ],
    );
    assert.match(list[0].problems.join(), /config\.json is not valid JSON/);
    assert.match(list[1].problems.join(), /middle of a line/);
    assert.equal(list[2].name, "run");
    assert.equal(list[2].startedAt, "2026-01-01T12:00:00.000Z");
    assert.deepEqual(list[2].tasks, ["click", "like"]);
    assert.equal(list[2].summary?.steps, 10);
  });

  it("a run whose trainer is alive is running", async () => {
    const dir = writeRun("alive", [
      { ...TRAINER_EXAMPLES.hello, pid: process.pid } as TrainerMessage,
      step(1),
    ]);
    const info = await readRunInfo(dir);
    assert.equal(info?.status, "running");
  });

  it("reads the head and tail of a long log without reading it whole", async () => {
    const dir = writeRun("long", runMessages(2500));
    const info = await readRunInfo(dir);
    assert.equal(info?.steps, 2500);
    assert.equal(info?.status, "completed");
    assert.equal(info?.startedAt, "2026-01-01T12:00:00.000Z");
    assert.deepEqual(info?.problems, []);
  });

  it("a resumed run started at its first hello and runs again after its first done", async () => {
    const first = runMessages(4);
    const again: TrainerMessage[] = [
      {
        ...TRAINER_EXAMPLES.hello,
        startedAt: "2026-01-05T00:00:00.000Z",
        pid: process.pid,
      } as TrainerMessage,
      step(5),
    ];
    const info = await readRunInfo(writeRun("resumed", [...first, ...again]));
    assert.equal(info?.status, "running");
    assert.equal(info?.startedAt, "2026-01-01T12:00:00.000Z");
    assert.equal(info?.steps, 5);
  });

  it("a missing runs folder is an empty list", async () => {
    assert.deepEqual(await scanRuns(join(root, "nowhere")), []);
  });
});
