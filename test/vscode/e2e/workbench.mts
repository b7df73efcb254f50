// A user's hands on the code-server workbench: the command palette, quick picks, the editor, the
// status bar, notifications, and the webviews (two iframes deep: iframe.webview.ready, then
// iframe#active-frame). Every step waits on what the user would see, never on time.
import { join } from "node:path";
import { it } from "node:test";
import type { Frame, Page } from "playwright-core";
import { waitFor } from "../harness.mjs";

/** A setting test/vscode/run.mjs passes to the browser suites. */
export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run this suite through test/vscode/run.mjs`);
  return value;
}

/**
 * Test steps that build on each other (a run must be live to be steered): once one fails, the
 * rest are skipped with that reason instead of each waiting out its own timeout.
 */
export function chainedSteps(): (title: string, body: () => Promise<void>) => void {
  let brokenBy: string | undefined;
  return (title, body) =>
    it(title, async (t) => {
      if (brokenBy) {
        t.skip(`not run: "${brokenBy}" failed`);
        return;
      }
      try {
        await body();
      } catch (error) {
        brokenBy = title;
        throw error;
      }
    });
}

export class Workbench {
  constructor(
    readonly page: Page,
    readonly artifacts: string,
  ) {}

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    // The explorer lists the folder once the remote file system answers.
    await this.page.locator(".explorer-folders-view .monaco-list-row").first().waitFor({ timeout: 60_000 });
  }

  async screenshot(name: string): Promise<string> {
    const path = join(this.artifacts, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /**
   * F1, the command's title, Enter. A new extension's commands may be missing from the palette at
   * first (its contributions are still being registered): close and retry until it is listed.
   */
  async runCommand(title: string, { timeoutMs = 60_000 } = {}): Promise<void> {
    const input = this.page.locator(".quick-input-widget input.input");
    await waitFor(
      `"${title}" in the command palette`,
      async () => {
        if (!(await input.isVisible())) await this.page.keyboard.press("F1");
        await input.waitFor({ state: "visible", timeout: 5_000 });
        await input.fill(`>${title}`);
        const row = this.page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
        try {
          await row.waitFor({ state: "visible", timeout: 3_000 });
        } catch {
          await this.page.keyboard.press("Escape");
          return false;
        }
        const label = (await row.getAttribute("aria-label")) ?? (await row.textContent()) ?? "";
        if (!label.includes(title)) return false;
        await row.click();
        return true;
      },
      { timeoutMs, intervalMs: 500 },
    );
  }

  /** Picks the item whose label contains `text` in the open quick pick. */
  async pick(text: string, { timeoutMs = 30_000 } = {}): Promise<void> {
    const row = this.page
      .locator(".quick-input-widget .quick-input-list .monaco-list-row", { hasText: text })
      .first();
    await row.waitFor({ state: "visible", timeout: timeoutMs });
    await row.click();
  }

  /** Whether a quick pick is showing right now. */
  async quickPickVisible(): Promise<boolean> {
    return this.page.locator(".quick-input-widget .quick-input-list").isVisible();
  }

  /** Text of the status bar entries. */
  async statusBarText(): Promise<string> {
    return ((await this.page.locator(".statusbar").textContent()) ?? "").replace(/\s+/g, " ");
  }

  /** Text of the notification toasts on screen. */
  async notificationsText(): Promise<string> {
    const toasts = this.page.locator(".notifications-toasts");
    if ((await toasts.count()) === 0) return "";
    return ((await toasts.textContent()) ?? "").replace(/\s+/g, " ");
  }

  /** Opens a workspace file with Quick Open. */
  async openFile(name: string): Promise<void> {
    await this.page.keyboard.press("Control+P");
    const input = this.page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible" });
    await input.fill(name);
    await this.pick(name);
    await this.page.locator(`.tab[aria-label^="${name}"]`).first().waitFor();
    await this.page.locator(".monaco-editor .view-lines").first().waitFor();
  }

  /**
   * On line `line` (1-based), selects `oldText`, which ends `trailing.length` characters before the
   * line's end, and types `newText` over it: the keys a user would press to change a value.
   */
  async replaceNearLineEnd(line: number, oldText: string, newText: string, trailing = ""): Promise<void> {
    await this.page.locator(".editor-group-container.active .monaco-editor .view-lines").first().click();
    await this.page.keyboard.press("Control+G");
    const input = this.page.locator(".quick-input-widget input.input");
    await input.waitFor({ state: "visible" });
    await input.fill(`:${line}`);
    await this.page.keyboard.press("Enter");
    await input.waitFor({ state: "hidden" });
    await this.page.keyboard.press("End");
    for (let i = 0; i < trailing.length; i++) await this.page.keyboard.press("ArrowLeft");
    for (let i = 0; i < oldText.length; i++) await this.page.keyboard.press("Shift+ArrowLeft");
    await this.page.keyboard.type(newText);
  }

  /** Ctrl+S, then wait until `onDisk()` says the file holds what was typed. */
  async save(onDisk: () => boolean): Promise<void> {
    await this.page.keyboard.press("Control+S");
    await waitFor("the editor to save the file", onDisk, { timeoutMs: 15_000 });
  }

  /**
   * The content frame of the extension's webview whose document body has data-surface=`surface`
   * (the panel's own marker: "dashboard" or "conflicts").
   */
  async webview(surface: string, { timeoutMs = 60_000 } = {}): Promise<Frame> {
    return waitFor(
      `the ${surface} webview`,
      async () => {
        for (const outer of await this.page.locator("iframe.webview.ready").elementHandles()) {
          const outerFrame = await outer.contentFrame();
          const inner = await outerFrame?.$("iframe#active-frame");
          const frame = await inner?.contentFrame();
          if (!frame) continue;
          const found = await frame.evaluate((wanted) => document.body?.dataset.surface === wanted, surface);
          if (found) return frame;
        }
        return undefined;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }
}

export type CanvasInk = { label: string; width: number; height: number; inked: number; colours: number };

/**
 * For each canvas in the frame: how many pixels are drawn (non-transparent and different from the
 * corner pixel, which is the background) and how many distinct colours they use. An empty chart
 * has axes at most; a filled one has many pixels in several colours.
 */
export async function canvasInk(frame: Frame): Promise<CanvasInk[]> {
  return frame.evaluate(() =>
    [...document.querySelectorAll("canvas")].map((canvas) => {
      const { width, height } = canvas;
      const label =
        canvas.getAttribute("aria-label") ?? canvas.closest("[data-card]")?.getAttribute("data-card") ?? "";
      const context = canvas.getContext("2d");
      if (!context || width === 0 || height === 0) return { label, width, height, inked: 0, colours: 0 };
      const data = context.getImageData(0, 0, width, height).data;
      const background = data.slice(0, 4).join(",");
      const colours = new Set<string>();
      let inked = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        const key = `${data[i]},${data[i + 1]},${data[i + 2]},${data[i + 3]}`;
        if (key === background) continue;
        inked += 1;
        // Quantised: antialiasing would otherwise count every edge shade.
        colours.add(`${data[i] >> 5},${data[i + 1] >> 5},${data[i + 2] >> 5}`);
      }
      return { label, width, height, inked, colours: colours.size };
    }),
  );
}

export type CanvasSeries = { label: string; seriesPixels: number; seriesColours: number };

/**
 * For each canvas in the frame: how many pixels are drawn in a data series' colour, and in how
 * many such colours. The panel draws series in the theme's chart colours (--vscode-charts-*, one
 * per task); axes, grid and labels use the foreground and grid colours, so a chart with no data
 * counts (almost) none. A chart colour the theme also uses for strategy markers
 * (--vscode-editorWarning-foreground) is left out, so that a marker line alone counts none either.
 */
/**
 * Waits until at least `count` of a dashboard's charts show data (pixels in the series' own
 * colours, not axes). A card draws only while it is on screen (docs/dashboard.md), so each poll
 * brings the next chart into view; once all are drawn the panel is scrolled back to its top.
 */
export async function chartsDrawn(frame: Frame, count = 4): Promise<string[]> {
  let next = 0;
  const drawn = await waitFor(
    `${count} dashboard charts to be drawn`,
    async () => {
      next = await frame.evaluate((i) => {
        const canvases = [...document.querySelectorAll("canvas")];
        if (canvases.length > 0) canvases[i % canvases.length].scrollIntoView({ block: "center" });
        return i + 1;
      }, next);
      const inked = (await seriesInk(frame)).filter((c) => c.seriesPixels >= 150);
      return inked.length >= count ? inked.map((c) => `${c.label} (${c.seriesPixels} px)`) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 500 },
  );
  await frame.evaluate(() => {
    window.scrollTo(0, 0);
    document.scrollingElement?.scrollTo(0, 0);
  });
  return drawn;
}

export async function seriesInk(frame: Frame): Promise<CanvasSeries[]> {
  // No named functions inside: the page has no `__name`, which tsx's keepNames would call.
  return frame.evaluate(() => {
    const probe = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
    if (!probe) return [];
    const style = getComputedStyle(document.body);
    const marker = style.getPropertyValue("--vscode-editorWarning-foreground").trim();
    const names = ["blue", "orange", "green", "purple", "yellow", "red"].map((n) => `--vscode-charts-${n}`);
    // Each colour as RGB, drawn through the probe (any CSS colour syntax); the marker's last.
    const colours = [...names.map((name) => style.getPropertyValue(name).trim()), marker]
      .filter((css) => css.length > 0)
      .map((css) => {
        probe.clearRect(0, 0, 1, 1);
        probe.fillStyle = "#000";
        probe.fillStyle = css;
        probe.fillRect(0, 0, 1, 1);
        return [...probe.getImageData(0, 0, 1, 1).data.slice(0, 3)];
      });
    const markerRgb = marker ? colours.pop() : undefined;
    // Core pixels of a line keep its colour; antialiased edges blend into the background.
    const tolerance = 24;
    const series = colours.filter(
      (c) => !markerRgb || c.some((value, i) => Math.abs(value - markerRgb[i]) > tolerance),
    );
    return [...document.querySelectorAll("canvas")].map((canvas) => {
      const label =
        canvas.getAttribute("aria-label") ?? canvas.closest("[data-card]")?.getAttribute("data-card") ?? "";
      const context = canvas.getContext("2d");
      if (!context || canvas.width === 0 || canvas.height === 0)
        return { label, seriesPixels: 0, seriesColours: 0 };
      const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
      const seen = new Set<number>();
      let seriesPixels = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue;
        for (let s = 0; s < series.length; s++) {
          const c = series[s];
          if (
            Math.abs(data[i] - c[0]) <= tolerance &&
            Math.abs(data[i + 1] - c[1]) <= tolerance &&
            Math.abs(data[i + 2] - c[2]) <= tolerance
          ) {
            seriesPixels += 1;
            seen.add(s);
            break;
          }
        }
      }
      return { label, seriesPixels, seriesColours: seen.size };
    });
  });
}
