import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import {
  type HostToWebview,
  PanelFeed,
  parseWebviewMessage,
  toHostCommand,
} from "../../src/extension/panel/messages";
import { RunModel } from "../../src/extension/panel/model";
import { PROTOCOL_VERSION as v } from "../../src/protocol/messages";
import { chromiumArgs } from "../provision.mjs";
import { DEFAULT_TASKS, fakeRun } from "./fakeRun";
import { pageHtml, THEMES, type ThemeName } from "./themes";

/**
 * The dashboard webview, as shipped (dist/webview.js), in headless Chromium. A stand-in for the
 * VS Code webview API records what the panel posts; the host side is the real one: a RunModel
 * fed by a seeded fake run, sent through PanelFeed as a snapshot and batched deltas.
 */

const root = join(import.meta.dirname, "..", "..");
const artifacts = join(root, "test-artifacts", "webview");
const bundle = readFileSync(process.env.GRADCRAFT_WEBVIEW_BUNDLE ?? join(root, "dist", "webview.js"), "utf8");
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
    runs(): { step: number }[];
    cards(): string[];
    canvasOf(id: string): HTMLCanvasElement;
    heatmapCellCenter(row: number, column: number): { x: number; y: number };
    markerCount(id: string): string[];
    drawing(): boolean;
    xTitle(id: string): string | null;
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
    { setTimer: () => 0, clearTimer: () => {} },
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
  return { model, feed, outbox, deliver, stream };
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

async function heatmapPixel(page: Page, row: number, column: number) {
  return page.evaluate(
    ({ row, column }) => {
      const gc = (window as unknown as PanelWindow).__gradcraft;
      const canvas = gc.canvasOf("heatmap") as HTMLCanvasElement;
      const center = gc.heatmapCellCenter(row, column);
      const rect = canvas.getBoundingClientRect();
      // Off the centre, where the cell's value is written.
      const x = Math.round(center.x - rect.left - 14);
      const y = Math.round(center.y - rect.top - 12);
      const [r, g, b] = canvas.getContext("2d")!.getImageData(x, y, 1, 1).data;
      return { r, g, b };
    },
    { row, column },
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
    const csv = host.model.toCsv(exports[1].series);
    assert.ok(csv.includes("loss/click,123,"), "the host's CSV keeps the spike's step");

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
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("the conflicts side view and the other themes render legibly", async () => {
    for (const theme of ["light", "high-contrast"] as const) {
      const { page, errors } = await openPanel(theme, "conflicts", 360, 1100);
      const host = hostFor(page, "conflicts");
      for (const m of host.stream) host.feed.push(m);
      host.feed.ready();
      await host.deliver();
      await page.waitForFunction(
        (last) => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.step === last,
        LAST,
      );
      await waitFrames(page, 3);
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
    for (const m of host.stream) host.feed.push(m);
    host.feed.ready();
    await host.deliver();
    await page.waitForFunction(
      (last) => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.step === last,
      LAST,
    );
    await waitFrames(page, 3);
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
});

// Keep the protocol version in the recorded stream honest.
assert.equal(v.split(".").length, 2);
