import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Page } from "playwright-core";
import { routeWebviewMessage } from "../../src/extension/panel/webviewRouter";
import { parseWebviewMessage, toHostCommand } from "../../src/panel/messages";
import { PROTOCOL_VERSION as v } from "../../src/protocol/messages";
import { DEFAULT_TASKS } from "./fakeRun";
import {
  artifacts,
  chromiumPanels,
  heatmapPixel,
  hostFor,
  LAST,
  type PanelWindow,
  type Posted,
  pixelsNear,
  posted,
  waitFrames,
} from "./harness";
import { THEMES } from "./themes";

/** One run's dashboard and the Conflicts view in Chromium: drawing, controls and acks, exports, zoom, themes. */

const { openPanel } = chromiumPanels();

describe("dashboard webview in Chromium", () => {
  it("draws a fed run: charts with pixels, heatmap values, strategy marker; controls and acks; survives reload", async () => {
    const { page, errors } = await openPanel("dark", "dashboard");
    const host = hostFor(page, "dashboard");
    const half = Math.floor(host.stream.length / 2);
    for (const m of host.stream.slice(0, half)) host.feed.push(m);
    host.feed.ready();
    await host.deliver();
    assert.equal(host.outbox.length, 0);
    // The rest arrives as deltas, several batches.
    const rest = host.stream.slice(half);
    for (let i = 0; i < rest.length; i += 97) {
      for (const m of rest.slice(i, i + 97)) host.feed.push(m);
      host.feed.flush();
      await host.deliver();
    }
    await page.waitForFunction(
      (last) => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.step === last,
      LAST,
    );
    await waitFrames(page, 3);

    const cards: string[] = await page.evaluate(() => (window as unknown as PanelWindow).__gradcraft.cards());
    for (const id of [
      "loss",
      "norm",
      "weight",
      "heatmap",
      "conflicting-pairs",
      "update-cosine",
      "conflict-set",
      "correction",
      "scale",
      "auc",
      "gauc",
      "logloss",
      "eval-table",
      "step-time",
      "steps-per-second",
      "controls",
    ])
      assert.ok(cards.includes(id), `card ${id} is present`);

    // Lines are drawn in each task's colour (dark theme: charts-blue #3794ff is task 0, orange task 1).
    const blue = await pixelsNear(page, "loss", [0x37, 0x94, 0xff]);
    // (Tight tolerance: the yellow strategy marker is 60 away from this orange.)
    const orange = await pixelsNear(page, "loss", [0xd1, 0x86, 0x16], 30);
    assert.ok(blue > 100, `task 0's loss line drawn (${blue} blue pixels)`);
    assert.ok(orange > 100, `task 1's loss line drawn (${orange} orange pixels)`);
    assert.ok((await pixelsNear(page, "auc", [0x37, 0x94, 0xff])) > 30, "AUC drawn");
    assert.ok((await pixelsNear(page, "steps-per-second", [0x37, 0x94, 0xff])) > 30, "throughput drawn");

    // Heatmap: the latest step's known cosines, by colour. Red (#f14c4c) conflict, blue aligned.
    const conflict = await heatmapPixel(page, 0, 1);
    const aligned = await heatmapPixel(page, 0, 2);
    const orthogonal = await heatmapPixel(page, 0, 3);
    assert.ok(conflict.r > conflict.b + 80, `cos -0.9 is red: ${JSON.stringify(conflict)}`);
    assert.ok(aligned.b > aligned.r + 80, `cos +0.9 is blue: ${JSON.stringify(aligned)}`);
    assert.ok(
      Math.abs(orthogonal.r - orthogonal.b) < 30 && orthogonal.r < 80,
      `cos 0 is near the background: ${JSON.stringify(orthogonal)}`,
    );
    assert.match((await page.textContent("#heatmap-caption")) ?? "", new RegExp(`Step ${LAST}`));

    // The switch is a labelled marker on every time chart.
    for (const id of ["loss", "weight", "auc", "step-time"]) {
      const labels: string[] = await page.evaluate(
        (id) => (window as unknown as PanelWindow).__gradcraft.markerCount(id),
        id,
      );
      assert.ok(labels.includes("→ pcgrad (seed=0)"), `${id} marks the switch: ${labels}`);
    }
    await page.screenshot({ path: join(artifacts, "dashboard-dark.png"), fullPage: true });
    // The switcher follows the run: it shows the strategy in force and its parameters.
    assert.equal(await page.inputValue("#strategy-select"), "pcgrad");
    assert.equal(await page.inputValue('input[name="seed"]'), "0");

    // Pause: posts the command, shows it pending until the ack, then the result in place.
    await page.click('button[data-control="pause"]');
    let sent = (await posted(page)).filter((m) => m.type === "command");
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].command, { type: "pause" });
    const parsed = parseWebviewMessage(sent[0]);
    assert.ok(
      parsed.ok && parsed.message.type === "command" && toHostCommand(parsed.message).ok,
      "the host accepts it",
    );
    assert.equal(await page.getAttribute('button[data-control="pause"]', "aria-busy"), "true");
    assert.equal(await page.isDisabled('button[data-control="pause"]'), true);
    assert.match((await page.textContent('[data-status="pause"]')) ?? "", /waiting/);
    await page.evaluate((ack) => window.postMessage(ack, "*"), {
      type: "ack",
      id: sent[0].id,
      ok: true,
      step: 612,
    });
    await page.waitForFunction(
      () => document.querySelector('[data-status="pause"]')?.textContent === "paused at step 612",
    );
    assert.equal(await page.getAttribute('button[data-control="pause"]', "aria-busy"), "false");

    // Strategy switch: the form is built from hello's schema and refuses out-of-range values.
    await page.selectOption("#strategy-select", "gradcraft");
    const tau = page.locator('input[name="tau"]');
    await tau.fill("2");
    await page.click('button[data-control="set-strategy"]');
    assert.equal(
      (await posted(page)).filter((m) => m.type === "command").length,
      1,
      "an invalid form sends nothing",
    );
    assert.match((await page.textContent(".field-error")) ?? "", /tau must be at most 1/);
    assert.equal(await tau.getAttribute("aria-invalid"), "true");
    await tau.fill("0.5");
    await page.click('button[data-control="set-strategy"]');
    sent = (await posted(page)).filter((m) => m.type === "command");
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1].command, {
      type: "set-strategy",
      name: "gradcraft",
      params: { tau: 0.5, epsilon: 0 },
    });
    const strategyCommand = parseWebviewMessage(sent[1]);
    assert.ok(strategyCommand.ok && strategyCommand.message.type === "command");
    assert.ok(toHostCommand(strategyCommand.message).ok);
    assert.equal(await page.textContent('button[data-control="set-strategy"]'), "Switching…");
    // A refusal shows the trainer's reason in place.
    await page.evaluate((ack) => window.postMessage(ack, "*"), {
      type: "ack",
      id: sent[1].id,
      ok: false,
      step: 612,
      error: "unknown parameter",
    });
    await page.waitForFunction(
      () => document.querySelector('[data-status="set-strategy"]')?.textContent === "unknown parameter",
    );
    assert.match((await page.getAttribute('[data-status="set-strategy"]', "class")) ?? "", /error/);

    // Hyperparameters: only what changed is sent.
    await page.fill('input[name="learningRate"]', "0.0005");
    await page.click('button[data-control="set-hyperparameters"]');
    sent = (await posted(page)).filter((m) => m.type === "command");
    assert.deepEqual(sent[2].command, { type: "set-hyperparameters", learningRate: 0.0005 });

    // Exports: a PNG data URL and a CSV request naming the chart's series.
    await page.click('[data-card="loss"] button[aria-label^="Export Loss per task as PNG"]');
    await page.click('[data-card="loss"] button[aria-label^="Export Loss per task series as CSV"]');
    const exports = (await posted(page)).filter((m) => m.type.startsWith("export"));
    assert.equal(exports[0].type, "export-png");
    assert.ok(parseWebviewMessage(exports[0]).ok, "a valid PNG data URL");
    assert.deepEqual(
      exports[1].series,
      DEFAULT_TASKS.map((t) => `loss/${t}`),
    );
    // Through the host's router: the file holds that chart's series and no other.
    const saved: string[] = [];
    await routeWebviewMessage(exports[1], {
      runId: host.model.runId,
      runLabel: host.model.label,
      canCommand: false,
      post: () => {},
      ready: () => {},
      save: async (bytes, name) => {
        saved.push(Buffer.from(bytes).toString("utf8"));
        return name;
      },
      exportRun: async () => assert.fail("a chart's CSV is not the whole run"),
      seriesCsv: (runId, series) => (runId === host.model.runId ? host.model.toCsv(series) : undefined),
      openDashboard: async () => {},
      exportReport: async () => undefined,
      warn: (reason) => assert.fail(reason),
    });
    const csv = saved[0] ?? "";
    assert.ok(csv.includes("loss/click,123,"), "the host's CSV keeps the spike's step");
    const names = new Set(
      csv
        .trim()
        .split("\n")
        .slice(1)
        .map((line) => line.split(",")[0]),
    );
    assert.deepEqual([...names].sort(), DEFAULT_TASKS.map((t) => `loss/${t}`).sort());
    // Export all CSV: the whole run, which the host writes from its event log.
    await page.click('button:text("Export all CSV")');
    const all = (await posted(page)).filter((m) => m.type === "export-csv").at(-1);
    assert.equal(all?.series, undefined);
    // Export report: the host is asked for the run's report (it asks where to save it).
    const before = (await posted(page)).filter((m) => m.type === "export-report").length;
    await page.click('[data-action="export-report"]');
    assert.equal((await posted(page)).filter((m) => m.type === "export-report").length, before + 1);

    // X axis by time: every time chart switches.
    await page.selectOption("#x-mode", "time");
    await waitFrames(page, 3);
    assert.equal(
      await page.evaluate(() => (window as unknown as PanelWindow).__gradcraft.xTitle("loss")),
      "time (s)",
    );
    assert.equal(
      await page.evaluate(() => (window as unknown as PanelWindow).__gradcraft.xTitle("auc")),
      "time (s)",
    );
    await page.selectOption("#x-mode", "step");

    // View options survive a reload: the state comes back and the panel asks for a snapshot.
    await page.fill("#smoothing", "0.9");
    await page.dispatchEvent("#smoothing", "input");
    const blueBefore = await pixelsNear(page, "loss", [0x37, 0x94, 0xff], 30);
    await page.uncheck("#task-toggle-0");
    await page.reload();
    await page.waitForFunction(() =>
      (window as unknown as PanelWindow).__posted.some((m: Posted) => m.type === "ready"),
    );
    host.feed.ready();
    await host.deliver();
    await page.waitForFunction(() => (window as unknown as PanelWindow).__gradcraft.runs().length === 1);
    await waitFrames(page, 3);
    assert.equal(await page.inputValue("#smoothing"), "0.9");
    assert.equal(await page.isChecked("#task-toggle-0"), false);
    // Blue is task 0's alone (the other tasks' colours are far from it).
    const blueAfter = await pixelsNear(page, "loss", [0x37, 0x94, 0xff], 30);
    assert.ok(
      blueBefore > 100 && blueAfter === 0,
      `a hidden task is not drawn (${blueAfter} vs ${blueBefore} blue pixels)`,
    );
    assert.match(
      (await page.textContent('[data-status="pause"]')) ?? "",
      /paused at step 612/,
      "results survive too",
    );

    // The host names the run's folder (the panel keeps it for a window reload); once the run
    // has ended, what its controls said while live is gone.
    const ended = { ...host.model.toSnapshot(), state: "done" as const };
    await page.evaluate((m) => window.postMessage(m, "*"), {
      type: "snapshot",
      run: ended,
      runDir: "/runs/20261129-run-1",
    });
    await page.waitForFunction(
      () => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.state === "done",
    );
    await waitFrames(page, 2);
    const state = await page.evaluate(() => JSON.parse(sessionStorage.getItem("gc-state") ?? "null"));
    assert.equal(state.runDir, "/runs/20261129-run-1");
    assert.deepEqual(state.results, {});
    assert.equal((await page.textContent('[data-status="pause"]')) ?? "", "");
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("the conflicts side view and the other themes render legibly", async () => {
    for (const theme of ["light", "high-contrast"] as const) {
      const { page, errors } = await openPanel(theme, "conflicts", 360, 1100);
      const host = hostFor(page, "conflicts");
      await host.showAll();
      const cards: string[] = await page.evaluate(() =>
        (window as unknown as PanelWindow).__gradcraft.cards(),
      );
      assert.deepEqual(cards, ["heatmap", "insights", "norm-bars", "weight-bars", "controls"]);
      const conflict = await heatmapPixel(page, 0, 1);
      const aligned = await heatmapPixel(page, 0, 2);
      assert.ok(conflict.r > conflict.b + 60, `${theme}: cos -0.9 is red ${JSON.stringify(conflict)}`);
      assert.ok(aligned.b > aligned.r + 60, `${theme}: cos +0.9 is blue ${JSON.stringify(aligned)}`);
      const blue = theme === "light" ? [0x1a, 0x85, 0xff] : [0x37, 0x94, 0xff];
      assert.ok(
        (await pixelsNear(page, "norm-bars", blue as [number, number, number], 30)) > 200,
        "norm bars drawn",
      );
      await page.screenshot({ path: join(artifacts, `conflicts-${theme}.png`), fullPage: true });
      if (theme === "light") {
        // VS Code switches theme under a live panel: new variables and body class; it redraws.
        const before = await heatmapPixel(page, 0, 3);
        assert.ok(before.r > 200, `cos 0 is near the light background ${JSON.stringify(before)}`);
        await page.evaluate(
          (dark) => {
            document.documentElement.setAttribute("style", dark);
            document.body.classList.replace("vscode-light", "vscode-dark");
          },
          Object.entries(THEMES.dark.vars)
            .map(([k, value]) => `${k}: ${value};`)
            .join(" "),
        );
        await waitFrames(page, 4);
        const after = await heatmapPixel(page, 0, 3);
        assert.ok(
          after.r < 80,
          `after the switch cos 0 is near the dark background ${JSON.stringify(after)}`,
        );
      }
      // Open the dashboard from the side view.
      await page.click('button[data-control="open-dashboard"]');
      assert.ok((await posted(page)).some((m) => m.type === "open-dashboard"));
      assert.deepEqual(errors, []);
      await page.close();
    }
    const { page } = await openPanel("light", "dashboard");
    const host = hostFor(page, "dashboard");
    await host.showAll();
    await page.screenshot({ path: join(artifacts, "dashboard-light.png"), fullPage: true });
    await page.close();
  });

  it("zooming one time chart moves every other to the same range; Reset zoom brings all back to the whole run", async () => {
    const { page, errors } = await openPanel("light", "dashboard");
    const host = hostFor(page, "dashboard");
    await host.showAll();
    const range = (id: string) =>
      page.evaluate((card) => (window as unknown as PanelWindow).__gradcraft.xRange(card), id);
    const whole = await range("loss");
    assert.ok(
      whole && whole.min === 0 && whole.max >= LAST,
      `the loss chart spans the run (${JSON.stringify(whole)})`,
    );
    assert.deepEqual(await range("norm"), whole);

    // Ctrl+wheel over the loss chart zooms it in; the others follow once the zoom settles.
    const box = await page.locator('[data-card="loss"] canvas').boundingBox();
    assert.ok(box);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.keyboard.down("Control");
    await page.mouse.wheel(0, -400);
    await page.keyboard.up("Control");
    await page.waitForFunction(() => {
      const gc = (window as unknown as PanelWindow).__gradcraft;
      const loss = gc.xRange("loss");
      const norm = gc.xRange("norm");
      // The same range to float rounding (each chart converts it through its own pixel width).
      const same = (a: number, b: number) => Math.abs(a - b) < 1e-6;
      return (
        loss && norm && loss.max - loss.min < 600 && same(norm.min, loss.min) && same(norm.max, loss.max)
      );
    });
    const zoomed = await range("loss");
    assert.ok(zoomed);
    for (const id of ["weight", "auc", "steps-per-second"]) {
      const other = await range(id);
      assert.ok(
        other && Math.abs(other.min - zoomed.min) < 1e-6 && Math.abs(other.max - zoomed.max) < 1e-6,
        `${id}: ${JSON.stringify(other)} vs ${JSON.stringify(zoomed)}`,
      );
    }

    await page.click('button:text("Reset zoom")');
    await waitFrames(page, 2);
    for (const id of ["loss", "norm", "weight", "auc"])
      assert.deepEqual(await range(id), whole, `${id} after reset`);
    // Reset, no chart is held at a range: they all follow the run as it grows.
    const last = host.stream.filter((m) => m.type === "step").at(-1);
    assert.ok(last?.type === "step");
    host.feed.push({ ...last, step: 2 * LAST, wallMs: 2 * last.wallMs });
    host.feed.flush();
    await host.deliver();
    await page.waitForFunction(
      (end) =>
        ["loss", "norm", "weight", "auc"].every(
          (id) => ((window as unknown as PanelWindow).__gradcraft.xRange(id)?.max ?? 0) >= end,
        ),
      2 * LAST,
    );
    assert.deepEqual(errors, []);
    await page.close();
  });
  it("the strategy and hyperparameter controls are in view without scrolling and stay there while the charts scroll; a narrow panel shows them first", async () => {
    const inView = async (page: Page) => {
      const box = await page.locator("#strategy-select").boundingBox();
      const switchButton = await page.locator('button[data-control="set-strategy"]').boundingBox();
      const viewport = page.viewportSize();
      assert.ok(box && switchButton && viewport);
      return [box, switchButton].every((b) => b.y >= 0 && b.y + b.height <= viewport.height);
    };
    const { page, errors } = await openPanel("dark", "dashboard", 1280, 800);
    await hostFor(page, "dashboard").showAll();
    assert.ok(await inView(page), "the strategy switcher is in view as the panel opens");
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await waitFrames(page, 2);
    assert.ok((await page.evaluate(() => window.scrollY)) > 1000, "the charts scrolled");
    assert.ok(await inView(page), "the switcher stays in view while the charts scroll");
    // Beside the charts, never over them.
    const side = await page.locator("aside.side").boundingBox();
    const grid = await page.locator("main.grid").boundingBox();
    assert.ok(side && grid && side.x >= grid.x + grid.width, `${JSON.stringify({ side, grid })}`);
    await page.screenshot({ path: join(artifacts, "dashboard-controls-scrolled.png") });
    await page.close();

    const narrow = await openPanel("light", "dashboard", 700, 900);
    await hostFor(narrow.page, "dashboard").showAll();
    assert.ok(await inView(narrow.page), "in a narrow panel the controls come first");
    const charts = await narrow.page.locator('[data-card="loss"]').boundingBox();
    const controls = await narrow.page.locator('[data-card="controls"]').boundingBox();
    assert.ok(charts && controls && controls.y + controls.height <= charts.y, "above the charts");
    assert.deepEqual([...errors, ...narrow.errors], []);
    await narrow.page.close();
  });

  it("data without a user column: every GAUC reads n/a and says why, in the table and on the GAUC chart", async () => {
    const { page, errors } = await openPanel("light", "dashboard", 1280, 900);
    const host = hostFor(page, "dashboard");
    // What the trainer sends for such data (src/trainer/evaluate.ts): null GAUCs, flagged.
    host.stream.forEach((message, i) => {
      if (message.type !== "eval") return;
      host.stream[i] = {
        ...message,
        tasks: message.tasks.map((entry) => ({ ...entry, gauc: null })),
        mean: { ...message.mean, gauc: null },
        gaucApplicable: false,
      };
    });
    await host.showAll();
    // Cards draw only while on screen: each is brought into view, as a user scrolls to it.
    const table = page.locator('[data-card="eval-table"]');
    await table.scrollIntoViewIfNeeded();
    await table.locator("tbody tr").first().waitFor();
    const cells = await table
      .locator("tbody tr")
      .evaluateAll((rows) =>
        rows.map((row) => [...row.querySelectorAll("td")].map((td) => td.textContent ?? "")),
      );
    assert.equal(
      cells.length,
      DEFAULT_TASKS.length + 1,
      `a row per task and the mean: ${JSON.stringify(cells)}`,
    );
    for (const [auc, gauc] of cells) {
      assert.match(auc, /^0\.\d{4}/, "AUC is still shown");
      assert.equal(gauc, "n/a");
    }
    assert.match((await table.locator(".gauc-note").textContent()) ?? "", /no user column/);
    const chartNote = page.locator('[data-card="gauc"] .card-note');
    await page.locator('[data-card="gauc"]').scrollIntoViewIfNeeded();
    await waitFrames(page, 3);
    assert.ok(await chartNote.isVisible(), "the GAUC chart says why it is empty");
    assert.match((await chartNote.textContent()) ?? "", /no user column/);
    assert.equal(await page.locator('[data-card="auc"] .card-note').isVisible(), false);
    await table.scrollIntoViewIfNeeded();
    await waitFrames(page, 2);
    await page.screenshot({ path: join(artifacts, "dashboard-gauc-not-applicable.png") });
    assert.deepEqual(errors, []);
    await page.close();
  });
});

// Keep the protocol version in the recorded stream honest.
assert.equal(v.split(".").length, 2);
