import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { encodeLine, trainerMessageReader } from "../../../src/protocol/codec";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { AttachClient } from "../../../src/protocol/link/attachClient";
import type { LinkAddress } from "../../../src/protocol/link/linkFiles";
import { type HostLoss, TrainerLink } from "../../../src/protocol/link/trainerLink";
import { PROTOCOL_VERSION, type StepMessage, type TrainerMessage } from "../../../src/protocol/messages";
import { createRunDir, readEventLog, runPaths } from "../../../src/protocol/runlog";
import { until } from "../helpers/until";

let root: string;
before(() => {
  root = fs.mkdtempSync(join(tmpdir(), "gc-link-"));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

const step = (n: number): StepMessage => ({ ...(TRAINER_EXAMPLES.step as StepMessage), step: n });
const log = (text: string): TrainerMessage => ({
  v: PROTOCOL_VERSION,
  type: "log",
  level: "info",
  message: text,
});

describe("trainer link over a socket", () => {
  it("requires the token, kept owner-only in the run folder", async () => {
    const runDir = createRunDir(root, "token");
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      const paths = runPaths(runDir);
      assert.equal(fs.statSync(paths.token).mode & 0o777, 0o600);
      const address = JSON.parse(fs.readFileSync(paths.linkInfo, "utf8")) as LinkAddress;
      assert.equal(address.transport, "unix");
      await assert.rejects(AttachClient.connectTo(address, "0".repeat(64)), /attach refused: wrong token/);
      await assert.rejects(AttachClient.connectTo(address, ""), /attach refused/);
      const good = await AttachClient.connect(runDir);
      await good.detach();
    } finally {
      await link.close();
    }
    assert.equal(fs.existsSync(runPaths(runDir).token), false, "the token goes away with the link");
  });

  it("replays the log so far, then live messages; one writer; read-only clients get error acks", async () => {
    const runDir = createRunDir(root, "writer");
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      link.send(TRAINER_EXAMPLES.hello);
      link.send(step(1));
      const a = await AttachClient.connect(runDir, { write: true });
      const b = await AttachClient.connect(runDir, { write: true });
      assert.equal(a.writer, true);
      assert.equal(b.writer, false);
      assert.match(b.readOnlyReason ?? "", /another client holds the writer role/);
      assert.equal(a.replayed, 2);
      const seenByB: TrainerMessage[] = [];
      b.onMessage((m) => seenByB.push(m));
      link.send(step(2));

      const refused = await b.send({ type: "pause" });
      assert.equal(refused.ok, false);
      assert.match(refused.error ?? "", /read-only/);
      assert.deepEqual(link.takeCommands(), [], "a read-only client's command never reaches the loop");

      const arrived = new Promise<void>((resolve) => link.onCommand(() => resolve()));
      const pending = a.send({ type: "set-hyperparameters", learningRate: 0.0005 });
      await arrived;
      const [command] = link.takeCommands();
      assert.equal(command.type, "set-hyperparameters");
      link.send(step(3));
      link.ack(command, { ok: true, step: 3, result: { learningRate: 0.0005 } });
      const ack = await pending;
      assert.deepEqual([ack.ok, ack.step, ack.command], [true, 3, "set-hyperparameters"]);

      // Every reader sees the whole stream: replay, live steps, the writer's ack.
      await until(() => seenByB.some((m) => m.type === "ack" && m.ok));
      assert.deepEqual(
        seenByB.filter((m) => m.type === "step").map((m) => (m as StepMessage).step),
        [1, 2, 3],
      );
      await a.detach();
      await b.detach();
    } finally {
      await link.close();
    }
    const { messages } = await readEventLog(runDir);
    assert.deepEqual(
      messages.map((m) => m.type),
      ["hello", "step", "step", "step", "ack"],
      "the log holds the stream, not the refused command's ack",
    );
  });

  it("an invalid command with an id gets an error ack naming the field; the run is unchanged", async () => {
    const runDir = createRunDir(root, "invalid");
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      const client = await AttachClient.connect(runDir, { write: true, replay: "none" });
      const acks: TrainerMessage[] = [];
      client.onMessage((m) => acks.push(m));
      (client as unknown as { writeLine(line: string): void }).writeLine(
        encodeLine({ v: PROTOCOL_VERSION, type: "set-hyperparameters", id: "bad-1", learningRate: 7 }),
      );
      await until(() => acks.length > 0);
      const ack = acks[0];
      assert.equal(ack.type === "ack" && ack.id, "bad-1");
      assert.match(ack.type === "ack" ? (ack.error ?? "") : "", /learningRate/);
      assert.deepEqual(link.takeCommands(), []);
      await client.detach();
    } finally {
      await link.close();
    }
  });

  it("detach and re-attach: the writer role frees up, and a tail replay keeps hello", async () => {
    const runDir = createRunDir(root, "reattach");
    const link = await TrainerLink.open({
      runDir,
      stdoutFd: null,
      stdin: null,
      listen: { transport: "tcp" },
    });
    try {
      assert.equal(link.address?.transport, "tcp");
      link.send(TRAINER_EXAMPLES.hello);
      for (let n = 1; n <= 20; n++) link.send(step(n));
      const first = await AttachClient.connect(runDir, { write: true });
      assert.equal(first.writer, true);
      await first.detach();
      await until(() => link.readerStats().length === 0);
      const second = await AttachClient.connect(runDir, { write: true, replay: 3 });
      assert.equal(second.writer, true);
      const got: TrainerMessage[] = [];
      for await (const m of second) {
        got.push(m);
        if (m.type === "step" && m.step === 21) break;
        if (got.length === 4) link.send(step(21));
      }
      assert.deepEqual(
        got.map((m) => (m.type === "step" ? m.step : m.type)),
        ["hello", 18, 19, 20, 21],
      );
      assert.equal(second.hello?.tasks.length, 2);
      await second.detach();
    } finally {
      await link.close();
    }
  });

  it("a run folder too deep for a Unix socket path gets its socket in the temp folder", async () => {
    const deep = join(root, "d".repeat(60), "e".repeat(60));
    const runDir = createRunDir(deep, "deep");
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      assert.equal(link.address?.transport, "unix");
      assert.ok(link.address?.path?.startsWith(tmpdir()), link.address?.path);
      const client = await AttachClient.connect(runDir);
      await client.detach();
    } finally {
      await link.close();
    }
    assert.equal(fs.existsSync(link.address?.path ?? ""), false, "the socket goes away with the link");
  });

  it("attaching to a trainer that is gone says so", async () => {
    const runDir = createRunDir(root, "stale");
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    const info = fs.readFileSync(runPaths(runDir).linkInfo, "utf8");
    const token = fs.readFileSync(runPaths(runDir).token, "utf8");
    await link.close();
    fs.writeFileSync(runPaths(runDir).linkInfo, info);
    fs.writeFileSync(runPaths(runDir).token, token);
    await assert.rejects(AttachClient.connect(runDir), /no trainer is listening at .* any more/);
    await assert.rejects(AttachClient.connect(createRunDir(root, "never")), /start it with --listen/);
  });

  it("random bytes instead of a handshake are refused and the link keeps serving", async () => {
    const runDir = createRunDir(root, "fuzz");
    const link = await TrainerLink.open({
      runDir,
      stdoutFd: null,
      stdin: null,
      listen: true,
      handshakeTimeoutMs: 200,
    });
    const address = link.address as LinkAddress;
    try {
      link.send(TRAINER_EXAMPLES.hello);
      await fc.assert(
        fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
          const socket = net.createConnection(address.path ?? "");
          let reply = "";
          socket.on("data", (chunk) => {
            reply += chunk.toString();
          });
          socket.on("error", () => {});
          await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
          socket.write(Buffer.concat([Buffer.from(bytes), Buffer.from("\n")]));
          await new Promise<void>((resolve) => socket.once("close", () => resolve()));
          assert.match(reply, /attach refused/);
          assert.doesNotMatch(reply, /"type":"hello"/, "nothing of the run leaks before authentication");
        }),
        { numRuns: 25 },
      );
      const client = await AttachClient.connect(runDir, { write: true });
      assert.equal(client.writer, true);
      await client.detach();
    } finally {
      await link.close();
    }
  });

  it("a paused reader never blocks training: its steps are coalesced, nothing else is lost", async () => {
    const runDir = createRunDir(root, "slow");
    const link = await TrainerLink.open({
      runDir,
      stdoutFd: null,
      stdin: null,
      listen: true,
      queueLimit: 16,
    });
    const address = link.address as LinkAddress;
    const token = fs.readFileSync(runPaths(runDir).token, "utf8");
    const socket = net.createConnection(address.path ?? "");
    const received: TrainerMessage[] = [];
    const reader = trainerMessageReader({ onMessage: (m) => received.push(m) });
    try {
      await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
      socket.write(encodeLine({ v: PROTOCOL_VERSION, type: "attach", token, replay: "none" }));
      socket.on("data", (chunk) => reader.push(chunk));
      await until(() => received.length > 0);
      socket.pause();
      const total = 3000;
      const started = performance.now();
      for (let n = 1; n <= total; n++) {
        link.send(step(n));
        if (n % 500 === 0) link.send(log(`mark ${n}`));
        if (n % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      const elapsed = performance.now() - started;
      const [stats] = link.readerStats();
      assert.ok(stats.coalesced > 0, "steps were coalesced for the paused reader");
      assert.ok(stats.queued <= 16 + 6, `bounded queue (${stats.queued})`);
      assert.ok(elapsed < 5000, `sending did not wait for the reader (${elapsed.toFixed(0)} ms)`);
      socket.resume();
      await until(() => received.some((m) => m.type === "step" && m.step === total));
      const steps = received.filter((m): m is StepMessage => m.type === "step");
      const marks = received.filter((m) => m.type === "log").map((m) => (m.type === "log" ? m.message : ""));
      assert.deepEqual(marks, ["mark 500", "mark 1000", "mark 1500", "mark 2000", "mark 2500", "mark 3000"]);
      let expected = 1;
      for (const s of steps) {
        assert.equal(s.step, expected + (s.coalesced ?? 0), "coalesced counts the missing steps exactly");
        expected = s.step + 1;
      }
      assert.ok(steps.length < total);
      assert.ok(steps.some((s) => (s.coalesced ?? 0) > 0));
    } finally {
      socket.destroy();
      await link.close();
    }
    const { messages } = await readEventLog(runDir);
    assert.equal(messages.filter((m) => m.type === "step").length, 3000, "the event log keeps every step");
  });
});

describe("commands the link refuses", () => {
  it("are answered to their sender alone, on stdin's stream as on a socket; the loop and the log never see them", async () => {
    const runDir = createRunDir(root, "refusals");
    const streamFile = join(root, "refusals-stdout.ndjson");
    const stdoutFd = fs.openSync(streamFile, "w");
    const stdin = new PassThrough();
    const link = await TrainerLink.open({ runDir, stdoutFd, stdin, listen: true });
    const onStdout = () =>
      fs
        .readFileSync(streamFile, "utf8")
        .split("\n")
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as TrainerMessage);
    const ackIds = (messages: TrainerMessage[]) => messages.flatMap((m) => (m.type === "ack" ? [m.id] : []));
    try {
      link.send(TRAINER_EXAMPLES.hello);
      // stdin is an open command pipe, so the client is read-only.
      const client = await AttachClient.connect(runDir, { write: true });
      assert.equal(client.writer, false);
      const seenByClient: TrainerMessage[] = [];
      client.onMessage((m) => seenByClient.push(m));

      stdin.write(
        encodeLine({ v: PROTOCOL_VERSION, type: "set-hyperparameters", id: "bad-stdin", learningRate: 7 }),
      );
      const readOnly = await client.send({ type: "pause", id: "read-only-1" });
      assert.match(readOnly.error ?? "", /read-only/);
      await until(() => ackIds(onStdout()).includes("bad-stdin"), 5000, "the refusal on stdout");
      const [stdinRefusal] = onStdout().filter((m) => m.type === "ack");
      assert.ok(stdinRefusal.type === "ack" && !stdinRefusal.ok);
      assert.match(stdinRefusal.type === "ack" ? (stdinRefusal.error ?? "") : "", /learningRate/);

      // A message every reader gets marks the point by which any stray refusal would have arrived.
      link.send(step(1));
      await until(() => seenByClient.some((m) => m.type === "step"), 5000, "the step on the socket");
      await until(() => onStdout().some((m) => m.type === "step"), 5000, "the step on stdout");
      assert.deepEqual(ackIds(onStdout()), ["bad-stdin"], "stdout gets stdin's refusal only");
      assert.deepEqual(ackIds(seenByClient), ["read-only-1"], "the client gets its own refusal only");
      assert.deepEqual(link.takeCommands(), []);
      await client.detach();
    } finally {
      await link.close();
      fs.closeSync(stdoutFd);
    }
    const { messages } = await readEventLog(runDir);
    assert.deepEqual(
      messages.map((m) => m.type),
      ["hello", "step"],
    );
  });
});

describe("host loss", () => {
  it("is a typed event at the last step sent, and ends a paused wait with null; queued commands still come first", async () => {
    const stdin = new PassThrough();
    const link = await TrainerLink.open({ stdoutFd: null, stdin });
    try {
      const losses: HostLoss[] = [];
      link.onHostLost((loss) => losses.push(loss));
      link.send(step(7));
      stdin.write(encodeLine({ v: PROTOCOL_VERSION, type: "pause", id: "before-eof" }));
      const first = await link.nextCommand();
      assert.equal(first?.id, "before-eof", "a command sent before the loss is not lost");
      const waiting = link.nextCommand();
      stdin.end();
      assert.equal(await waiting, null, "the paused wait ends");
      assert.deepEqual(
        losses.map((loss) => [loss.source, loss.step]),
        [["stdin", 7]],
      );
      assert.match(losses[0].reason, /stdin closed/);
      assert.deepEqual(link.hostLoss, losses[0]);
      assert.equal(await link.nextCommand(), null, "a later wait ends at once: nobody can resume");
    } finally {
      await link.close();
    }
  });

  it("while an attached client holds the writer role, a paused run waits for its command", async () => {
    const runDir = createRunDir(root, "host-loss-writer");
    const stdin = new PassThrough();
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin, listen: true });
    try {
      stdin.end();
      await until(() => link.hostLoss !== null, 5000, "the host loss");
      const client = await AttachClient.connect(runDir, { write: true, replay: "none" });
      assert.equal(client.writer, true, "the role is free once stdin is gone");
      client.onMessage(() => undefined);
      const waiting = link.nextCommand();
      const acked = client.send({ type: "resume" });
      const command = await waiting;
      assert.equal(command?.type, "resume");
      if (command) link.ack(command, { ok: true, step: 0 });
      assert.equal((await acked).ok, true);
      await client.detach();
    } finally {
      await link.close();
    }
  });
});
