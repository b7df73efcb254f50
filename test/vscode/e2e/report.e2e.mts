// End to end, as a user in the browser: a finished run (trained here with the project's CLI),
// F1 → GradCraft: Export Report..., the run picked, the proposed file name accepted in the save
// dialog, then the saved file opened in Chromium from file:// with every network request refused,
// as the colleague it was sent to would open it. Run by test/vscode/run.mjs against a code-server
// it started (GRADCRAFT_E2E_* variables); screenshots e2e-report-saved.png and
// e2e-report-opened.png in test-artifacts/vscode/.
import * as assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import { pathToFileURL } from "node:url";
import type { Page } from "playwright-core";
import { launchBrowser, waitFor, workbenchUrl } from "../harness.mjs";
import { trainTinyRuns } from "./tinyRuns.mjs";
import { chainedSteps, chartsDrawn, requiredEnv, Workbench } from "./workbench.mjs";

const port = Number(requiredEnv("GRADCRAFT_E2E_PORT"));
const workspace = requiredEnv("GRADCRAFT_E2E_WORKSPACE");
const chromium = requiredEnv("GRADCRAFT_E2E_CHROMIUM");
const artifacts = requiredEnv("GRADCRAFT_E2E_ARTIFACTS");
const extensionPath = process.env.GRADCRAFT_E2E_EXTENSION || undefined;
const server = { port, base: `http://127.0.0.1:${port}` };
const root = join(import.meta.dirname, "..", "..", "..");
const runsFolder = join(workspace, ".gradcraft", "runs");

/** One finished run of the workspace's tiny config (20 steps, evaluated every 10), its folder. */
function trainFinishedRun(): string {
  const cli = join(extensionPath ?? root, "dist", "cli.js");
  const run = { name: "reported", strategy: { name: "pcgrad", params: {} }, maxSteps: 20, evalEvery: 10 };
  return join(runsFolder, trainTinyRuns(workspace, cli, [run])[0]);
}

const reports = () => readdirSync(workspace).filter((n) => n.endsWith("-report.html"));

const step = chainedSteps();

describe("report export opened in Chromium", { concurrency: false }, () => {
  let close: () => Promise<void>;
  let bench: Workbench;
  let runDir = "";
  let reportPath = "";

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    mkdirSync(runsFolder, { recursive: true });
    runDir = trainFinishedRun();
    const browser = await launchBrowser(chromium);
    close = browser.close;
    bench = new Workbench(await browser.context.newPage(), artifacts);
  });

  after(async () => {
    if (bench) await bench.screenshot("e2e-report-last").catch(() => undefined);
    await close?.();
  });

  step("F1 → Export Report..., a finished run picked: the report is saved beside the workspace", async () => {
    const earlier = new Set(reports());
    await bench.open(workbenchUrl(server, { folder: workspace, extensionPath }));
    await bench.runCommand("GradCraft: Export Report...");
    // A pick of one or more runs: this run's row (its folder is the item's detail), then OK.
    const folder = runDir.split("/").pop() ?? "";
    await bench.pick(folder);
    await bench.page.keyboard.press("Enter");
    // The save dialog (code-server's own, a path in the quick input) proposes <run>-report.html.
    const input = bench.page.locator(".quick-input-widget input.input");
    await waitFor("the save dialog to propose a report file", async () =>
      /-report\.html$/.test(await input.inputValue().catch(() => "")),
    );
    const proposed = await input.inputValue();
    assert.ok(!proposed.includes("/.gradcraft/"), `proposed inside the runs folder: ${proposed}`);
    await bench.page.keyboard.press("Enter");
    const written = await waitFor(
      "the report file in the workspace",
      async () => reports().find((n) => !earlier.has(n) && statSync(join(workspace, n)).size > 100_000),
      { timeoutMs: 60_000 },
    );
    reportPath = join(workspace, written);
    // The toast, or once it has gone, the notification centre that keeps it.
    const saved = (text: string) => text.includes(written) && text.includes("Open in Browser");
    const toast = await waitFor(
      "the Saved toast",
      async () => {
        const text = await bench.notificationsText();
        return saved(text) ? text : undefined;
      },
      { timeoutMs: 10_000 },
    ).catch(() => undefined);
    await bench.screenshot("e2e-report-saved");
    let notice = toast;
    if (!notice) {
      await bench.runCommand("Notifications: Show Notifications");
      const center = bench.page.locator(".notifications-center");
      notice = await waitFor("the Saved notice in the notification centre", async () => {
        const text = ((await center.textContent()) ?? "").replace(/\s+/g, " ");
        return saved(text) ? text : undefined;
      });
      await bench.screenshot("e2e-report-saved");
    }
    assert.match(notice, /Reveal/);
  });

  step(
    "the saved file opens in Chromium offline: charts drawn, the test table as summary.json says",
    async () => {
      const page: Page = await bench.page.context().newPage();
      const requests: string[] = [];
      const errors: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      page.on("pageerror", (e) => errors.push(String(e)));
      await page.route("**/*", (route) =>
        route.request().url().startsWith("file:") ? route.continue() : route.abort("blockedbyclient"),
      );
      await page.setViewportSize({ width: 1400, height: 1000 });
      const url = pathToFileURL(reportPath).href;
      await page.goto(url);
      await page.waitForSelector('[data-card="report"] .report-timeline li');
      assert.deepEqual(errors, []);
      assert.deepEqual(
        requests.filter((u) => u !== url && !/^(data|blob):/.test(u)),
        [],
        "the report asked for something outside its file",
      );

      const summary = JSON.parse(readFileSync(join(runDir, "summary.json"), "utf8"));
      const where = (await page.textContent(".report-where")) ?? "";
      assert.ok(where.startsWith(`Finished at step ${summary.steps} `), where);
      const timeline = await page.$$eval(".report-timeline li", (lis) =>
        lis.map((li) => li.textContent ?? ""),
      );
      assert.match(timeline[0], /^step 0 started with pcgrad\b/, timeline.join(" | "));
      assert.equal(
        await page.locator('.report-config [data-setting="training.maxSteps"] .value').textContent(),
        "20",
      );

      await page.locator('[data-card="eval-table"]').scrollIntoViewIfNeeded();
      await page.selectOption("#eval-split", "test");
      await page.waitForFunction(
        () =>
          document.querySelector('[data-card="eval-table"] caption')?.textContent === "Evaluation on test",
      );
      const shown = await page.$$eval('[data-card="eval-table"] tbody tr:not(.mean)', (trs) =>
        trs.map((tr) => [
          tr.querySelector("th")?.textContent ?? "",
          tr.querySelector("td")?.firstChild?.textContent ?? "",
        ]),
      );
      const test = summary.splits.test.tasks as { task: string; auc: number }[];
      assert.deepEqual(
        shown,
        test.map((t) => [t.task, t.auc.toFixed(4)]),
      );

      const drawn = await chartsDrawn(page.mainFrame(), 4);
      assert.ok(drawn.length >= 4, drawn.join(", "));
      await page.setViewportSize({ width: 1400, height: 2600 });
      await page.waitForTimeout(500);
      await page.screenshot({ path: join(artifacts, "e2e-report-opened.png"), fullPage: true });
      await page.close();
    },
  );
});
