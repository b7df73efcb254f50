import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, it } from "node:test";
import { AttachedConnection } from "../../../src/extension/runs/connection";
import {
  encodeLine,
  LineDecoder,
  type StreamProblem,
  trainerMessageReader,
} from "../../../src/protocol/codec";
import { COMMAND_EXAMPLES, TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { AttachClient } from "../../../src/protocol/link/attachClient";
import { ACK_TIMEOUT_MS } from "../../../src/protocol/link/endpoint";
import { HostLink } from "../../../src/protocol/link/hostLink";
import { TrainerLink } from "../../../src/protocol/link/trainerLink";
import {
  type ConfigMessage,
  IncompatibleNotice,
  OTHER_MAJOR,
  PROTOCOL_VERSION,
  parseHostCommand,
  parseTrainerMessage,
  type StepMessage,
  type TrainerMessage,
} from "../../../src/protocol/messages";
import { createRunDir, runPaths } from "../../../src/protocol/runlog";
import { until } from "../helpers/until";

/**
 * Forward compatibility (docs/protocol.md, "Versions"): same major, unknown fields dropped and
 * noted once; unknown types skipped, one warning per type; another major refused at the
 * handshake with both versions named, the host answering with the version it speaks.
 */

const root = fs.mkdtempSync(join(tmpdir(), "gc-compat-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

function readLines(lines: string[]) {
  const messages: TrainerMessage[] = [];
  const problems: StreamProblem[] = [];
  const reader = trainerMessageReader({
    onMessage: (m) => messages.push(m),
    onProblem: (p) => problems.push(p),
  });
  reader.push(lines.map((l) => `${l}\n`).join(""));
  reader.end();
  return { messages, problems, stats: reader.stats };
}

const withV = (message: object, v: string) => JSON.stringify({ ...message, v });
/** This reader's version, as a regular expression matches it in a message. */
const HERE = PROTOCOL_VERSION.replace(".", "\\.");

describe("decoding a newer minor", () => {
  it("an unknown top-level field is accepted and dropped", () => {
    const parsed = parseTrainerMessage({ ...TRAINER_EXAMPLES.step, gpuMemoryMb: 812 });
    assert.ok(parsed.ok);
    assert.equal("gpuMemoryMb" in parsed.message, false);
    assert.deepEqual(parsed.droppedFields, ["gpuMemoryMb"]);
    assert.deepEqual(parsed.message, parseTrainerMessage(TRAINER_EXAMPLES.step).ok && TRAINER_EXAMPLES.step);
  });

  it("an unknown field inside the strict training config is dropped and the config still read", () => {
    const config = structuredClone(TRAINER_EXAMPLES.config) as ConfigMessage;
    (config.config.training as Record<string, unknown>).warmupSteps = 100;
    (config.config.model as Record<string, unknown>).gating = "softmax";
    const parsed = parseTrainerMessage(config);
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.reason);
    assert.deepEqual([...parsed.droppedFields].sort(), [
      "config.model.gating",
      "config.training.warmupSteps",
    ]);
    assert.deepEqual(parsed.message, TRAINER_EXAMPLES.config);
  });

  it("a known field with a wrong type is still invalid: leniency covers additions only", () => {
    const config = structuredClone(TRAINER_EXAMPLES.config) as ConfigMessage;
    (config.config.training as Record<string, unknown>).warmupSteps = 100;
    (config.config.training as Record<string, unknown>).batchSize = "big";
    const parsed = parseTrainerMessage(config);
    assert.equal(parsed.ok, false);
    assert.match(parsed.ok ? "" : parsed.reason, /config\.training\.batchSize/);
  });

  it("fields added inside arrays are one field, not one per entry; free-form records keep every key", () => {
    const evalMessage = TRAINER_EXAMPLES.eval as Extract<TrainerMessage, { type: "eval" }>;
    const parsed = parseTrainerMessage({
      ...evalMessage,
      tasks: evalMessage.tasks.map((t) => ({ ...t, ndcg: 0.5 })),
    });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.droppedFields, ["tasks[].ndcg"]);
    const strategy = parseTrainerMessage({
      ...TRAINER_EXAMPLES["strategy-changed"],
      params: { tau: 0.1, brandNewParam: 3 },
    });
    assert.ok(strategy.ok);
    assert.deepEqual(strategy.droppedFields, [], "strategy params are a record: nothing unknown there");
  });

  it("commands follow the same rule: an extra field is dropped, the command runs", () => {
    const parsed = parseHostCommand({ ...COMMAND_EXAMPLES.pause, reason: "user clicked" });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.droppedFields, ["reason"]);
    assert.equal("reason" in parsed.message, false);
  });

  it("a stream notes each unknown field once per message type, and the newer minor once", () => {
    const step = (n: number) => withV({ ...TRAINER_EXAMPLES.step, step: n, gpuMemoryMb: n }, "1.4");
    const { messages, problems, stats } = readLines([
      withV({ ...TRAINER_EXAMPLES.hello, gpuMemoryMb: 1 }, "1.4"),
      step(1),
      step(2),
      step(3),
    ]);
    assert.equal(messages.length, 4);
    assert.ok(messages.every((m) => !("gpuMemoryMb" in m)));
    assert.deepEqual(
      problems.map((p) => [p.kind, p.line]),
      [
        ["newer-minor", 1],
        ["unknown-field", 1],
        ["unknown-field", 2],
      ],
    );
    assert.match(
      problems[2].reason,
      new RegExp(`"step" field gpuMemoryMb is not known to this reader \\(protocol ${HERE}\\)`),
    );
    assert.equal(stats.unknownFields, 4);
  });

  it("unknown message types are skipped, with one warning per type, and the stream goes on", () => {
    const telemetry = JSON.stringify({ v: "1.3", type: "telemetry", gpuTemperature: 51 });
    const profile = JSON.stringify({ v: "1.3", type: "profile", spans: [] });
    const { messages, problems, stats } = readLines([
      JSON.stringify(TRAINER_EXAMPLES.hello),
      telemetry,
      telemetry,
      profile,
      telemetry,
      JSON.stringify(TRAINER_EXAMPLES.step),
    ]);
    assert.deepEqual(
      messages.map((m) => m.type),
      ["hello", "step"],
    );
    const unknown = problems.filter((p) => p.kind === "unknown-type");
    assert.deepEqual(
      unknown.map((p) => [p.reason, p.line]),
      [
        ['unknown message type "telemetry"', 2],
        ['unknown message type "profile"', 4],
      ],
    );
    assert.equal(stats.unknownTypes, 4);
  });

  it("a stream inventing names is not echoed without bound", () => {
    const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ v: "1.0", type: `kind-${i}` }));
    const { problems } = readLines(lines);
    assert.equal(problems.length, 33);
    assert.match(problems.at(-1)?.reason ?? "", /further ones are skipped without a note/);
  });

  it("a malformed line is reported with its line number and never delivered; the lines around it are", () => {
    const { messages, problems, stats } = readLines([
      JSON.stringify(TRAINER_EXAMPLES.hello),
      JSON.stringify({ ...TRAINER_EXAMPLES.step, step: 1 }),
      '{"v":"1.0","type":"step","step":2,',
      JSON.stringify({ ...TRAINER_EXAMPLES.step, v: undefined, step: 3 }),
      JSON.stringify({ ...TRAINER_EXAMPLES.step, step: 4 }),
    ]);
    assert.deepEqual(
      messages.map((m) => (m.type === "step" ? m.step : m.type)),
      ["hello", 1, 4],
    );
    assert.equal(stats.malformed, 2, "a broken line and a line without v");
    assert.equal(stats.unsupportedVersion, 0, "a missing v is not another major");
    assert.deepEqual(
      problems.map((p) => [p.kind, p.line]),
      [["malformed", 3]],
    );
  });

  it("another major is refused, naming both versions", () => {
    for (const [v, words] of [
      ["2.0", new RegExp(`protocol version 2\\.0 is newer than this reader \\(${HERE}\\)`)],
      ["0.9", new RegExp(`protocol version 0\\.9 is older than this reader \\(${HERE}\\)`)],
    ] as const) {
      const parsed = parseTrainerMessage({ ...TRAINER_EXAMPLES.hello, v });
      assert.equal(parsed.ok, false);
      if (parsed.ok) continue;
      assert.equal(parsed.kind, "version");
      assert.match(parsed.reason, words);
      assert.match(parsed.reason, OTHER_MAJOR, "hosts that see only the text recognise the refusal");
    }
    const broken = parseTrainerMessage({ ...TRAINER_EXAMPLES.hello, v: "x" });
    assert.ok(!broken.ok && broken.kind === "malformed");
    assert.doesNotMatch(broken.reason, OTHER_MAJOR, "a broken v is not another major");
  });
});

describe("the version handshake on a link", () => {
  it("a host refuses a trainer of another major: answers with its version, fails waiting commands, ends the trainer", async () => {
    // A fake 2.0 trainer: says hello, then on SIGTERM reports what it read on stdin and exits.
    const hello = encodeLine({ ...TRAINER_EXAMPLES.hello, v: "2.0" });
    const script = `
      let input = "", ended = false, termed = false;
      const report = () => { if (ended && termed) process.stderr.write("GOT " + JSON.stringify(input) + "\\n", () => process.exit(7)); };
      process.stdin.on("data", (d) => (input += d));
      process.stdin.on("end", () => { ended = true; report(); });
      process.on("SIGTERM", () => { termed = true; report(); });
      setTimeout(() => process.stdout.write(${JSON.stringify(hello)}), 200);
      setInterval(() => {}, 1000);`;
    const host = HostLink.spawn(process.execPath, ["-e", script]);
    const problems: StreamProblem[] = [];
    host.onProblem((p) => problems.push(p));
    const delivered: TrainerMessage[] = [];
    host.onMessage((m) => delivered.push(m));
    const waiting = host.send({ type: "pause" }, 20_000);
    await assert.rejects(
      waiting,
      new RegExp(`refused the trainer: protocol version 2\\.0 is newer than this reader \\(${HERE}\\)`),
    );
    assert.match(host.refusal ?? "", new RegExp(`2\\.0.*${HERE}`));
    assert.deepEqual(delivered, [], "nothing of the refused stream reaches the application");
    assert.equal(host.hello, null);
    assert.deepEqual(
      problems.map((p) => [p.kind, p.line]),
      [["version", 1]],
    );
    await assert.rejects(host.send({ type: "resume" }), /link is closed \(refused the trainer/);
    const exit = await host.exited;
    assert.equal(exit.code, 7, exit.stderrTail.join("\n"));
    const got = exit.stderrTail.find((l) => l.startsWith("GOT "));
    const lines = (JSON.parse(got?.slice(4) ?? '""') as string).trim().split("\n");
    const notice = JSON.parse(lines.at(-1) ?? "{}");
    assert.ok(IncompatibleNotice.safeParse(notice).success, "the answer follows its documented schema");
    assert.equal(notice.v, PROTOCOL_VERSION, "the host answers with the version it speaks");
    assert.match(notice.reason, new RegExp(`2\\.0.*${HERE}`));
  });

  it("a trainer told it is incompatible reports the host's reason, once, and takes no command from it", async () => {
    const stdin = new PassThrough();
    const problems: Array<StreamProblem & { source: string }> = [];
    const link = await TrainerLink.open({ stdoutFd: null, stdin, onProblem: (p) => problems.push(p) });
    try {
      const notice = encodeLine({
        v: PROTOCOL_VERSION,
        type: "incompatible",
        reason: "refused the trainer: x",
      });
      stdin.write(notice + notice);
      await until(() => problems.length > 0, 2000, "the report");
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(
        problems.map((p) => [p.kind, p.source, p.reason]),
        [["version", "stdin", `the host speaks protocol ${PROTOCOL_VERSION}: refused the trainer: x`]],
      );
      assert.deepEqual(link.takeCommands(), []);
    } finally {
      await link.close();
    }
  });

  it("an attaching client refuses a trainer of another major and tells it its own version", async () => {
    const socketPath = join(root, "v2.sock");
    const received: string[] = [];
    const server = net.createServer((socket) => {
      const lines = new LineDecoder();
      socket.on("data", (chunk) => {
        for (const line of lines.push(chunk)) {
          received.push(line);
          if (received.length === 1)
            socket.write(
              encodeLine({ v: "2.0", type: "attached", writer: true, runDir: root, replayed: 0 }) +
                encodeLine({ ...TRAINER_EXAMPLES.hello, v: "2.0" }),
            );
        }
      });
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    try {
      await assert.rejects(
        AttachClient.connectTo({ protocol: "2.0", pid: 1, transport: "unix", path: socketPath }, "t"),
        new RegExp(`cannot attach: protocol version 2\\.0 is newer than this reader \\(${HERE}\\)`),
      );
      await until(() => received.length >= 2, 2000, "the client's answer");
      assert.equal(JSON.parse(received[0]).type, "attach");
      const notice = JSON.parse(received[1]);
      assert.deepEqual([notice.type, notice.v], ["incompatible", PROTOCOL_VERSION]);
    } finally {
      server.close();
    }
  });

  it("a trainer refuses an attach request of another major with an error naming both versions", async () => {
    const runDir = createRunDir(root, "refuse-major");
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      link.send(TRAINER_EXAMPLES.hello);
      const token = fs.readFileSync(runPaths(runDir).token, "utf8");
      const address = link.address;
      assert.ok(address?.path || address?.port);
      const socket =
        address.transport === "unix"
          ? net.createConnection(address.path ?? "")
          : net.createConnection(address.port ?? 0, address.host);
      const answer = await new Promise<string>((resolve) => {
        let text = "";
        socket.on("data", (d) => (text += d));
        socket.on("close", () => resolve(text));
        socket.write(encodeLine({ v: "2.1", type: "attach", token, write: true, replay: "all" }));
      });
      const error = JSON.parse(answer.trim());
      assert.equal(error.type, "error");
      assert.equal(error.v, PROTOCOL_VERSION);
      assert.match(
        error.message,
        new RegExp(`attach refused: protocol version 2\\.1 is newer than this reader \\(${HERE}\\)`),
      );
    } finally {
      await link.close();
    }
  });

  it("an attached client holds early messages until it is subscribed; acks resolve before that", async () => {
    const runDir = createRunDir(root, "hold");
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      link.send(TRAINER_EXAMPLES.hello);
      for (let n = 1; n <= 5; n++) link.send({ ...(TRAINER_EXAMPLES.step as StepMessage), step: n });
      const client = await AttachClient.connect(runDir, { write: true });
      // Several turns of the event loop pass before anyone listens.
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(client.hello?.type, "hello", "hello is taken in at once");
      link.onCommand(({ command }) => link.ack(command, { ok: true, step: 5 }));
      const ack = await client.send({ type: "checkpoint" });
      assert.equal(ack.ok, true);
      const seen: TrainerMessage[] = [];
      client.onMessage((m) => seen.push(m));
      link.send({ ...(TRAINER_EXAMPLES.step as StepMessage), step: 6 });
      await until(() => seen.some((m) => m.type === "step" && m.step === 6), 2000, "the live step");
      assert.deepEqual(
        seen.map((m) => (m.type === "step" ? m.step : m.type)),
        ["hello", 1, 2, 3, 4, 5, "ack", 6],
        "the replay, the ack and the live step, in order, none lost",
      );
      await client.detach();
    } finally {
      await link.close();
    }
  });

  it("the extension's attached connection logs a stream problem with its line, like a spawned one", async () => {
    const runDir = createRunDir(root, "attached-problem");
    const link = await TrainerLink.open({ runDir, stdoutFd: null, stdin: null, listen: true });
    try {
      link.send(TRAINER_EXAMPLES.hello);
      const connection = await AttachedConnection.connect(runDir);
      const problems: string[] = [];
      connection.onProblem = (reason) => problems.push(reason);
      connection.start();
      // A newer trainer's message type, as the third line of this client's stream.
      link.send({ v: "1.0", type: "telemetry" } as unknown as TrainerMessage);
      link.send({ v: "1.0", type: "telemetry" } as unknown as TrainerMessage);
      await until(() => problems.length > 0, 2000, "the problem");
      assert.deepEqual(problems, ['unknown message type "telemetry" (stream line 3)']);
      await connection.close();
    } finally {
      await link.close();
    }
  });

  it("both transports wait the same time for an ack", () => {
    const host = HostLink.spawn(process.execPath, ["-e", ""]);
    assert.equal(host.ackTimeoutMs, ACK_TIMEOUT_MS);
    host.child.kill();
  });
});
