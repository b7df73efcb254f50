import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, describe, it } from "node:test";
import { AttachClient } from "../../../src/protocol/link/attachClient";
import type { LinkAddress } from "../../../src/protocol/link/linkFiles";
import type { TrainerMessage } from "../../../src/protocol/messages";
import { pythonWithTorch, until } from "./helpers";

/**
 * A PyTorch script started in a terminal serves the same token-guarded socket as
 * `gradcraft train --listen`: the extension's AttachClient follows it, one writer at a time.
 */

const example = resolve(__dirname, "../../../examples/pytorch/minimal.py");

describe("a PyTorch trainer started in a terminal", () => {
  const dir = mkdtempSync(join(tmpdir(), "gc-pytorch-attach-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("serves the attach socket: owner-only token, replay, one writer, read-only others, refused wrong tokens", async (t) => {
    const python = await pythonWithTorch(t);
    if (!python) return;
    const config = join(dir, "long.gradcraft.json");
    writeFileSync(config, JSON.stringify({ name: "terminal", training: { epochs: 1000 } }));
    const runs = join(dir, "runs");
    // As a person types it: no GRADCRAFT_PROTOCOL, so no stdio link; the socket is on by default.
    const env: NodeJS.ProcessEnv = { ...process.env, GRADCRAFT_RUNS_FOLDER: runs, GRADCRAFT_CONFIG: config };
    delete env.GRADCRAFT_PROTOCOL;
    const child = spawn(python, [example], { env, cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exited = new Promise<number | null>((r) => child.once("close", (code) => r(code)));
    try {
      const runDir = await until("the link's address in the run folder", () => {
        const names = existsSync(runs) ? readdirSync(runs) : [];
        return names.length === 1 && existsSync(join(runs, names[0], "link.json"))
          ? join(runs, names[0])
          : false;
      });
      assert.equal(statSync(join(runDir, "link.token")).mode & 0o777, 0o600, "the token is owner-only");
      const address = JSON.parse(readFileSync(join(runDir, "link.json"), "utf8")) as LinkAddress;
      assert.equal(address.transport, "unix");
      assert.equal(statSync(address.path ?? "").mode & 0o777, 0o600);

      await assert.rejects(AttachClient.connectTo(address, "0".repeat(64)), /attach refused: wrong token/);

      const messages: TrainerMessage[] = [];
      const writer = await AttachClient.connect(runDir, { write: true, onMessage: (m) => messages.push(m) });
      assert.equal(writer.writer, true);
      await until("the replayed hello and live steps", () => messages.some((m) => m.type === "step"));
      assert.equal(messages[0].type, "hello", "the replay starts with the run's hello");
      const reader = await AttachClient.connect(runDir, { write: true, replay: 2, onMessage: () => {} });
      assert.equal(reader.writer, false);
      assert.match(reader.readOnlyReason ?? "", /another client holds the writer role/);
      const refused = await reader.send({ type: "pause" });
      assert.equal(refused.ok, false);
      assert.match(refused.error ?? "", /read-only/);

      const strategy = await writer.send({ type: "set-strategy", name: "mgda" });
      assert.equal(strategy.ok, true, strategy.error);
      await writer.send({ type: "stop" });
      assert.equal(await exited, 0, stderr);
      const done = await until("done on the socket", () => messages.find((m) => m.type === "done"));
      assert.equal(done.type === "done" && done.reason, "stopped");
      assert.ok(
        !existsSync(join(runDir, "link.token")) && !existsSync(address.path ?? ""),
        "link files removed",
      );
      assert.match(stderr, /Attach to Running Trainer/, "the terminal is told how to follow the run");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
