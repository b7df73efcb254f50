import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { benchBaseConfig, runBenchQuality } from "../../../src/cli/bench-quality";
import { type RunRecord, resolveBudget } from "../../../src/trainer/quality";
import { captureIo } from "./helpers";
import { handMade } from "./qualityFixtures";

/** `gradcraft bench quality` as a user runs it: flags, errors, --merge, the printed and written reports. */

describe("gradcraft bench quality (CLI)", () => {
  const io = captureIo;

  test("the preset and the flags become one resolved config, parsed once for the whole command", () => {
    const { config, name } = benchBaseConfig({
      dataset: "quick",
      seeds: 1,
      out: "x",
      rows: 500,
      scope: "representation",
    });
    assert.equal(name, "quick");
    assert.equal(config.data.source === "synthetic" && config.data.rows, 500);
    assert.equal(config.training.gradientScope, "representation");
    assert.equal(config.backend, "auto");
    // Resolved: defaults filled in, so the budget and the runs read it without parsing again.
    assert.equal(typeof config.training.batchSize, "number");
    assert.deepEqual(resolveBudget(config.training, { maxSteps: 7 }).maxSteps, 7);
    assert.equal(resolveBudget(config.training).epochs, config.training.epochs);
    assert.throws(
      () => benchBaseConfig({ dataset: "quick", seeds: 1, out: "x", rows: -3 }),
      /invalid settings: data\.rows/,
    );
  });

  test("bad input exits 2 and says which flag and why", async () => {
    const a = io();
    assert.equal(
      await runBenchQuality({ dataset: "quick", seeds: 1, out: "x", strategies: "ew,nope" }, a.io),
      2,
    );
    assert.match(a.err.join(""), /unknown strategy "nope"/);
    const b = io();
    assert.equal(await runBenchQuality({ dataset: "kuairand", seeds: 1, out: "x", rows: 100 }, b.io), 2);
    assert.match(b.err.join(""), /--rows applies to synthetic datasets only/);
    const c = io();
    assert.equal(await runBenchQuality({ dataset: "imagenet", seeds: 1, out: "x" }, c.io), 2);
    assert.match(c.err.join(""), /--dataset: unknown dataset "imagenet"/);
    const d = io();
    assert.equal(await runBenchQuality({ dataset: "quick", seeds: 1, out: "x", shard: "3/2" }, d.io), 2);
    assert.match(d.err.join(""), /--shard: expected i\/n with 1 ≤ i ≤ n \(e.g. 1\/2\), got "3\/2"/);
  });

  test("--merge joins shard reports into one table and names a seed left out", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quality-merge-"));
    try {
      const { entries, runs } = handMade();
      const shard = (name: string, part: RunRecord[]) => {
        const path = join(dir, name);
        const report = {
          command: `gradcraft bench quality --shard ${name}`,
          date: "2026-11-29T02:00:00.000Z",
          machine: "test",
          node: "v20",
          dataset: "hand-made",
          entries,
          complete: false,
          taskNames: ["a", "b"],
          seeds: [1, 2],
          budget: { epochs: 1, evalEvery: 5, patience: 2, maxSteps: 10 },
          backend: "cpu",
          rows: [],
          runs: part,
          wallMs: 1000,
        };
        writeFileSync(path, JSON.stringify(report));
        return path;
      };
      // Seed 2 lacks EW's run.
      const files = [shard("a.json", runs.slice(0, 3)), shard("b.json", [runs[3], runs[4]])];
      const a = io();
      const code = await runBenchQuality({ dataset: "quick", seeds: 1, out: dir, merge: files }, a.io, [
        "node",
        "gradcraft",
        "bench",
        "quality",
        "--merge",
      ]);
      assert.equal(code, 0, a.err.join(""));
      assert.match(
        a.out.join(""),
        /Test AUC \(hand-made; mean ± std over 1 seed\) \(INCOMPLETE: runs missing\)/,
      );
      assert.match(a.out.join(""), /^ew\s+\.8800\s+\.5500\s+\.7150\s+\+10\.00%$/m);
      const markdown = readFileSync(join(dir, "quality-hand-made.md"), "utf8");
      assert.match(markdown, /Seed 2 is left out of the tables: 2 of its 3 runs finished/);
      assert.match(
        markdown,
        /gradcraft bench quality --shard a\.json ; gradcraft bench quality --shard b\.json ; then gradcraft bench quality --merge/,
      );
      const bad = io();
      assert.equal(
        await runBenchQuality(
          { dataset: "quick", seeds: 1, out: dir, merge: [join(dir, "none.json")] },
          bad.io,
        ),
        2,
      );
      assert.match(bad.err.join(""), /--merge: cannot read .*none\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("prints both tables, writes JSON and Markdown, shows progress lines", async () => {
    const dir = mkdtempSync(join(tmpdir(), "quality-cli-"));
    try {
      const a = io();
      const code = await runBenchQuality(
        {
          dataset: "quick",
          seeds: 1,
          out: dir,
          strategies: "ew",
          rows: 1500,
          maxSteps: 1,
          evalEvery: 1,
          backend: "cpu",
        },
        a.io,
        ["node", "gradcraft", "bench", "quality", "--dataset", "quick"],
      );
      assert.equal(code, 0, a.err.join(""));
      const stdout = a.out.join("");
      assert.match(stdout, /Test AUC \(quick; mean ± std over 1 seed\)/);
      assert.match(stdout, /^ew\s+(\.\d{4}\s+){7}[+-]\d+\.\d\d%$/m);
      assert.match(a.err.join(""), /\[7\/7\] ew seed 1: (completed|early-stopped) after 1 steps/);
      const json = JSON.parse(readFileSync(join(dir, "quality-quick.json"), "utf8"));
      assert.equal(json.command, "gradcraft bench quality --dataset quick");
      assert.deepEqual(
        json.rows.map((r: { label: string }) => r.label),
        ["single", "ew"],
      );
      const markdown = readFileSync(join(dir, "quality-quick.md"), "utf8");
      assert.match(markdown, /\| strategy \| effective_view \|/);
      assert.match(markdown, /\| single \[like\] \| 1 \|/);

      // A row added later: the measured runs are taken from the report, only DWA trains.
      const flags = {
        dataset: "quick" as const,
        seeds: 1,
        out: join(dir, "more"),
        rows: 1500,
        maxSteps: 1,
        evalEvery: 1,
        backend: "cpu",
      };
      const first = join(dir, "quality-quick.json");
      const b = io();
      assert.equal(
        await runBenchQuality({ ...flags, strategies: "ew,dwa", reuse: [first] }, b.io),
        0,
        b.err.join(""),
      );
      assert.match(b.err.join(""), /\[1\/1\] dwa seed 1: (completed|early-stopped)/);
      assert.doesNotMatch(b.err.join(""), /single \[task \d\] seed 1: started|\] ew seed 1: started/);
      const extended = JSON.parse(readFileSync(join(dir, "more", "quality-quick.json"), "utf8"));
      assert.deepEqual(
        extended.rows.map((r: { label: string }) => r.label),
        ["single", "ew", "dwa"],
      );
      assert.equal(extended.complete, true);
      const measured = (report: { runs: RunRecord[] }) => report.runs.filter((r) => r.label !== "dwa");
      assert.deepEqual(measured(extended), measured(json), "reused runs are the report's, not new ones");
      // Another budget is another plan; and the report reused is never written over.
      const c = io();
      assert.equal(
        await runBenchQuality({ ...flags, maxSteps: 2, strategies: "ew", reuse: [first] }, c.io),
        2,
      );
      assert.match(c.err.join(""), /--reuse: cannot reuse report 1: it has a different budget/);
      const d = io();
      assert.equal(await runBenchQuality({ ...flags, out: dir, strategies: "ew", reuse: [first] }, d.io), 2);
      assert.match(d.err.join(""), /is where this run writes its report; pick another --out/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
