import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseParamPairs, runCombine } from "../../../src/cli/combine";

/** Runs the command in-process on an input document; returns exit code and captured streams. */
function run(strategy: string, input: unknown, param: string[] = []) {
  let stdout = "";
  let stderr = "";
  const code = runCombine(
    { strategy, param, input: "grads.json" },
    {
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
      readInput: (path) => {
        if (input instanceof Error) throw input;
        assert.equal(path, "grads.json");
        return typeof input === "string" ? input : JSON.stringify(input);
      },
    },
  );
  return { code, stdout, stderr };
}

function expectUsageError(result: ReturnType<typeof run>, pattern: RegExp) {
  assert.equal(result.code, 2);
  assert.equal(result.stdout, "");
  assert.match(result.stderr, pattern);
  assert.equal(result.stderr.trim().split("\n").length, 1, "one line on stderr");
  assert.match(result.stderr, /^gradcraft combine: /);
}

describe("gradcraft combine", () => {
  it("prints weights, the update Σ α_t g_t and the statistics as one JSON object", () => {
    const result = run("ew", {
      grads: [
        [2, 0, 1],
        [0, 4, 1],
      ],
    });
    assert.equal(result.code, 0);
    assert.equal(result.stderr, "");
    const output = JSON.parse(result.stdout);
    assert.deepEqual(output.weights, [0.5, 0.5]);
    assert.deepEqual(output.update, [1, 2, 1]);
    assert.deepEqual(output.stats.norms, [Math.sqrt(5), Math.sqrt(17)]);
    assert.equal(output.stats.conflictingPairs, 0);
  });

  it("passes parameters to the strategy and losses to loss-based ones (tower weights included)", () => {
    const grads = [
      [1, 0],
      [-1, 1],
    ];
    const output = JSON.parse(
      run("uw", { grads, losses: [0.5, 2] }, ["initialLogVariance=0", "optimizer=sgd"]).stdout,
    );
    assert.deepEqual(output.weights, [0.5, 0.5]);
    assert.deepEqual(output.towerWeights, [0.5, 0.5]);
    const nash = JSON.parse(run("nash-mtl", { grads }, ["maxNorm=0"]).stdout);
    // The bargaining equation holds: α_t (Gα)_t = 1.
    const gram = [1, -1, -1, 2];
    for (let t = 0; t < 2; t++) {
      const product = gram[2 * t] * nash.weights[0] + gram[2 * t + 1] * nash.weights[1];
      assert.ok(Math.abs(nash.weights[t] * product - 1) < 1e-9);
    }
  });

  it("reads parameter values as JSON, falling back to bare strings", () => {
    assert.deepEqual(
      parseParamPairs(["tau=0.5", "local=true", "orders=[[1,0]]", "name=sgd", 'q="x"', "n=null"]),
      {
        tau: 0.5,
        local: true,
        orders: [[1, 0]],
        name: "sgd",
        q: "x",
        n: null,
      },
    );
    assert.throws(() => parseParamPairs(["tau"]), /key=value/);
    assert.throws(() => parseParamPairs(["tau=1", "tau=2"]), /twice/);
  });

  it("ragged rows, non-numbers, an unknown strategy or parameter, a bad value: one line, exit 2", () => {
    const grads = [
      [1, 0],
      [0, 1],
    ];
    expectUsageError(run("ew", { grads: [[1, 2], [3]] }), /grads\[1\] has 1 values.*equal length/);
    expectUsageError(
      run("ew", {
        grads: [
          [1, "x"],
          [3, 4],
        ],
      }),
      /grads\[0\]\[1\] \(task 0\) is "x", not a number/,
    );
    expectUsageError(run("ew", { grads: [] }), /non-empty array/);
    expectUsageError(run("ew", { grads: [[]] }), /non-empty/);
    expectUsageError(run("ew", { rows: grads }), /"grads"/);
    expectUsageError(run("no-such", { grads }), /unknown strategy "no-such" \(known: .*upgrad/);
    expectUsageError(run("uw", { grads }, ["nope=1"]), /unknown parameter "nope" for strategy "uw"/);
    expectUsageError(run("uw", { grads }, ["lr=-1"]), /parameter "lr"/);
    expectUsageError(run("uw", { grads, losses: [1, "two"] }), /losses\[1\] \(task 1\)/);
    expectUsageError(run("uw", { grads, losses: [1] }), /losses/);
  });

  it("an unreadable file or invalid JSON: one line, exit 2", () => {
    expectUsageError(run("ew", new Error("ENOENT: no such file")), /cannot read --input grads.json: ENOENT/);
    expectUsageError(run("ew", "{grads: [1,"), /not valid JSON/);
  });

  it("runs as `gradcraft combine` from the command line with exit codes 0 and 2", () => {
    const dir = mkdtempSync(join(tmpdir(), "gradcraft-combine-"));
    const file = join(dir, "grads.json");
    writeFileSync(file, JSON.stringify({ grads: [[3, 4]] }));
    const cli = join(import.meta.dirname, "../../../src/cli/main.ts");
    const ok = spawnSync(
      process.execPath,
      ["--import", "tsx", cli, "combine", "--strategy", "upgrad", "--input", file],
      {
        encoding: "utf8",
      },
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(JSON.parse(ok.stdout).update, [3, 4]);
    const bad = spawnSync(
      process.execPath,
      ["--import", "tsx", cli, "combine", "--strategy", "upgrad", "--input", join(dir, "missing.json")],
      {
        encoding: "utf8",
      },
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^gradcraft combine: cannot read --input/);
    const usage = spawnSync(process.execPath, ["--import", "tsx", cli, "combine", "--input", file], {
      encoding: "utf8",
    });
    assert.equal(usage.status, 2, "a missing --strategy is a usage error");
  });
});
