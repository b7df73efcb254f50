/**
 * The shareable report in Chromium: a report written by the real builder around the shipped report
 * bundle (dist/report.js), opened from a file:// address with every network request refused, as
 * someone opening a report they were sent. The charts must draw (canvas pixels), the evaluation
 * table must show what the run's evaluations said, the timeline every switch, and nothing may be
 * fetched. Screenshots: report-light.png, report-dark.png, report-compare.png.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import type { ReportData } from "../../src/panel/reportData";
import { reportHtml } from "../../src/panel/reportHtml";
import { RunModel } from "../../src/panel/runModel";
import { type TrainerMessage, PROTOCOL_VERSION as v } from "../../src/protocol/messages";
import { chromiumArgs } from "../provision.mjs";
import { DEFAULT_TASKS, fakeRun } from "./fakeRun";
import { artifacts } from "./harness";

const root = join(import.meta.dirname, "..", "..");
const executablePath = process.env.GRADCRAFT_CHROMIUM ?? "/usr/bin/chromium";
const script = readFileSync(join(root, "dist", "report.js"), "utf8");
/** A name that would end the data's script element if it were not escaped. */
const HOSTILE = "tiny</script><script>window.__escaped=1</script>";

/** The test evaluation the finished run ends with: every figure differs, so a swapped cell shows. */
const TEST_EVAL = DEFAULT_TASKS.map((task, t) => ({
  task,
  auc: 0.6 + t * 0.031,
  gauc: 0.55 + t * 0.017,
  logloss: 0.31 - t * 0.023,
}));

/** The stream of a run: the fake trainer's steps, evaluations and switch, plus what a real one adds. */
function stream(steps: number, finished: boolean): TrainerMessage[] {
  const messages = [
    ...fakeRun({
      steps,
      seed: 3,
      evalEvery: 100,
      switches: { 300: { name: "pcgrad", params: { seed: 0 } } },
    }),
  ];
  const lr: TrainerMessage = {
    v,
    type: "hyper-changed",
    step: 450,
    changes: [{ name: "learningRate", from: 0.001, to: 0.0005 }],
  };
  const at = messages.findIndex((m) => m.type === "step" && m.step === 451);
  if (at > 0) messages.splice(at, 0, lr);
  if (!finished) return messages;
  const mean = (key: "auc" | "gauc" | "logloss") =>
    TEST_EVAL.reduce((s, e) => s + e[key], 0) / TEST_EVAL.length;
  messages.push({
    v,
    type: "eval",
    split: "test",
    step: steps,
    tasks: TEST_EVAL,
    mean: { auc: mean("auc"), gauc: mean("gauc"), logloss: mean("logloss") },
    best: false,
  });
  messages.push({ v, type: "done", reason: "completed", summary: { steps } } as TrainerMessage);
  return messages;
}

function modelOf(id: string, label: string, messages: TrainerMessage[]): RunModel {
  const model = new RunModel(id, label, { maxPoints: 400 });
  for (const m of messages) model.ingest(m);
  return model;
}

const CONFIG = {
  name: "tiny",
  strategy: { name: "gradcraft", params: { tau: 1, epsilon: 0 } },
  training: { learningRate: 0.001, batchSize: 256 },
};

describe("a report opened in a browser from its file, offline", { concurrency: false }, () => {
  let browser: Browser;
  let dir: string;
  before(async () => {
    browser = await chromium.launch({ executablePath, args: chromiumArgs });
    dir = mkdtempSync(join(tmpdir(), "gradcraft-report-"));
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the report and opens it; every request that is not the file itself is refused and kept. */
  async function open(data: ReportData, name: string, colorScheme: "light" | "dark" = "light") {
    const file = join(dir, name);
    writeFileSync(file, reportHtml({ data, script, title: "report" }));
    const page = await browser.newPage({
      viewport: { width: 1400, height: 1000 },
      deviceScaleFactor: 1,
      colorScheme,
    });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("request", (r) => requests.push(r.url()));
    await page.route("**/*", (route) =>
      route.request().url().startsWith("file:") ? route.continue() : route.abort("blockedbyclient"),
    );
    await page.goto(pathToFileURL(file).href);
    await page.waitForSelector('[data-card="report"] .report-timeline li');
    return { page, errors, requests, file };
  }

  /** Each chart's inked pixels (not the card's background) and colours, each brought on screen to draw. */
  async function ink(page: Page, ids: string[]) {
    const result: Record<string, { inked: number; colours: number }> = {};
    for (const id of ids) {
      await page.locator(`[data-card="${id}"]`).scrollIntoViewIfNeeded();
      await page.waitForFunction((card) => {
        const canvas = document.querySelector<HTMLCanvasElement>(`[data-card="${card}"] canvas`);
        return !!canvas && canvas.width > 0;
      }, id);
      await page.waitForTimeout(150);
      result[id] = await page.evaluate((card) => {
        const canvas = document.querySelector<HTMLCanvasElement>(`[data-card="${card}"] canvas`)!;
        const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
        const colours = new Set<string>();
        let inked = 0;
        for (let i = 0; i < data.length; i += 4) {
          if (data[i + 3] < 200) continue; // transparent: the card's background shows through
          inked++;
          colours.add(`${data[i] >> 4},${data[i + 1] >> 4},${data[i + 2] >> 4}`);
        }
        return { inked, colours: colours.size };
      }, id);
    }
    return result;
  }

  it("a finished run: charts drawn, the test evaluation as the run reported it, every change in the timeline, nothing fetched", async () => {
    const model = modelOf("/runs/20261203-tiny", HOSTILE, stream(600, true));
    const data: ReportData = {
      createdAt: "2026-12-03T19:30:00.000Z",
      generator: "GradCraft Studio 9.8.7",
      runs: [{ snapshot: model.toSnapshot(), config: CONFIG, folder: "20261203-tiny", tags: ["baseline"] }],
    };
    const { page, errors, requests, file } = await open(data, "finished-report.html");
    assert.deepEqual(errors, []);
    assert.deepEqual(
      requests.filter((url) => url !== pathToFileURL(file).href && !/^(data|blob):/.test(url)),
      [],
      "the report asked for something outside its file",
    );
    assert.equal(await page.evaluate(() => (window as { __escaped?: number }).__escaped), undefined);
    assert.equal(await page.textContent("header.bar h1"), HOSTILE);

    // Read-only: no run controls, no strategy form, no report button of its own.
    assert.equal(await page.locator("[data-control]").count(), 0);
    assert.equal(await page.locator("aside.side:not([hidden])").count(), 0);
    assert.equal(await page.locator('[data-action="export-report"]').count(), 0);

    const made = page.locator(".report-made");
    assert.equal(await made.getAttribute("data-made"), "2026-12-03T19:30:00.000Z");
    assert.match((await made.textContent()) ?? "", /GradCraft Studio 9\.8\.7/);
    assert.match((await page.textContent(".report-where")) ?? "", /^Finished at step 600 \(completed\)\.$/);

    const timeline = await page.$$eval(".report-timeline li", (lis) => lis.map((li) => li.textContent ?? ""));
    // The change's value is written as the run model writes numbers (5.0e-4 or 5.00e-4).
    assert.equal(timeline.length, 4, timeline.join(" | "));
    assert.equal(timeline[0], "step 0 started with gradcraft (tau=1, epsilon=0)");
    assert.equal(timeline[1], "step 300 → pcgrad (seed=0)");
    assert.match(timeline[2], /^step 450 learningRate 0\.001→5\.0*e-4$/);
    assert.equal(timeline[3], "step 600 ended: completed");
    const config = await page.$$eval(".report-config .setting", (rows) =>
      rows.map((row) => [row.querySelector(".key")?.textContent, row.querySelector(".value")?.textContent]),
    );
    assert.deepEqual(config, [
      ["name", "tiny"],
      ["strategy.name", "gradcraft"],
      ["strategy.params.tau", "1"],
      ["strategy.params.epsilon", "0"],
      ["training.learningRate", "0.001"],
      ["training.batchSize", "256"],
    ]);

    // The evaluation table on the test split: each task's figures are the run's test evaluation.
    await page.locator('[data-card="eval-table"]').scrollIntoViewIfNeeded();
    await page.selectOption("#eval-split", "test");
    await page.waitForFunction(
      () => document.querySelector('[data-card="eval-table"] caption')?.textContent === "Evaluation on test",
    );
    const rows = await page.$$eval('[data-card="eval-table"] tbody tr', (trs) =>
      trs.map((tr) => [
        tr.querySelector("th")?.textContent ?? "",
        ...[...tr.querySelectorAll("td")].map((td) => Number.parseFloat(td.firstChild?.textContent ?? "")),
      ]),
    );
    assert.deepEqual(
      rows.map((r) => r[0]),
      [...DEFAULT_TASKS, "mean"],
    );
    for (const [i, e] of TEST_EVAL.entries()) {
      const [, auc, gauc, logloss] = rows[i] as [string, number, number, number];
      assert.ok(
        Math.abs(auc - e.auc) < 5e-5 &&
          Math.abs(gauc - e.gauc) < 5e-5 &&
          Math.abs(logloss - e.logloss) < 5e-5,
        `${e.task}: ${rows[i]}`,
      );
    }

    const charts = await ink(page, ["loss", "norm", "weight", "heatmap", "auc"]);
    for (const [id, { inked, colours }] of Object.entries(charts))
      assert.ok(inked > 2000 && colours >= 3, `${id} is not drawn: ${JSON.stringify(charts[id])}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.setViewportSize({ width: 1400, height: 3400 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(artifacts, "report-light.png"), fullPage: true });
    await page.close();
  });

  it("a live run and a finished one compared: the step the live one was cut at, both timelines, the dark defaults", async () => {
    const finished = modelOf("/runs/a", "gradcraft-a1b2", stream(600, true));
    const live = modelOf("live-7", "pcgrad-c3d4", stream(420, false));
    assert.equal(live.state, "running");
    const data: ReportData = {
      createdAt: new Date().toISOString(),
      generator: "GradCraft Studio 9.8.7",
      runs: [{ snapshot: finished.toSnapshot(), config: CONFIG }, { snapshot: live.toSnapshot() }],
    };
    const { page, errors } = await open(data, "compare-report.html", "dark");
    assert.deepEqual(errors, []);
    assert.ok(await page.evaluate(() => document.body.classList.contains("vscode-dark")));
    const where = await page.$$eval(".report-where", (ps) =>
      ps.map((p) => [p.getAttribute("data-live"), p.textContent]),
    );
    assert.deepEqual(where[0], ["false", "Finished at step 600 (completed)."]);
    assert.deepEqual(where[1], [
      "true",
      "Cut at step 420 while the run was running: it went on after this report.",
    ]);
    const timelines = await page.$$eval(".report-timeline", (ols) =>
      ols.map((ol) => ol.querySelectorAll("li").length),
    );
    assert.deepEqual(
      timelines,
      [4, 3],
      "start, switch, lr change, end; the live run has not reached its lr change",
    );
    // Without its config the live run's start is not known (it switched since): not guessed from now.
    assert.equal(
      await page.locator(".report-timeline").nth(1).locator("li").first().textContent(),
      "step 0 started",
    );
    assert.equal(await page.locator('[data-card="config-diff"]').count(), 1);
    const charts = await ink(page, ["loss", "heatmap"]);
    for (const [id, { inked }] of Object.entries(charts)) assert.ok(inked > 2000, `${id}: ${inked}`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.setViewportSize({ width: 1400, height: 3600 });
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(artifacts, "report-compare-dark.png"), fullPage: true });
    await page.close();
  });
});
