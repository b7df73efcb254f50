import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, mock, test } from "node:test";
import { formatSummary } from "../../../src/cli/replay";
import { resultsTable, runTrain } from "../../../src/cli/train";
import { evaluateTasks } from "../../../src/core/metrics";
import { type EvalMessage, RunSummary } from "../../../src/protocol/messages";
import { toSplitMetrics } from "../../../src/trainer/evaluate";

describe("data without a user column: GAUC is not applicable, never 0 or NaN", () => {
  test("evaluateTasks without users gives no GAUC and says it does not apply", () => {
    const m = evaluateTasks([1, 0, 0, 1], [0.9, 0.2, 0.3, 0.6], null, 1);
    assert.equal(m.gaucApplicable, false);
    assert.ok(Number.isNaN(m.tasks[0].gauc) && m.tasks[0].auc === 1);
  });

  test("the split's metrics say so on the wire, and the CLI table prints n/a with the reason", () => {
    const metrics = toSplitMetrics(evaluateTasks([1, 0, 0, 1], [0.9, 0.2, 0.3, 0.6], null, 1), ["click"]);
    assert.equal(metrics.gaucApplicable, false);
    assert.equal(metrics.tasks[0].gauc, null);
    const applicable = toSplitMetrics(evaluateTasks([1, 0, 0, 1], [0.9, 0.2, 0.3, 0.6], [0, 0, 1, 1], 1), [
      "click",
    ]);
    assert.equal("gaucApplicable" in applicable, false);
    const summary = {
      steps: 1,
      epochs: 0,
      wallMs: 1,
      bestStep: 1,
      strategy: "ew",
      splits: { test: metrics },
    };
    const table = resultsTable(summary);
    assert.match(table, /^click\s+1\.0000\s+n\/a\s+\d\.\d{4}$/m);
    assert.match(table, /GAUC n\/a: the data has no user column/);
  });
  test("a run's eval messages, summary.json, the CLI table and the summary command all say n/a", async () => {
    const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-no-users-"));
    // A header-less file: two categorical columns that carry the signal, a text label, no user.
    let s = 5;
    const next = () => {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      return s / 4294967296;
    };
    const lines = Array.from({ length: 600 }, () => {
      const a = Math.floor(next() * 6);
      const b = Math.floor(next() * 4);
      return `${a}, ${b}, ${next() < 0.15 + 0.12 * a ? "yes" : "no"}, ${next() < 0.2 + 0.15 * b ? 1 : 0}`;
    });
    fs.writeFileSync(join(dir, "plain.data"), `${lines.join("\n")}\n`);
    const config = join(dir, "plain.gradcraft.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        name: "no-users",
        backend: "cpu",
        data: {
          source: "file",
          path: "plain.data",
          columns: ["a", "b", "answer", "clicked"],
          trim: true,
          features: ["a", "b"],
          labels: [{ column: "answer", positive: ["yes"], negative: ["no"] }, "clicked"],
        },
        model: { type: "mmoe", embeddingDim: 4, experts: [8], towers: [4], numExperts: 2 },
        training: { batchSize: 64, maxSteps: 6, evalEvery: 3 },
        strategy: { name: "ew" },
      }),
    );
    const out = join(dir, "runs");
    const stdout = mock.method(process.stdout, "write", () => true);
    const stderr = mock.method(process.stderr, "write", () => true);
    let code: number;
    try {
      code = await runTrain(config, { out });
    } finally {
      stdout.mock.restore();
      stderr.mock.restore();
    }
    assert.equal(code, 0);
    const printed = stdout.mock.calls.map((c) => String(c.arguments[0])).join("");
    const runDir = join(out, fs.readdirSync(out)[0]);
    const summary = RunSummary.parse(JSON.parse(fs.readFileSync(join(runDir, "summary.json"), "utf8")));
    for (const split of ["validation", "test"] as const) {
      const metrics = summary.splits[split];
      assert.ok(metrics);
      assert.equal(metrics.gaucApplicable, false, split);
      assert.ok(
        [...metrics.tasks, metrics.mean].every((m) => m.gauc === null),
        split,
      );
      assert.ok(
        metrics.tasks.every((m) => typeof m.auc === "number"),
        "AUC still reported",
      );
    }
    const evals = fs
      .readFileSync(join(runDir, "events.ndjson"), "utf8")
      .split("\n")
      .filter((line) => line.includes('"type":"eval"'))
      .map((line) => JSON.parse(line) as EvalMessage);
    assert.ok(evals.length > 0 && evals.every((e) => e.gaucApplicable === false));
    // The CLI's results table: n/a in every GAUC cell, and why, never "0.0000" or "NaN".
    const table = resultsTable(summary);
    assert.equal(
      table,
      printed.slice(printed.indexOf("test split"), printed.indexOf("test split") + table.length),
    );
    const rows = table.split("\n").filter((line) => /^(answer|clicked|mean) /.test(line));
    assert.equal(rows.length, 3);
    for (const row of rows) assert.match(row, /^\S+\s+\d\.\d{4}\s+n\/a\s+\d\.\d{4}$/);
    assert.match(table, /GAUC n\/a: the data has no user column/);
    assert.doesNotMatch(table, /NaN/);
    const text = formatSummary(summary, { name: "no-users", status: "completed", from: "summary" });
    assert.match(text, /GAUC n\/a: the data has no user column/);
    assert.doesNotMatch(text, /NaN|GAUC\s+0\.0000/);
  });
});
