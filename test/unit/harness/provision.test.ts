// The parts of the real-VS-Code harness that decide outcomes without starting VS Code: how a
// missing prerequisite is reported (CI fails, a developer is told what to install and the stage is
// "not run"), and the process helpers teardown relies on.
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, it } from "node:test";
import {
  exitCodeFor,
  missingPythonModules,
  NOT_RUN,
  NotRunError,
  ProvisionError,
  unavailable,
} from "../../provision.mjs";
import { freePort, processesWithEnv, waitFor } from "../../vscode/harness.mjs";

describe("a missing prerequisite", () => {
  const savedCI = process.env.CI;
  afterEach(() => {
    if (savedCI === undefined) delete process.env.CI;
    else process.env.CI = savedCI;
  });

  it("fails the stage under CI=true, naming what is missing and how to install it", () => {
    process.env.CI = "true";
    assert.throws(
      () => unavailable("Chromium", "sudo apt-get install -y chromium"),
      (error: unknown) =>
        error instanceof ProvisionError &&
        error.message.includes("Chromium") &&
        error.message.includes("sudo apt-get install -y chromium"),
    );
  });

  it("outside CI reports the stage as not run (77) with the exact install command", () => {
    delete process.env.CI;
    let caught: unknown;
    try {
      unavailable("Kerberos headers", "sudo apt-get install -y libkrb5-dev");
    } catch (error) {
      caught = error;
    }
    assert.ok(caught instanceof NotRunError, `expected NotRunError, got ${caught}`);
    assert.match(caught.message, /sudo apt-get install -y libkrb5-dev/);
    const stderr = captureStderr(() => assert.equal(exitCodeFor(caught), NOT_RUN));
    assert.match(stderr, /NOT RUN: .*Kerberos headers/s);
  });

  it("a broken install is a failure (1), never 'not run'", () => {
    captureStderr(() => assert.equal(exitCodeFor(new ProvisionError("postinstall exited 1")), 1));
    captureStderr(() => assert.equal(exitCodeFor(new Error("anything else")), 1));
  });
});

describe("the PyTorch interpreter check", () => {
  it("names every module when the interpreter does not exist", () => {
    assert.deepEqual(missingPythonModules("/nonexistent/python3"), ["torch", "numpy", "pytest"]);
  });

  it("names what an interpreter cannot import (one that answers like python3 -c without torch)", () => {
    // A stand-in interpreter: runs the probe with the Python found on PATH minus site-packages.
    const dir = mkdtempSync(join(tmpdir(), "gc-python-probe-"));
    const fake = join(dir, "python3");
    writeFileSync(fake, '#!/bin/sh\nexec python3 -S "$@"\n');
    chmodSync(fake, 0o755);
    const missing = missingPythonModules(fake);
    // pytest and torch are never part of the standard library; without site-packages they are missing.
    assert.ok(missing.includes("torch") && missing.includes("pytest"), `got ${JSON.stringify(missing)}`);
  });
});

describe("harness helpers", () => {
  it("waitFor fails naming the condition it waited for", async () => {
    await assert.rejects(
      waitFor("the moon to turn blue", () => false, { timeoutMs: 50, intervalMs: 10 }),
      /timed out after 50 ms waiting for the moon to turn blue/,
    );
    assert.equal(await waitFor("a value", () => 42, { timeoutMs: 50 }), 42);
  });

  it("freePort gives a loopback port that can be bound", async () => {
    const port = await freePort();
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", resolve);
    });
    await new Promise((resolve) => server.close(resolve));
  });

  it("processesWithEnv finds a process by the marker in its environment, and only it", async () => {
    const marker = randomUUID();
    const child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], {
      env: { ...process.env, GRADCRAFT_HARNESS_ID: marker },
      stdio: "ignore",
    });
    try {
      const found = await waitFor("the child to appear", () => {
        const list = processesWithEnv("GRADCRAFT_HARNESS_ID", marker);
        return list.length > 0 ? list : undefined;
      });
      assert.deepEqual(
        found.map((p) => p.pid),
        [child.pid],
      );
      assert.deepEqual(processesWithEnv("GRADCRAFT_HARNESS_ID", randomUUID()), []);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

function captureStderr(body: () => void): string {
  const original = console.error;
  let text = "";
  console.error = (...args: unknown[]) => {
    text += `${args.join(" ")}\n`;
  };
  try {
    body();
  } finally {
    console.error = original;
  }
  return text;
}
