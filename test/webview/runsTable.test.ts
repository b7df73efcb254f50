import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { hyperData } from "../../src/panel/hyperView";
import { type RunRow, runRow } from "../../src/panel/runRows";
import type { HostToRunsPage } from "../../src/panel/runsMessages";
import { TrainingConfig } from "../../src/protocol/config";
import { type SplitMetrics, type TrainerMessage, PROTOCOL_VERSION as v } from "../../src/protocol/messages";
import { runIdentity } from "../../src/protocol/runIdentity";
import type { RunInfo } from "../../src/protocol/runlog";
import { chromiumArgs } from "../provision.mjs";
import { pageHtml, type ThemeName } from "./themes";

/**
 * The runs page (dist/runs.js) in Chromium: rows from the real row functions, drawn, sorted by a
 * header click both ways, filtered, selected for an action; the hyperparameter view's table and
 * chart. Screenshots: test-artifacts/webview/runs-table-*.png, runs-hyper-light.png.
 */

const root = join(import.meta.dirname, "..", "..");
const artifacts = join(root, "test-artifacts", "webview");
const bundle = readFileSync(join(root, "dist", "runs.js"), "utf8");
const TASKS = ["click", "like"];

function split(auc: number[]): SplitMetrics {
  const tasks = TASKS.map((task, t) => ({ task, auc: auc[t], gauc: auc[t] - 0.05, logloss: 0.4 + t / 10 }));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  return { tasks, mean: { auc: mean(auc), gauc: mean(auc) - 0.05, logloss: 0.45 } };
}

/** A finished run's row as the host builds it: its folder's info and its log's messages. */
function row(
  name: string,
  strategy: { name: string; params?: Record<string, unknown> },
  testAuc: number[] | null,
  extra: { tags?: string[]; status?: RunInfo["status"]; messages?: TrainerMessage[] } = {},
): RunRow {
  const dir = `/ws/.gradcraft/runs/20261203-1200${name.length}0-${name}`;
  const info: RunInfo = {
    dir,
    name,
    startedAt: "2026-12-03T12:00:00.000Z",
    strategy: strategy.name,
    steps: 100,
    status: extra.status ?? "completed",
    tasks: TASKS,
    summary: testAuc
      ? {
          steps: 100,
          wallMs: 5000,
          bestStep: 80,
          splits: { validation: split(testAuc.map((x) => x + 0.01)), test: split(testAuc) },
        }
      : null,
    problems: [],
    identity: runIdentity(dir, strategy.name, { name, tags: extra.tags }),
  };
  const config = TrainingConfig.parse({
    name,
    strategy,
    data: { source: "synthetic", rows: 1000 },
    training: { learningRate: 0.001 },
  });
  return runRow(info, [{ v, type: "config", config }, ...(extra.messages ?? [])]);
}

const ROWS = [
  row("alpha", { name: "gradcraft", params: { tau: 0.5 } }, [0.7, 0.6], { tags: ["baseline"] }),
  row("bravo", { name: "pcgrad" }, [0.73, 0.59]),
  row("charlie", { name: "ew" }, [0.69, 0.62], {
    messages: [
      { v, type: "hyper-changed", step: 50, changes: [{ name: "learningRate", from: 0.001, to: 0.0005 }] },
    ],
  }),
  row("delta", { name: "mgda" }, null, { status: "interrupted" }),
  row("single0", { name: "single", params: { task: 0 } }, [0.68, 0.5]),
  row("single1", { name: "single", params: { task: 1 } }, [0.5, 0.59]),
];
const id = (name: string) => ROWS.find((r) => r.name === name)?.id as string;

describe("runs page in Chromium", () => {
  let browser: Browser;
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({
      executablePath: process.env.GRADCRAFT_CHROMIUM ?? "/usr/bin/chromium",
      args: chromiumArgs,
    });
  });
  after(async () => browser?.close());

  async function open(theme: ThemeName) {
    const page = await browser.newPage({ viewport: { width: 1500, height: 1300 }, deviceScaleFactor: 1 });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.route("http://panel.test/**", (route) =>
      route.request().url().endsWith("/runs.js")
        ? route.fulfill({ body: bundle, contentType: "text/javascript" })
        : route.fulfill({ body: pageHtml(theme, "runs", "runs.js"), contentType: "text/html" }),
    );
    await page.goto("http://panel.test/index.html");
    await page.waitForFunction(() => (window as unknown as Page_).__posted.some((m) => m.type === "ready"));
    await send(page, { type: "runs", rows: ROWS, hyper: hyperData(ROWS), runsFolder: "/ws/.gradcraft/runs" });
    await page.waitForFunction(
      (n) => document.querySelectorAll("table.runs tbody tr").length === n,
      ROWS.length,
    );
    return { page, errors };
  }

  it("draws one row per run, sorts by a metric column both ways (missing last), filters, and asks for an action on the selection", async () => {
    const { page, errors } = await open("light");
    const groups = await page.$$eval("table.runs tr.groups th", (ths) => ths.map((th) => th.textContent));
    assert.ok(groups.includes("Best validation AUC") && groups.includes("Test AUC"), groups.join(" | "));

    const names = () =>
      page.$$eval("table.runs tbody td[data-column=name] b", (bs) => bs.map((b) => b.textContent));
    const sortBy = async (column: string) => {
      await page.click(`button.sort[data-column="${column}"]`);
      await page.waitForFunction(
        (c) => !!document.querySelector(`th[aria-sort] button[data-column="${c}"]`),
        column,
      );
    };
    // Test mean AUC: bravo .66, charlie .655, alpha .65, single0 .59, single1 .545, delta none.
    await sortBy("test.auc.mean");
    assert.deepEqual(await names(), ["bravo", "charlie", "alpha", "single0", "single1", "delta"]);
    assert.equal(
      await page.getAttribute('th:has(button[data-column="test.auc.mean"])', "aria-sort"),
      "descending",
    );
    await page.click('button.sort[data-column="test.auc.mean"]');
    await page.waitForFunction(() => document.querySelector("th[aria-sort=ascending]"));
    assert.deepEqual(await names(), ["single1", "single0", "alpha", "charlie", "bravo", "delta"]);
    await page.screenshot({ path: join(artifacts, "runs-table-light.png") });

    const best = await page.textContent(`tr[data-run="${id("bravo")}"] td[data-column="test.auc.mean"]`);
    assert.match(best ?? "", /^★ 0\.6600$/);
    const lr = page.locator(`tr[data-run="${id("charlie")}"] td[data-column="hyper.learningRate"]`);
    assert.equal(await lr.textContent(), "0.001 → 5.0e-4");
    assert.equal(await lr.getAttribute("title"), "step 50: learningRate 0.001 → 5.0e-4");

    await page.fill("#runs-filter", "tag:baseline");
    await page.waitForFunction(() => document.querySelectorAll("table.runs tbody tr").length === 1);
    assert.deepEqual(await names(), ["alpha"]);
    assert.match((await page.textContent(".runs-toolbar [aria-live]")) ?? "", /^1 of 6 runs/);
    await page.fill("#runs-filter", "");
    await page.waitForFunction(
      (n) => document.querySelectorAll("table.runs tbody tr").length === n,
      ROWS.length,
    );

    assert.equal(await page.isDisabled('button[data-action="compare"]'), true, "nothing selected yet");
    await page.check(`tr[data-run="${id("alpha")}"] input[type=checkbox]`);
    await page.waitForFunction(() => document.querySelectorAll("tr.selected").length === 1);
    assert.equal(await page.isDisabled('button[data-action="compare"]'), true, "compare needs two");
    await page.check(`tr[data-run="${id("bravo")}"] input[type=checkbox]`);
    await page.waitForFunction(() => document.querySelectorAll("tr.selected").length === 2);
    await page.click('button[data-action="compare"]');
    const actions = (await posted(page)).filter((m) => m.type === "run-action");
    assert.deepEqual(actions, [{ type: "run-action", action: "compare", ids: [id("alpha"), id("bravo")] }]);

    await page.selectOption("#runs-metric", "gauc");
    await page.waitForFunction(() =>
      [...document.querySelectorAll("table.runs tr.groups th")].some((th) => th.textContent === "Test GAUC"),
    );
    await page.screenshot({ path: join(artifacts, "runs-table-light-gauc.png") });
    assert.deepEqual(errors, []);
  });

  it("a run on data without a user column shows n/a in its GAUC cells, with why on hover", async () => {
    const { page, errors } = await open("light");
    const noUsers = (metrics: SplitMetrics): SplitMetrics => ({
      tasks: metrics.tasks.map((t) => ({ ...t, gauc: null })),
      mean: { ...metrics.mean, gauc: null },
      gaucApplicable: false,
    });
    const bravo = ROWS.find((r) => r.name === "bravo") as RunRow;
    const rows = ROWS.map((r) =>
      r === bravo && r.test ? { ...r, test: { ...r.test, metrics: noUsers(r.test.metrics) } } : r,
    );
    await send(page, { type: "runs", rows, hyper: hyperData(rows), runsFolder: "/ws/.gradcraft/runs" });
    await page.selectOption("#runs-metric", "gauc");
    const cell = page.locator(`tr[data-run="${id("bravo")}"] td[data-column="test.gauc.mean"]`);
    await cell.waitFor();
    assert.equal(await cell.textContent(), "n/a");
    assert.match((await cell.getAttribute("title")) ?? "", /no user column/);
    const other = page.locator(`tr[data-run="${id("alpha")}"] td[data-column="test.gauc.mean"]`);
    assert.match((await other.textContent()) ?? "", /^(★ )?0\.\d{4}$/, "other runs keep their GAUC");
    assert.deepEqual(errors, []);
  });

  it("the hyperparameter view: runs by AV AUC with RI against the Single runs, the chart drawn", async () => {
    const { page, errors } = await open("dark");
    await send(page, { type: "focus", section: "hyper" });
    const rows = await page.$$eval("table.methods tbody tr", (trs) =>
      trs.map((tr) => [...tr.querySelectorAll("td")].map((td) => td.textContent)),
    );
    // Single: AV = mean(0.68, 0.59); bravo's RI = mean((0.73 − 0.68)/0.68, (0.59 − 0.59)/0.59).
    const ri = (((0.73 - 0.68) / 0.68 + 0) / 2) * 100;
    assert.deepEqual(
      rows.map((r) => r[0]),
      ["bravo", "charlie", "alpha", "Single (2 runs)"],
    );
    assert.equal(rows[0][2], "0.6600");
    assert.equal(rows[0][4], `+${ri.toFixed(2)} %`);
    assert.equal(rows[3][2], ((0.68 + 0.59) / 2).toFixed(4));
    const ink = await page.$eval('[data-card="hyper"] canvas', (canvas) => {
      const c = canvas as HTMLCanvasElement;
      const data = c.getContext("2d")?.getImageData(0, 0, c.width, c.height).data ?? new Uint8ClampedArray();
      const colours = new Set<string>();
      for (let i = 0; i < data.length; i += 4)
        colours.add(`${data[i] >> 4},${data[i + 1] >> 4},${data[i + 2] >> 4}`);
      return colours.size;
    });
    assert.ok(ink > 8, `the chart is drawn in several colours (${ink})`);
    await page.screenshot({ path: join(artifacts, "runs-table-dark.png") });
    await page.locator('[data-card="hyper"]').screenshot({ path: join(artifacts, "runs-hyper-dark.png") });
    assert.deepEqual(errors, []);
  });
});

type Page_ = { __posted: { type: string }[] };

async function send(page: Page, message: HostToRunsPage): Promise<void> {
  await page.evaluate((m) => window.postMessage(m, "*"), JSON.parse(JSON.stringify(message)));
}

async function posted(page: Page): Promise<Record<string, unknown>[]> {
  return page.evaluate(() => (window as unknown as { __posted: Record<string, unknown>[] }).__posted);
}
