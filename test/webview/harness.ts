/**
 * What the Chromium suites share: the panel as built (dist/webview.test.js: the shipped bundle plus
 * its read-only test hooks) on a page whose stand-in for the VS Code webview API records what the
 * panel posts, and the host side, the real one: a RunModel fed by a seeded fake run, sent through
 * PanelFeed as a snapshot and batched deltas. Each test file launches its own Chromium
 * (`chromiumPanels`); `node test/webview/run.mjs` runs them all.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { PanelFeed } from "../../src/extension/panel/feed";
import type { HostToWebview } from "../../src/panel/messages";
import { RunModel } from "../../src/panel/runModel";
import { chromiumArgs } from "../provision.mjs";
import { type FakeRunOptions, fakeRun } from "./fakeRun";
import { pageHtml, type ThemeName } from "./themes";

const root = join(import.meta.dirname, "..", "..");
export const artifacts = join(root, "test-artifacts", "webview");
const bundle = readFileSync(
  process.env.GRADCRAFT_WEBVIEW_BUNDLE ?? join(root, "dist", "webview.test.js"),
  "utf8",
);
const executablePath = process.env.GRADCRAFT_CHROMIUM ?? "/usr/bin/chromium";

export const STEPS = 600;
export const SWITCH_AT = 300;
export const LAST = STEPS;
/** The second coordinate of a unit gradient at cosine ±0.9 with task 0's. */
export const s = Math.sqrt(1 - 0.81);
/** The gradients at the last step: cos(click, longView) = -0.9, cos(click, like) = +0.9, the others orthogonal. */
export const FORCED = [
  [1, 0, 0, 0, 0, 0, 0, 0],
  [-0.9, s, 0, 0, 0, 0, 0, 0],
  [0.9, 0, s, 0, 0, 0, 0, 0],
  [0, 0, 0, 1, 0, 0, 0, 0],
  [0, 0, 0, 0, 1, 0, 0, 0],
  [0, 0, 0, 0, 0, 1, 0, 0],
];

/** What the page's stand-in for the VS Code API recorded, and the panel's test hooks. */
export interface Posted {
  type: string;
  id?: string;
  command?: Record<string, unknown>;
  series?: string[];
  csv?: string;
}
export interface PanelWindow {
  __posted: Posted[];
  __gradcraft: {
    runs(): { step: number; state: string }[];
    cards(): string[];
    canvasOf(id: string): HTMLCanvasElement;
    heatmapCellCenter(row: number, column: number, run?: number): { x: number; y: number };
    heatmapCells(run?: number): { shown: boolean; cells: { x: string; y: string; v: number }[] } | null;
    heatmapTooltip(run?: number): { title: string; lines: string[] } | null;
    markerCount(id: string): string[];
    markerStyles(
      id: string,
    ): { label: string; text: string; dash: number[]; row: number | null; labelled: boolean }[];
    laneBoxes(id: string): {
      boxes: { text: string; detail: string; left: number; top: number; width: number; height: number }[];
      plot: { left: number; top: number; right: number; bottom: number };
    } | null;
    drawing(): boolean;
    latestSteps(ids: readonly string[]): { pending: boolean; charts: Record<string, number> };
    xTitle(id: string): string | null;
    xRange(id: string): { min: number; max: number } | null;
    datasetLabels(id: string): string[];
  };
}

/** Launches Chromium for the test file that calls this (before its tests; closed after them). */
export function chromiumPanels() {
  let browser: Browser | undefined;
  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath, args: chromiumArgs });
  });
  after(async () => {
    await browser?.close();
  });

  async function openPanel(
    theme: ThemeName,
    surface: "dashboard" | "conflicts",
    width = 1400,
    height = 2600,
  ) {
    if (!browser)
      throw new Error("Chromium is not running: call chromiumPanels() at the top of the test file");
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

  return { openPanel };
}

/** The host side: a model fed by the fake run, its feed posting into the page. */
export function hostFor(
  page: Page,
  surface: "dashboard" | "conflicts",
  label = "run-1",
  seed = 1,
  switches: FakeRunOptions["switches"] = { [SWITCH_AT]: { name: "pcgrad", params: { seed: 0 } } },
) {
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
      switches,
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

export async function posted(page: Page): Promise<Posted[]> {
  return page.evaluate(() => (window as unknown as PanelWindow).__posted);
}

/** Waits until every chart on screen has drawn (the panel spreads redraws over frames), then n frames. */
export async function waitFrames(page: Page, n = 2) {
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
export async function pixelsNear(
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

export async function heatmapPixel(page: Page, row: number, column: number, run = 0) {
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

/**
 * A time chart's marker labels: no two boxes intersect, and none reaches into the plot (where
 * the data is drawn). Returns the boxes.
 */
export async function assertLaneClear(page: Page, id: string) {
  const lane = await page.evaluate(
    (card) => (window as unknown as PanelWindow).__gradcraft.laneBoxes(card),
    id,
  );
  assert.ok(lane, `${id} is a time chart`);
  const { boxes, plot } = lane;
  for (const [i, a] of boxes.entries()) {
    assert.ok(
      a.top + a.height <= plot.top,
      `${id}: label "${a.text}" reaches into the plot: ${JSON.stringify({ a, plot })}`,
    );
    assert.ok(
      a.left >= plot.left - 0.5 && a.left + a.width <= plot.right + 0.5,
      `${id}: "${a.text}" leaves the plot's width`,
    );
    for (const b of boxes.slice(i + 1)) {
      const apart =
        a.left + a.width <= b.left ||
        b.left + b.width <= a.left ||
        a.top + a.height <= b.top ||
        b.top + b.height <= a.top;
      assert.ok(apart, `${id}: labels "${a.text}" and "${b.text}" intersect: ${JSON.stringify({ a, b })}`);
    }
  }
  return boxes;
}
