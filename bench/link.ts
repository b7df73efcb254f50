// Streaming cost of one `step` message on the trainer's main thread: encode once, append to the
// event log, hand to stdout and to one attached socket reader (TrainerLink.send), compared to
// the trainer's step times. Goal (docs/benchmarks.md): under 2% of a step.
//   npx tsx bench/link.ts [messages=5000] [tasks=6]
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encodeLine } from "../src/protocol/codec";
import { AttachClient } from "../src/protocol/link/attachClient";
import { TrainerLink } from "../src/protocol/link/trainerLink";
import { PROTOCOL_VERSION, parseTrainerMessage, type StepMessage } from "../src/protocol/messages";
import { createRunDir } from "../src/protocol/runlog";

const count = Number(process.argv[2] ?? 5000);
const k = Number(process.argv[3] ?? 6);

function stepMessage(step: number): StepMessage {
  const per = (f: (t: number) => number) => Array.from({ length: k }, (_, t) => f(t));
  return {
    v: PROTOCOL_VERSION,
    type: "step",
    step,
    epoch: step / 1000,
    wallMs: step * 412.345678,
    losses: per((t) => 0.5 / (t + 1) + Math.random() * 1e-3),
    norms: per(() => Math.random()),
    cosines: Array.from({ length: k * k }, () => Math.random() * 2 - 1),
    weights: per(() => Math.random()),
    projection: {
      conflictSetSize: per((t) => t % 3),
      correctionNorm: per(() => Math.random()),
      magnitudeScale: per(() => 1 + Math.random()),
    },
    conflictingPairs: 4,
    updateNorm: Math.random(),
    updateCosines: per(() => Math.random()),
    conflictsWithUpdate: false,
    flags: [],
    strategy: "gradcraft",
    learningRate: 0.001,
    stepTimeMs: 412.3,
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

async function main() {
  const root = fs.mkdtempSync(join(tmpdir(), "gc-bench-link-"));
  const runDir = createRunDir(root, "bench");
  const devNull = fs.openSync("/dev/null", "w");
  const link = await TrainerLink.open({
    runDir,
    stdoutFd: devNull,
    stdin: null,
    listen: true,
    guardStdout: false,
  });
  let received = 0;
  const client = await AttachClient.connect(runDir, { replay: "none", onMessage: () => received++ });

  const messages = Array.from({ length: count }, (_, i) => stepMessage(i + 1));
  const bytes = encodeLine(messages[0]).length;

  // Encoding alone.
  let t = performance.now();
  for (const m of messages) encodeLine(m);
  const encodeUs = ((performance.now() - t) * 1000) / count;

  // Reader side (another process in practice): decode + validate.
  const lines = messages.map((m) => JSON.stringify(m));
  t = performance.now();
  for (const line of lines) parseTrainerMessage(JSON.parse(line));
  const parseUs = ((performance.now() - t) * 1000) / count;

  // The trainer's cost: send() on the main thread, the event loop free between steps as in training.
  const costs: number[] = [];
  for (const m of messages) {
    const start = performance.now();
    link.send(m);
    costs.push((performance.now() - start) * 1000);
    await new Promise((resolve) => setImmediate(resolve));
  }
  const deadline = Date.now() + 10_000;
  while (received < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  // Back to back (no 100 ms of training between messages), a reader may fall behind: say so.
  const readers = link
    .readerStats()
    .map((r) => `${r.reader} coalesced ${r.coalesced}`)
    .join(", ");
  await client.detach();
  await link.close();
  fs.closeSync(devNull);
  const logBytes = fs.statSync(join(runDir, "events.ndjson")).size;
  fs.rmSync(root, { recursive: true, force: true });

  costs.sort((a, b) => a - b);
  const mean = costs.reduce((a, b) => a + b, 0) / costs.length;
  const p99 = quantile(costs, 0.99);
  console.log(`step message: K=${k} tasks, ${bytes} bytes; ${count} messages`);
  console.log(`encode only:                    ${encodeUs.toFixed(1)} µs/message`);
  console.log(
    `reader decode + validate:       ${parseUs.toFixed(1)} µs/message (host side, not on the trainer)`,
  );
  console.log(
    `trainer send (encode + event log + stdout + socket): mean ${mean.toFixed(1)} µs, p50 ${quantile(costs, 0.5).toFixed(1)} µs, p99 ${p99.toFixed(1)} µs`,
  );
  console.log(`socket reader received ${received}/${count} (${readers}); event log ${logBytes} bytes`);
  for (const stepMs of [100, 412, 1000]) {
    const share = (mean / 1000 / stepMs) * 100;
    console.log(
      `share of a ${String(stepMs).padStart(4)} ms step: ${share.toFixed(4)}% (p99 ${((p99 / 1000 / stepMs) * 100).toFixed(4)}%)  ${share < 2 ? "under" : "OVER"} the 2% goal`,
    );
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
