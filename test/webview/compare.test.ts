import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { routeWebviewMessage } from "../../src/extension/panel/webviewRouter";
import type { HostToWebview } from "../../src/panel/messages";
import { RunModel } from "../../src/panel/runModel";
import { DEFAULT_TASKS, fakeRun } from "./fakeRun";
import {
  artifacts,
  assertLaneClear,
  chromiumPanels,
  FORCED,
  heatmapPixel,
  hostFor,
  LAST,
  type PanelWindow,
  type Posted,
  posted,
  STEPS,
  SWITCH_AT,
  s,
  waitFrames,
} from "./harness";

/** The compare tab in Chromium: several runs overlaid, their table, heatmaps, markers and exports. */

const { openPanel } = chromiumPanels();

describe("compare mode in Chromium", () => {
  it("compare mode overlays several runs with a legend per run, and exports them in one CSV", async () => {
    const { page, errors } = await openPanel("high-contrast", "dashboard");
    const a = hostFor(page, "dashboard", "gradcraft-run", 1);
    const b = hostFor(page, "dashboard", "ew-run", 2);
    for (const m of a.stream) a.model.ingest(m);
    for (const m of b.stream) b.model.ingest(m);
    await page.evaluate(
      (message) => window.postMessage(message, "*"),
      JSON.parse(JSON.stringify({ type: "compare", runs: [a.model.toSnapshot(), b.model.toSnapshot()] })),
    );
    await page.waitForFunction(() => (window as unknown as PanelWindow).__gradcraft.runs().length === 2);
    await waitFrames(page, 3);
    const legends = await page.locator(".run-legend").allTextContents();
    assert.deepEqual(legends, ["gradcraft-run", "ew-run"]);
    const datasets: string[] = await page.evaluate(() =>
      (window as unknown as PanelWindow).__gradcraft.datasetLabels("loss"),
    );
    assert.equal(datasets.length, 12, "six tasks of each run");
    assert.ok(datasets.includes("gradcraft-run · click") && datasets.includes("ew-run · forward"));
    assert.equal(
      await page.locator('button[data-control="pause"]').count(),
      0,
      "no run controls while comparing",
    );
    await page.screenshot({ path: join(artifacts, "compare-high-contrast.png"), fullPage: true });
    await page.click('[data-card="loss"] button[aria-label$="series as CSV"]');
    const exported = (await posted(page)).find((m) => m.type === "export-csv");
    const lines = exported?.csv?.trim().split("\n") ?? [];
    assert.equal(lines[0], "run,series,step,time_ms,value");
    assert.ok(lines.some((l) => l.startsWith("gradcraft-run,loss/click,")));
    assert.ok(lines.some((l) => l.startsWith("ew-run,loss/click,")));
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("compare mode shows every run: an evaluation row per run with the best marked, each run's heatmap, each run's switches, exports through the host's router", async () => {
    // Two finished runs of one data set (GradCraft then PCGrad; PCGrad then EW) and a third with
    // fewer tasks. At the last step run B's click/longView pair is aligned where run A's conflicts.
    const aligned = FORCED.map((row, t) =>
      t === 1 ? [0.9, s, 0, 0, 0, 0, 0, 0] : t === 2 ? [-0.9, 0, s, 0, 0, 0, 0, 0] : row,
    );
    const finished = (label: string, seed: number, options: Partial<Parameters<typeof fakeRun>[0]>) => {
      const model = new RunModel(label, label, { maxPoints: 400 });
      for (const m of fakeRun({ steps: STEPS, seed, evalEvery: 100, ...options })) model.ingest(m);
      return model;
    };
    const a = finished("gradcraft-run", 1, {
      switches: { [SWITCH_AT]: { name: "pcgrad", params: { seed: 0 } } },
      forcedGradients: { [LAST]: FORCED },
    });
    const b = finished("pcgrad-run", 2, {
      switches: { [SWITCH_AT]: { name: "ew", params: {} } },
      forcedGradients: { [LAST]: aligned },
    });
    const c = finished("four-tasks", 3, { tasks: DEFAULT_TASKS.slice(0, 4) });
    const models = [a, b, c];
    const bestAuc = (m: RunModel) => m.best["eval/validation/auc/click"].value;
    const winner = models.indexOf(models.reduce((x, y) => (bestAuc(y) > bestAuc(x) ? y : x)));

    for (const theme of ["light", "dark"] as const) {
      const { page, errors } = await openPanel(theme, "dashboard", 1400, 3000);
      await page.evaluate(
        (message) => window.postMessage(message, "*"),
        JSON.parse(JSON.stringify({ type: "compare", runs: models.map((m) => m.toSnapshot()) })),
      );
      await page.waitForFunction(() => (window as unknown as PanelWindow).__gradcraft.runs().length === 3);
      await waitFrames(page, 3);

      // The evaluation table: a row per run under each task, with that run's own figures.
      const table = page.locator('[data-card="eval-table"] table.compare-eval');
      const clickRows = table
        .locator("tbody tr")
        .filter({ has: page.locator('th[scope="rowgroup"]', { hasText: /^click$/ }) });
      assert.equal(await clickRows.count(), 1, "one group per task");
      for (const [r, model] of models.entries()) {
        const row = table.locator(`tbody tr[data-run="${r}"]`).first();
        assert.match((await row.locator("th.run-name").textContent()) ?? "", new RegExp(model.label));
        const latest = model.latestEval["eval/validation/auc/click"];
        assert.match(
          (await row.locator("td").first().textContent()) ?? "",
          new RegExp(latest.toFixed(4)),
          `${theme}: ${model.label}'s click AUC is in its row`,
        );
      }
      // Later runs are set against the first: B's click AUC shows its difference from A's best.
      const ranked = (m: RunModel) => m.best["eval/validation/auc/click"].value;
      const diff = ranked(b) - ranked(a);
      assert.equal(
        (
          await table.locator('tbody tr[data-run="1"]').first().locator("td .delta").first().textContent()
        )?.trim(),
        `Δ ${diff >= 0 ? "+" : "−"}${Math.abs(diff).toFixed(4)}`,
      );
      assert.equal(
        await table.locator('tbody tr[data-run="0"] .delta').count(),
        0,
        "the first run is the baseline",
      );
      const winners = await table.locator("tbody tr[data-run] td.winner").count();
      assert.ok(winners >= 3, `every metric of some task has a marked best (${winners})`);
      assert.match(
        (await table
          .locator(`tbody tr[data-run="${winner}"]`)
          .first()
          .locator("td")
          .first()
          .getAttribute("class")) ?? "",
        /winner/,
        "the run with the best click AUC is marked",
      );
      // forward: runs A and B have it, the four-task run does not (and says so); means not ranked.
      const rowsOfC = table.locator('tbody tr[data-run="2"]');
      const forwardOfC = rowsOfC.nth(DEFAULT_TASKS.indexOf("forward"));
      assert.equal(await forwardOfC.locator("td").first().textContent(), "not in this run");
      assert.equal(
        await table.locator("tbody tr.mean td.winner").count(),
        0,
        "means over different tasks are not ranked",
      );
      assert.match((await page.textContent('[data-card="eval-table"] .note')) ?? "", /different tasks/);

      // The heatmap: all three side by side, then the second run's alone.
      const gc = (run: number) =>
        page.evaluate((run) => (window as unknown as PanelWindow).__gradcraft.heatmapCells(run), run);
      for (const r of [0, 1, 2]) assert.equal((await gc(r))?.shown, true, `heatmap ${r} on screen`);
      const cellOf = (cells: { x: string; y: string; v: number }[], y: string, x: string) =>
        cells.find((cell) => cell.y === y && cell.x === x)?.v;
      assert.ok(Math.abs((cellOf((await gc(0))!.cells, "click", "longView") ?? 0) + 0.9) < 1e-9);
      assert.ok(Math.abs((cellOf((await gc(1))!.cells, "click", "longView") ?? 0) - 0.9) < 1e-9);
      await page.selectOption("#heatmap-run", "1");
      await waitFrames(page, 3);
      assert.equal((await gc(0))?.shown, false, "only the picked run's heatmap shows");
      assert.equal((await gc(1))?.shown, true);
      const bConflict = await heatmapPixel(page, 0, 2, 1);
      const bAligned = await heatmapPixel(page, 0, 1, 1);
      assert.ok(bAligned.b > bAligned.r + 60, `${theme}: run B's +0.9 is blue ${JSON.stringify(bAligned)}`);
      assert.ok(bConflict.r > bConflict.b + 60, `${theme}: run B's -0.9 is red ${JSON.stringify(bConflict)}`);
      // Hovering a cell names the run and the value.
      const center = await page.evaluate(() =>
        (window as unknown as PanelWindow).__gradcraft.heatmapCellCenter(0, 1, 1),
      );
      await page.mouse.move(center.x, center.y);
      await page.waitForFunction(
        () => (window as unknown as PanelWindow).__gradcraft.heatmapTooltip(1) !== null,
      );
      const tip = await page.evaluate(() => (window as unknown as PanelWindow).__gradcraft.heatmapTooltip(1));
      assert.equal(tip?.title, "pcgrad-run");
      assert.deepEqual(tip?.lines, ["cos(click, longView) = 0.900"]);
      // The window choice applies to the picked run too.
      await page.selectOption("#heatmap-window", "50");
      await waitFrames(page, 2);
      assert.match(
        (await page.textContent('.heatmap-caption[data-run="1"]')) ?? "",
        /Mean of the last 50 steps up to step 600/,
      );
      await page.selectOption("#heatmap-window", "0");
      // The step slider scrubs back through the kept matrices: at 599 run B's click/longView pair
      // is its drifting random one again (the model's own record of that step), at the end the latest.
      const atStep = (step: number) =>
        page.evaluate((step) => {
          const slider = document.querySelector<HTMLInputElement>("#heatmap-step")!;
          slider.value = String(step);
          slider.dispatchEvent(new Event("input"));
        }, step);
      await atStep(LAST - 1);
      await waitFrames(page, 2);
      const recorded = b.recentCosines().find((m) => m.step === LAST - 1)!;
      assert.ok(
        Math.abs((cellOf((await gc(1))!.cells, "click", "longView") ?? 0) - recorded.cosines[1]) < 1e-9,
        "the heatmap shows step 599's matrix",
      );
      assert.match((await page.textContent('.heatmap-caption[data-run="1"]')) ?? "", /^Step 599\./);
      assert.equal(await page.textContent('output[for="heatmap-step"]'), "599");
      await atStep(LAST);
      await waitFrames(page, 2);
      assert.match((await page.textContent('.heatmap-caption[data-run="1"]')) ?? "", /^Step 600\./);
      assert.equal(await page.textContent('output[for="heatmap-step"]'), "latest");
      await page.selectOption("#heatmap-run", "all");
      await page.mouse.move(0, 0);
      await waitFrames(page, 3);

      // Each run's strategy switch is its own marker: its run's name, dash and lane row.
      const markers = await page.evaluate(() =>
        (window as unknown as PanelWindow).__gradcraft.markerStyles("loss"),
      );
      const ofA = markers.find((m) => m.label === "gradcraft-run: → pcgrad (seed=0)");
      const ofB = markers.find((m) => m.label === "pcgrad-run: → ew");
      assert.ok(ofA && ofB, `both switches marked: ${JSON.stringify(markers)}`);
      assert.ok(ofA.labelled && ofB.labelled);
      assert.notDeepEqual(ofA.dash, ofB.dash, "drawn in their runs' dashes");
      assert.notEqual(ofA.row, ofB.row, "labels apart though both switch at step 300");
      await assertLaneClear(page, "loss");
      // The config diff: the strategies differ, and each run's switch is listed with its step.
      const diffRow = (setting: string) =>
        page.textContent(`[data-card="config-diff"] tr[data-setting="${setting}"]`);
      assert.match((await diffRow("strategy")) ?? "", /≠ strategy/);
      assert.match((await diffRow("changes")) ?? "", /step 300: → pcgrad \(seed=0\)/);
      await page.screenshot({ path: join(artifacts, `compare-${theme}.png`), fullPage: true });

      // The heatmap's PNG (every shown run) goes through the host's router like a dashboard's:
      // a failed save comes back as a notice in the panel.
      await page.click('[data-card="heatmap"] button[aria-label^="Export"][aria-label$="as PNG"]');
      const png = (await posted(page)).find((m) => m.type === "export-png") as Posted & { dataUrl: string };
      assert.ok(png, "the PNG was posted");
      const bytes = Buffer.from(png.dataUrl.slice(png.dataUrl.indexOf(",") + 1), "base64");
      assert.equal(
        bytes.readUInt32BE(16) > bytes.readUInt32BE(20),
        true,
        "three heatmaps side by side: wider than tall",
      );
      const replies: HostToWebview[] = [];
      const outcome = await routeWebviewMessage(png, {
        runId: a.runId,
        runLabel: "compare-gradcraft-run-vs-pcgrad-run",
        canCommand: false,
        post: (m) => replies.push(m),
        ready: () => {},
        seriesCsv: () => undefined,
        save: async () => {
          throw new Error("/readonly/heatmap.png: EROFS: read-only file system");
        },
        exportRun: async () => {},
        openDashboard: async () => {},
        exportReport: async () => undefined,
        warn: (reason) => assert.fail(reason),
      });
      assert.equal(outcome, "failed");
      await page.evaluate(
        (messages) => {
          for (const m of messages) window.postMessage(m, "*");
        },
        JSON.parse(JSON.stringify(replies)),
      );
      await page.waitForFunction(() => /EROFS/.test(document.querySelector("#notice")?.textContent ?? ""));
      assert.match((await page.getAttribute("#notice", "class")) ?? "", /error/);
      assert.match(
        (await page.textContent("#notice")) ?? "",
        /Could not save compare-gradcraft-run-vs-pcgrad-run-heatmap\.png/,
      );
      assert.deepEqual(errors, []);
      await page.close();
    }
  });
});
