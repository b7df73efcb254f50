import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { PanelFeed } from "../../src/extension/panel/feed";
import { routeWebviewMessage } from "../../src/extension/panel/webviewRouter";
import { type HostToWebview, parseWebviewMessage, toHostCommand } from "../../src/panel/messages";
import { RunModel } from "../../src/panel/runModel";
import { PROTOCOL_VERSION as v } from "../../src/protocol/messages";
import { chromiumArgs } from "../provision.mjs";
import { DEFAULT_TASKS, fakeRun } from "./fakeRun";
import { pageHtml, THEMES, type ThemeName } from "./themes";

/**
 * The dashboard webview, as built (dist/webview.test.js: the shipped bundle plus its read-only
 * test hooks), in headless Chromium. A stand-in for the VS Code webview API records what the
 * panel posts; the host side is the real one: a RunModel fed by a seeded fake run, sent through
 * PanelFeed as a snapshot and batched deltas.
 */

const root = join(import.meta.dirname, "..", "..");
const artifacts = join(root, "test-artifacts", "webview");
const bundle = readFileSync(
  process.env.GRADCRAFT_WEBVIEW_BUNDLE ?? join(root, "dist", "webview.test.js"),
  "utf8",
);
const executablePath = process.env.GRADCRAFT_CHROMIUM ?? "/usr/bin/chromium";

const STEPS = 600;
const SWITCH_AT = 300;
const LAST = STEPS;
// At the last step: cos(click, longView) = -0.9, cos(click, like) = +0.9, the others orthogonal.
const s = Math.sqrt(1 - 0.81);
const FORCED = [
  [1, 0, 0, 0, 0, 0, 0, 0],
  [-0.9, s, 0, 0, 0, 0, 0, 0],
  [0.9, 0, s, 0, 0, 0, 0, 0],
  [0, 0, 0, 1, 0, 0, 0, 0],
  [0, 0, 0, 0, 1, 0, 0, 0],
  [0, 0, 0, 0, 0, 1, 0, 0],
];

let browser: Browser;

/** What the page's stand-in for the VS Code API recorded, and the panel's test hooks. */
interface Posted {
  type: string;
  id?: string;
  command?: Record<string, unknown>;
  series?: string[];
  csv?: string;
}
interface PanelWindow {
  __posted: Posted[];
  __gradcraft: {
    runs(): { step: number; state: string }[];
    cards(): string[];
    canvasOf(id: string): HTMLCanvasElement;
    heatmapCellCenter(row: number, column: number, run?: number): { x: number; y: number };
    heatmapCells(run?: number): { shown: boolean; cells: { x: string; y: string; v: number }[] } | null;
    heatmapTooltip(run?: number): { title: string; lines: string[] } | null;
    markerCount(id: string): string[];
    markerStyles(id: string): { label: string; dash: number[]; position: string; labelled: boolean }[];
    drawing(): boolean;
    xTitle(id: string): string | null;
    xRange(id: string): { min: number; max: number } | null;
    datasetLabels(id: string): string[];
  };
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  browser = await chromium.launch({
    executablePath,
    args: chromiumArgs,
  });
});

after(async () => {
  await browser?.close();
});

async function openPanel(theme: ThemeName, surface: "dashboard" | "conflicts", width = 1400, height = 2600) {
  const page = await browser.newPage({ viewport: { width, height }, deviceScaleFactor: 1 });
  const errors: string[] = [];
  page.on("pageerror", (error) => {
    errors.push(String(error));
    console.error(`page error (${theme} ${surface}): ${error.stack ?? error}`);
  });
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  await page.route("http://panel.test/**", (route) => {
    const url = route.request().url();
    if (url.endsWith("/webview.js")) return route.fulfill({ body: bundle, contentType: "text/javascript" });
    return route.fulfill({ body: pageHtml(theme, surface), contentType: "text/html" });
  });
  await page.goto("http://panel.test/index.html");
  await page.waitForFunction(() =>
    (window as unknown as PanelWindow).__posted.some((m: Posted) => m.type === "ready"),
  );
  return { page, errors };
}

/** The host side: a model fed by the fake run, its feed posting into the page. */
function hostFor(page: Page, surface: "dashboard" | "conflicts", label = "run-1", seed = 1) {
  const model = new RunModel(label, label, { maxPoints: 400 });
  const outbox: HostToWebview[] = [];
  const feed = new PanelFeed(
    model,
    (message) => outbox.push(message),
    // These tests deliver by hand and wait for the page themselves.
    { setTimer: () => 0, clearTimer: () => {}, appliedTimeoutMs: 0 },
    surface,
  );
  const deliver = async () => {
    const batch = outbox.splice(0);
    await page.evaluate(
      (messages) => {
        for (const m of messages) window.postMessage(m, "*");
      },
      JSON.parse(JSON.stringify(batch)),
    );
  };
  const stream = [
    ...fakeRun({
      steps: STEPS,
      seed,
      evalEvery: 100,
      switches: { [SWITCH_AT]: { name: "pcgrad", params: { seed: 0 } } },
      forcedGradients: { [LAST]: FORCED },
      spikeAt: 123,
    }),
  ];
  /** The whole run in one snapshot; resolves once the panel shows its last step, drawn. */
  const showAll = async () => {
    for (const m of stream) feed.push(m);
    feed.ready();
    await deliver();
    await page.waitForFunction(
      (last) => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.step === last,
      LAST,
    );
    await waitFrames(page, 3);
  };
  return { model, feed, outbox, deliver, stream, showAll };
}

async function posted(page: Page): Promise<Posted[]> {
  return page.evaluate(() => (window as unknown as PanelWindow).__posted);
}

/** Waits until every chart on screen has drawn (the panel spreads redraws over frames), then n frames. */
async function waitFrames(page: Page, n = 2) {
  await page.waitForFunction(() => !(window as unknown as PanelWindow).__gradcraft.drawing());
  await page.evaluate(
    (count) =>
      new Promise<void>((resolve) => {
        let left = count;
        const tick = () => (--left <= 0 ? resolve() : requestAnimationFrame(tick));
        requestAnimationFrame(tick);
      }),
    n,
  );
}

/** Pixels of a chart's canvas that are close to a colour (lines are anti-aliased: a tolerance). */
async function pixelsNear(
  page: Page,
  cardId: string,
  rgb: [number, number, number],
  tolerance = 60,
): Promise<number> {
  return page.evaluate(
    ({ cardId, rgb, tolerance }) => {
      const canvas = (window as unknown as PanelWindow).__gradcraft.canvasOf(cardId) as HTMLCanvasElement;
      const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const d =
          Math.abs(data[i] - rgb[0]) + Math.abs(data[i + 1] - rgb[1]) + Math.abs(data[i + 2] - rgb[2]);
        if (d < tolerance) n++;
      }
      return n;
    },
    { cardId, rgb, tolerance },
  );
}

async function heatmapPixel(page: Page, row: number, column: number, run = 0) {
  return page.evaluate(
    ({ row, column, run }) => {
      const gc = (window as unknown as PanelWindow).__gradcraft;
      const canvas = document.querySelectorAll<HTMLCanvasElement>('[data-card="heatmap"] canvas')[run];
      const center = gc.heatmapCellCenter(row, column, run);
      const rect = canvas.getBoundingClientRect();
      // Off the centre, where the cell's value is written.
      const x = Math.round(center.x - rect.left - 14);
      const y = Math.round(center.y - rect.top - 12);
      const [r, g, b] = canvas.getContext("2d")!.getImageData(x, y, 1, 1).data;
      return { r, g, b };
    },
    { row, column, run },
  );
}

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
      assert.deepEqual(cards, ["heatmap", "norm-bars", "weight-bars", "controls"]);
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
      const { page, errors } = await openPanel(theme, "dashboard", 1400, 2400);
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

      // Each run's strategy switch is its own marker: its run's name, dash and label place.
      const markers = await page.evaluate(() =>
        (window as unknown as PanelWindow).__gradcraft.markerStyles("loss"),
      );
      const ofA = markers.find((m) => m.label === "gradcraft-run: → pcgrad (seed=0)");
      const ofB = markers.find((m) => m.label === "pcgrad-run: → ew");
      assert.ok(ofA && ofB, `both switches marked: ${JSON.stringify(markers)}`);
      assert.ok(ofA.labelled && ofB.labelled);
      assert.notDeepEqual(ofA.dash, ofB.dash, "drawn in their runs' dashes");
      assert.notEqual(ofA.position, ofB.position, "labels apart though both switch at step 300");
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
      return loss && norm && loss.max - loss.min < 600 && norm.min === loss.min && norm.max === loss.max;
    });
    const zoomed = await range("loss");
    for (const id of ["weight", "auc", "steps-per-second"]) assert.deepEqual(await range(id), zoomed, id);

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

  it("keeps up with a fast trainer: a 10,000-step burst, then 4,000 steps/s, shown to the last step, the history whole", async () => {
    const { page, errors } = await openPanel("dark", "dashboard");
    const model = new RunModel("fast", "fast", { maxPoints: 400 });
    const sent: string[] = [];
    let unconfirmed = 0;
    let mostUnconfirmed = 0;
    // As in VS Code: the host's postMessage does not wait for the panel (real timers, no hand
    // delivery), and what the panel posts back goes through the router.
    const feed = new PanelFeed(
      model,
      (message) => {
        sent.push(message.type);
        unconfirmed++;
        mostUnconfirmed = Math.max(mostUnconfirmed, unconfirmed);
        void page
          .evaluate((m) => window.postMessage(m, "*"), JSON.parse(JSON.stringify(message)))
          .catch(() => {});
      },
      {},
      "dashboard",
    );
    await page.exposeFunction("__toHost", (raw: unknown) =>
      routeWebviewMessage(raw, {
        runId: model.runId,
        runLabel: model.label,
        canCommand: false,
        post: () => {},
        ready: () => feed.ready(),
        applied: () => {
          unconfirmed--;
          feed.applied();
        },
        save: async () => undefined,
        exportRun: async () => {},
        seriesCsv: () => undefined,
        openDashboard: async () => {},
        warn: (reason) => assert.fail(reason),
      }),
    );
    await page.evaluate(() => {
      const w = window as unknown as { __posted: unknown[]; __toHost(m: unknown): void };
      const list = w.__posted;
      list.push = (...items: unknown[]) => {
        for (const m of items) w.__toHost(m);
        return Array.prototype.push.apply(list, items);
      };
    });
    const shownStep = () =>
      page.evaluate(() => {
        for (const fact of document.querySelectorAll(".fact"))
          if (fact.firstChild?.textContent?.trim() === "step")
            return Number(fact.querySelector("b")?.textContent);
        return -1;
      });
    const stream = [...fakeRun({ steps: 14_000, seed: 5, evalEvery: 1000, spikeAt: 4321 })];
    const burstEnd = stream.findIndex((m) => m.type === "step" && m.step === 10_000) + 1;
    feed.ready();
    await page.waitForFunction(() => (window as unknown as PanelWindow).__gradcraft.runs().length === 1);

    // The burst, as a fast link hands it over: one synchronous run of messages.
    for (const m of stream.slice(0, burstEnd)) feed.push(m);
    await page.waitForFunction(
      () => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.step === 10_000,
      undefined,
      { timeout: 20_000 },
    );
    assert.ok(sent.length <= 3, `the burst came as ${sent.join(", ")}`);

    // Then 4,000 steps/s for a second: 40 steps every 10 ms.
    const rest = stream.slice(burstEnd);
    for (let i = 0; i < rest.length; i += 40) {
      for (const m of rest.slice(i, i + 40)) feed.push(m);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await page.waitForFunction(
      () => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.step === 14_000,
      undefined,
      { timeout: 20_000 },
    );
    await waitFrames(page, 2);
    assert.equal(await shownStep(), 14_000, "the header shows the last step sent");
    assert.ok(mostUnconfirmed <= 2, `${mostUnconfirmed} deltas were waiting in the panel at once`);
    // The panel's mirror is the host's model: every kept extreme (the spike too) with its step.
    const mirror = await page.evaluate(() =>
      JSON.stringify(
        (window as unknown as { __gradcraft: { runs(): { toSnapshot(): unknown }[] } }).__gradcraft
          .runs()[0]
          .toSnapshot(),
      ),
    );
    assert.deepEqual(JSON.parse(mirror), JSON.parse(JSON.stringify(model.toSnapshot())));
    assert.ok(
      model.series
        .get("loss/click")
        ?.points()
        .some((p) => p.x === 4321 && p.y === 50),
    );
    assert.deepEqual(errors, []);
    await page.close();
  });
});

// Keep the protocol version in the recorded stream honest.
assert.equal(v.split(".").length, 2);
