import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeLine } from "../../../src/protocol/codec";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { HostLink } from "../../../src/protocol/link/hostLink";
import type { TrainerMessage } from "../../../src/protocol/messages";
import { readEventLog } from "../../../src/protocol/runlog";
import { TINY_SYNTHETIC_MMOE } from "../helpers/configs";
import { until } from "../helpers/until";

const repo = join(import.meta.dirname, "../../..");
let root: string;
before(() => {
  root = fs.mkdtempSync(join(tmpdir(), "gc-link-"));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe("the host's link over a child's stdio", () => {
  it("drives the real trainer (dist/cli.js train --protocol stdio): acks by id, a refusal, a stop that ends in done and exit 0", async () => {
    const cli = join(repo, "dist", "cli.js");
    assert.ok(fs.existsSync(cli), `${cli} is missing: run "npm run build" first`);
    const config = join(root, "tiny.gradcraft.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        name: "hostlink",
        ...TINY_SYNTHETIC_MMOE,
        training: { batchSize: 64, epochs: 1000, evalEvery: 1000 },
        strategy: { name: "ew" },
      }),
    );
    const host = HostLink.spawn(
      process.execPath,
      [cli, "train", config, "--out", join(root, "runs"), "--protocol", "stdio"],
      { cwd: root },
    );
    const problems: unknown[] = [];
    host.onProblem((p) => problems.push(p));
    const messages: TrainerMessage[] = [];
    host.onMessage((m) => messages.push(m));
    await until(() => messages.some((m) => m.type === "step"), 120_000, "the trainer's first step");

    const switched = await host.send({ type: "set-strategy", id: "switch-1", name: "pcgrad" });
    assert.deepEqual([switched.id, switched.command, switched.ok], ["switch-1", "set-strategy", true]);
    assert.ok(switched.step >= 1, `took effect at step ${switched.step}`);
    const refused = await host.send({ type: "set-strategy", id: "switch-2", name: "nope" });
    assert.deepEqual([refused.id, refused.ok], ["switch-2", false]);
    assert.match(refused.error ?? "", /unknown strategy "nope"/);
    const stopped = await host.send({ type: "stop", id: "stop-1" });
    assert.equal(stopped.ok, true);

    const exit = await host.exited;
    assert.deepEqual(
      [exit.code, exit.signal, exit.diedMidLine],
      [0, null, false],
      exit.stderrTail.join("\n"),
    );
    assert.deepEqual(problems, [], "nothing but protocol lines on stdout");
    const done = messages.at(-1);
    assert.equal(
      done?.type === "done" && done.reason,
      "stopped",
      `the stream ended with ${JSON.stringify(done)}`,
    );
    assert.ok(
      messages.some(
        (m) => m.type === "strategy-changed" && m.name === "pcgrad" && m.commandId === "switch-1",
      ),
      "the switch took effect",
    );
    const runDir = host.hello?.runDir;
    assert.ok(runDir, "hello names the run folder");
    const { messages: logged } = await readEventLog(runDir);
    assert.deepEqual(
      logged.flatMap((m) => (m.type === "ack" ? [m.id] : [])),
      ["switch-1", "switch-2", "stop-1"],
      "the event log holds the acks the host got",
    );
  });

  it("reports a trainer that dies mid-line: exit code, the torn line, the last stderr lines", async () => {
    const script = `
      for (let i = 1; i <= 80; i++) process.stderr.write("line " + i + "\\n");
      process.stdout.write(${JSON.stringify(encodeLine(TRAINER_EXAMPLES.log))});
      process.stdout.write('{"v":"1.0","type":"st', () => process.exit(3));`;
    const host = HostLink.spawn(process.execPath, ["-e", script], { stderrLines: 10 });
    const messages: TrainerMessage[] = [];
    host.onMessage((m) => messages.push(m));
    const exit = await host.exited;
    assert.equal(exit.code, 3);
    assert.equal(exit.diedMidLine, true);
    assert.deepEqual(
      exit.stderrTail,
      Array.from({ length: 10 }, (_, i) => `line ${71 + i}`),
    );
    assert.deepEqual(
      messages.map((m) => m.type),
      ["log"],
    );
  });

  it("a killed trainer fails the commands waiting for their ack", async () => {
    const host = HostLink.spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"]);
    await until(() => host.pid !== undefined);
    const waiting = host.send({ type: "pause" }, 10000);
    host.child.kill("SIGKILL");
    await assert.rejects(waiting, /killed by SIGKILL/);
    const exit = await host.exited;
    assert.equal(exit.signal, "SIGKILL");
    await assert.rejects(host.send({ type: "resume" }), /closed/);
  });

  it("a trainer that cannot start is reported, not thrown", async () => {
    const host = HostLink.spawn(join(root, "no-such-trainer"), []);
    const exit = await host.exited;
    assert.match(exit.spawnError ?? "", /ENOENT/);
  });

  it("a child that emits a second error (a failed kill) does not throw; the first error is the report's", async () => {
    const host = HostLink.spawn(join(root, "no-such-trainer"), []);
    const exit = await host.exited;
    assert.doesNotThrow(() => host.child.emit("error", new Error("kill EPERM")));
    assert.match(exit.spawnError ?? "", /ENOENT/);
  });

  it("a command nobody acknowledges times out", async () => {
    const host = HostLink.spawn(process.execPath, ["-e", "process.stdin.resume()"]);
    await assert.rejects(host.send({ type: "checkpoint" }, 100), /no ack for "checkpoint"/);
    host.child.kill();
    await host.exited;
  });
});

describe("a trainer closing its link", () => {
  it("gives a slow stdout reader everything, done last, before it exits; stray prints go to stderr", async () => {
    const fixture = join(import.meta.dirname, "fixtures", "burst-trainer.ts");
    const count = 5000;
    const host = HostLink.spawn(process.execPath, ["--import", "tsx", fixture, String(count)], {
      cwd: repo,
    });
    const messages: TrainerMessage[] = [];
    host.onMessage((m) => messages.push(m));
    const problems: unknown[] = [];
    host.onProblem((p) => problems.push(p));
    let closing = false;
    host.onStderr((line) => {
      closing ||= line === "closing";
    });
    // Read nothing until the trainer is closing, and then for longer than the flush budget
    // for socket clients (2 s), then read on.
    host.child.stdout?.pause();
    await until(() => closing, 60_000, "the trainer to close its link");
    await new Promise((resolve) => setTimeout(resolve, 4000));
    host.child.stdout?.resume();
    const exit = await host.exited;
    assert.equal(exit.code, 0, exit.stderrTail.join("\n"));
    assert.equal(messages.filter((m) => m.type === "log").length, count, "every message arrived");
    assert.equal(messages.at(-1)?.type, "done", "done arrived, last");
    assert.deepEqual(problems, [], "nothing but protocol lines on stdout");
    assert.ok(
      exit.stderrTail.some((line) => line.includes("a stray print")),
      "console.log went to stderr",
    );
  });
});
