import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { encodeLine, LineDecoder } from "../../../src/protocol/codec";
import { AttachClient } from "../../../src/protocol/link/attachClient";
import { isLoopback } from "../../../src/protocol/link/linkFiles";
import { PROTOCOL_VERSION } from "../../../src/protocol/messages";
import { createRunDir, runPaths } from "../../../src/protocol/runlog";

/**
 * A run folder's link.json decides where a client connects and sends the run's token: only a
 * Unix socket or this machine's loopback is trusted unless the user allows another host.
 */

const root = fs.mkdtempSync(join(tmpdir(), "gc-attach-dest-"));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A stand-in trainer on 127.0.0.1 that records every connection's first line and accepts it. */
async function recordingTrainer() {
  const firstLines: string[] = [];
  const server = net.createServer((socket) => {
    const lines = new LineDecoder();
    socket.on("error", () => undefined);
    socket.on("data", (chunk) => {
      for (const line of lines.push(chunk)) {
        firstLines.push(line);
        socket.write(
          encodeLine({ v: PROTOCOL_VERSION, type: "attached", writer: false, runDir: root, replayed: 0 }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as net.AddressInfo).port, firstLines, close: () => server.close() };
}

function plantLink(runDir: string, link: Record<string, unknown>, token = "secret-token"): string {
  const paths = runPaths(runDir);
  fs.writeFileSync(paths.linkInfo, JSON.stringify(link));
  fs.writeFileSync(paths.token, token, { mode: 0o600 });
  return paths.linkInfo;
}

describe("where attach may connect", () => {
  it("a link.json naming another host is refused, naming the file, the address and how to allow it", async () => {
    const runDir = createRunDir(root, "planted");
    const linkJson = plantLink(runDir, {
      protocol: "1.0",
      pid: 1,
      transport: "tcp",
      host: "192.0.2.7",
      port: 4000,
    });
    await assert.rejects(AttachClient.connect(runDir), (error: Error) => {
      assert.ok(error.message.includes(linkJson), error.message);
      assert.match(error.message, /192\.0\.2\.7:4000, which is not this machine/);
      assert.match(error.message, /To attach anyway, add "192\.0\.2\.7" to/);
      return true;
    });
  });

  it("the token goes to another host only once the user allowed it", async () => {
    const trainer = await recordingTrainer();
    try {
      const runDir = createRunDir(root, "allowed");
      // 127.1 reaches this machine but is not written as a loopback address: it stands for a
      // host the client cannot tell is local.
      plantLink(runDir, { protocol: "1.0", pid: 1, transport: "tcp", host: "127.1", port: trainer.port });
      await assert.rejects(
        AttachClient.connect(runDir, { allowedHosts: { hosts: ["10.0.0.1"], where: "the test's list" } }),
        /127\.1:\d+, which is not this machine.*add "127\.1" to the test's list/,
      );
      const client = await AttachClient.connect(runDir, {
        allowedHosts: { hosts: ["127.1"], where: "the test's list" },
      });
      await client.detach();
      assert.equal(trainer.firstLines.length, 1, "only the allowed attempt connected");
      assert.equal(JSON.parse(trainer.firstLines[0]).token, "secret-token");
    } finally {
      trainer.close();
    }
  });

  it("a link.json that does not describe an address is refused with the field", async () => {
    const runDir = createRunDir(root, "broken");
    plantLink(runDir, { protocol: "1.0", pid: 1, transport: "tcp", host: "127.0.0.1" });
    await assert.rejects(
      AttachClient.connect(runDir),
      /link\.json is not valid: port: a tcp transport needs a port/,
    );
    plantLink(runDir, { protocol: "1.0", pid: 1, transport: "pipe", path: "/x" });
    await assert.rejects(AttachClient.connect(runDir), /link\.json is not valid: transport/);
  });

  it("loopback is 127.0.0.0/8, ::1 in any spelling (IPv4-mapped too) and localhost; nothing else", () => {
    const loopback = ["127.0.0.1", "127.200.3.4", "::1", "0:0:0:0:0:0:0:1", "::ffff:127.0.0.1", "localhost"];
    const other = [
      "10.0.0.1",
      "192.0.2.7",
      "::2",
      "::ffff:10.0.0.1",
      "0.0.0.0",
      "::",
      "127.1",
      "example.com",
    ];
    assert.deepEqual(
      loopback.filter((host) => !isLoopback(host)),
      [],
    );
    assert.deepEqual(
      other.filter((host) => isLoopback(host)),
      [],
    );
  });
});
