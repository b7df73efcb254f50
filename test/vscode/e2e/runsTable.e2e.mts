// End to end, as a user in the browser: a workspace with finished runs (trained here with the
// project's CLI: three methods and one Single run per task), F1 → Open Runs Table, a sort by test
// AUC, two rows compared through the table, then F1 → Open Hyperparameter View. Run by
// test/vscode/run.mjs against a code-server it started (GRADCRAFT_E2E_* variables); screenshots
// e2e-runs-table*.png and e2e-hyperparameter-view.png in test-artifacts/vscode/.
import * as assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe } from "node:test";
import type { Frame } from "playwright-core";
import { runShortId } from "../../../src/protocol/runIdentity";
import { launchBrowser, waitFor, workbenchUrl } from "../harness.mjs";
import { trainTinyRuns } from "./tinyRuns.mjs";
import { canvasInk, chainedSteps, requiredEnv, Workbench } from "./workbench.mjs";

const port = Number(requiredEnv("GRADCRAFT_E2E_PORT"));
const workspace = requiredEnv("GRADCRAFT_E2E_WORKSPACE");
const chromium = requiredEnv("GRADCRAFT_E2E_CHROMIUM");
const artifacts = requiredEnv("GRADCRAFT_E2E_ARTIFACTS");
const extensionPath = process.env.GRADCRAFT_E2E_EXTENSION || undefined;
const server = { port, base: `http://127.0.0.1:${port}` };
const root = join(import.meta.dirname, "..", "..", "..");
const runsFolder = join(workspace, ".gradcraft", "runs");
const TASKS = 6; // the synthetic data's tasks

/** Finished runs of the workspace's tiny config, 10 steps each: three methods and a Single run per task. */
function trainFinishedRuns(): string[] {
  const strategies: { name: string; params: Record<string, number> }[] = [
    { name: "gradcraft", params: { tau: 0.5 } },
    { name: "pcgrad", params: {} },
    { name: "ew", params: {} },
    ...Array.from({ length: TASKS }, (_, task) => ({ name: "single", params: { task } })),
  ];
  const cli = join(extensionPath ?? root, "dist", "cli.js");
  return trainTinyRuns(
    workspace,
    cli,
    strategies.map((strategy) => ({
      name: strategy.name === "single" ? `single-${strategy.params.task}` : strategy.name,
      strategy,
      maxSteps: 10,
      evalEvery: 5,
    })),
  );
}

/** The run names in the table, top to bottom, and a column's cells. */
async function column(frame: Frame, key: string): Promise<string[]> {
  return frame.$$eval(`table.runs tbody td[data-column="${key}"]`, (tds) =>
    tds.map((td) => (td.querySelector("b")?.textContent ?? td.textContent ?? "").trim()),
  );
}

const step = chainedSteps();

describe("the runs table and the hyperparameter view in the browser", { concurrency: false }, () => {
  let close: () => Promise<void>;
  let bench: Workbench;
  let table: Frame;
  let trained: string[] = [];

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    mkdirSync(runsFolder, { recursive: true });
    trained = trainFinishedRuns();
    const browser = await launchBrowser(chromium);
    close = browser.close;
    bench = new Workbench(await browser.context.newPage(), artifacts);
  });

  after(async () => {
    if (bench) await bench.screenshot("e2e-runs-last").catch(() => undefined);
    await close?.();
  });

  step("F1 → Open Runs Table lists every run of the folder, with its strategy and test metrics", async () => {
    assert.equal(trained.length, 3 + TASKS);
    await bench.open(workbenchUrl(server, { folder: workspace, extensionPath }));
    await bench.runCommand("GradCraft: Open Runs Table");
    table = await bench.webview("runs");
    const folders = readdirSync(runsFolder).length;
    await waitFor(
      "one row per run folder",
      async () => (await table.$$("table.runs tbody tr")).length === folders,
      { timeoutMs: 60_000 },
    );
    const strategies = await column(table, "strategy");
    for (const name of ["gradcraft", "pcgrad", "ew", "single"]) assert.ok(strategies.includes(name), name);
    // The runs this suite trained (other suites' runs share the folder) are called by their
    // automatic names (no run.json): the strategy and the folder's short id.
    const names = await column(table, "name");
    const dirs = await table.$$eval("table.runs tbody tr", (trs) =>
      trs.map((tr) => tr.getAttribute("data-run") as string),
    );
    const ours = dirs.flatMap((dir, i) => (trained.includes(basename(dir)) ? [i] : []));
    assert.equal(ours.length, trained.length);
    assert.deepEqual(
      ours.map((i) => names[i]),
      ours.map((i) => `${strategies[i]}-${runShortId(dirs[i])}`),
    );
    const groups = await table.$$eval("table.runs tr.groups th", (ths) => ths.map((th) => th.textContent));
    assert.ok(groups.includes("Test AUC") && groups.includes("Best validation AUC"), groups.join(" | "));
    await bench.screenshot("e2e-runs-table");
  });

  step(
    "a header click sorts the rows by test mean AUC, best first, as the run folders' summaries say",
    async () => {
      await table.click('button.sort[data-column="test.auc.mean"]');
      await table.waitForSelector('th[aria-sort="descending"] button[data-column="test.auc.mean"]');
      const shown = (await column(table, "test.auc.mean")).map((text) => text.replace("★ ", ""));
      // The summaries, read from disk, in the order the table shows the runs.
      const dirs = await table.$$eval("table.runs tbody tr", (trs) =>
        trs.map((tr) => tr.getAttribute("data-run")),
      );
      const fromDisk = dirs.map((dir) => {
        try {
          const summary = JSON.parse(readFileSync(join(dir as string, "summary.json"), "utf8"));
          return summary.splits.test?.mean.auc ?? null;
        } catch {
          return null;
        }
      });
      assert.deepEqual(
        shown,
        fromDisk.map((x: number | null) => (x === null ? "–" : x.toFixed(4))),
      );
      const values = fromDisk.filter((x: number | null): x is number => x !== null);
      assert.deepEqual(
        values,
        [...values].sort((a, b) => b - a),
        "best first",
      );
      await bench.screenshot("e2e-runs-table-sorted");
    },
  );

  step("two selected rows → Compare opens the compare tab on those runs", async () => {
    const rows = table.locator("table.runs tbody tr");
    await rows.nth(0).locator("input[type=checkbox]").check();
    await rows.nth(1).locator("input[type=checkbox]").check();
    await table.waitForSelector('button[data-action="compare"]:not([disabled])');
    await table.click('button[data-action="compare"]');
    await bench.page.locator(".tab", { hasText: "Compare:" }).first().waitFor({ timeout: 60_000 });
    const compare = await bench.webview("dashboard");
    await waitFor(
      "the compare tab's charts drawn",
      async () => (await canvasInk(compare)).some((c) => c.inked > 400),
      { timeoutMs: 60_000 },
    );
    await bench.screenshot("e2e-runs-table-compare");
  });

  step("F1 → Open Hyperparameter View: the methods against Single, RI given, the chart drawn", async () => {
    await bench.runCommand("GradCraft: Open Hyperparameter View");
    table = await bench.webview("runs");
    await table.waitForSelector("table.methods tbody tr");
    const rows = await table.$$eval("table.methods tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent ?? "")),
    );
    const single = rows.find((r) => r[0].startsWith("Single"));
    assert.ok(single, `a Single point from the ${TASKS} single runs: ${JSON.stringify(rows)}`);
    // The methods this suite trained on the Single runs' tasks; other suites' runs in the same
    // workspace (the PyTorch example's, on other tasks) rightly have no RI.
    const ours = rows.filter((r) => ["gradcraft", "pcgrad", "ew"].includes(r[1]));
    assert.ok(ours.length >= 3, `the three methods trained here: ${JSON.stringify(rows)}`);
    assert.ok(
      ours.every((r) => /^[+-]\d+\.\d\d %$/.test(r[4])),
      `every method has an RI: ${JSON.stringify(rows)}`,
    );
    const ink = await canvasInk(table);
    assert.ok(
      ink.some((c) => c.label === "Hyperparameter view" && c.colours >= 3),
      JSON.stringify(ink),
    );
    await table.locator('[data-card="hyper"]').scrollIntoViewIfNeeded();
    await bench.screenshot("e2e-hyperparameter-view");
  });
});
