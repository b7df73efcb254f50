import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { encodeLine } from "../../../src/protocol/codec";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { HostLink } from "../../../src/protocol/link/hostLink";
import type { TrainerMessage } from "../../../src/protocol/messages";
import { createRunDir, readEventLog } from "../../../src/protocol/runlog";
import { until } from "../helpers/until";

let root: string;
before(() => {
  root = fs.mkdtempSync(join(tmpdir(), "gc-link-"));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

describe("the host's link over a child's stdio", () => {
  const fixture = join(import.meta.dirname, "fixtures", "echo-trainer.ts");

  it("talks to a real trainer process: acks by id, refusals, stray prints on stderr, clean exit", async () => {
    const runDir = createRunDir(root, "child");
    const host = HostLink.spawn(process.execPath, ["--import", "tsx", fixture, runDir], {
      cwd: join(import.meta.dirname, "../../.."),
    });
    const problems: unknown[] = [];
    host.onProblem((p) => problems.push(p));
    const types: string[] = [];
    host.onMessage((m) => types.push(m.type));
    await until(() => host.hello !== null, 20000);
    const ok = await host.send({ type: "set-strategy", name: "pcgrad", params: {} });
    assert.equal(ok.ok, true);
    assert.ok(ok.step >= 1);
    const refused = await host.send({ type: "set-strategy", name: "nope", params: {} });
    assert.deepEqual([refused.ok, refused.error], [false, 'unknown strategy "nope"']);
    await host.send({ type: "stop" });
    const exit = await host.exited;
    assert.deepEqual([exit.code, exit.signal, exit.diedMidLine], [0, null, false]);
    assert.ok(
      exit.stderrTail.some((l) => l.includes("a stray print")),
      "console.log went to stderr",
    );
    assert.deepEqual(problems, [], "nothing but protocol lines on stdout");
    assert.equal(types.at(-1), "done");
    const { messages } = await readEventLog(runDir);
    assert.equal(messages.filter((m) => m.type === "ack").length, 3);
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
