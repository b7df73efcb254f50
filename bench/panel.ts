/**
 * Dashboard benchmark: streams a 6-task run of 100,000 steps through the host side (RunModel +
 * PanelFeed, as the extension runs them) into the dashboard webview (dist/webview.js) in headless
 * Chromium, one delta per update, and prints the median and 95th-percentile time per update (the
 * panel's ingest of the delta plus the redraw of every chart on screen) and the heap sizes.
 *
 *   npx tsx bench/panel.ts [--steps 100000] [--batch 100] [--no-browser]
 *
 * Goal (issue 6): p95 < 16 ms per update; heap < 200 MB however long the run.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Browser, chromium, type Page } from "playwright-core";
import { type HostToWebview, PanelFeed } from "../src/extension/panel/messages";
import { RunModel } from "../src/extension/panel/model";
import { chromiumArgs } from "../test/provision.mjs";
import { fakeRun } from "../test/webview/fakeRun";
import { pageHtml } from "../test/webview/themes";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const steps = option("steps", 100_000);
const batch = option("batch", 100);
const useBrowser = !args.includes("--no-browser");
const root = join(import.meta.dirname, "..");

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
// A full collection before reading the heap, so the figure is what is kept, not garbage.
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc") as () => void;
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;

async function main() {
  const model = new RunModel("bench", "bench"); // default settings: 2000 points per series
  const outbox: HostToWebview[] = [];
  const feed = new PanelFeed(model, (m) => outbox.push(m), {
    setTimer: () => 0,
    clearTimer: () => {},
    maxPendingSteps: batch * 2,
  });

  let browser: Browser | null = null;
  let page: Page | null = null;
  if (useBrowser) {
    browser = await chromium.launch({
      executablePath: process.env.GRADCRAFT_CHROMIUM ?? "/usr/bin/chromium",
      args: chromiumArgs,
    });
    const opened = await browser.newPage({ viewport: { width: 1400, height: 2600 }, deviceScaleFactor: 1 });
    page = opened;
    const bundle = readFileSync(join(root, "dist", "webview.js"), "utf8");
    await opened.route("http://panel.test/**", (route) =>
      route.request().url().endsWith("/webview.js")
        ? route.fulfill({ body: bundle, contentType: "text/javascript" })
        : route.fulfill({ body: pageHtml("dark", "dashboard"), contentType: "text/html" }),
    );
    await opened.goto("http://panel.test/index.html");
    await opened.waitForFunction(() =>
      (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === "ready"),
    );
  }
  const updateMs: number[] = [];
  const frameMs: number[] = [];
  const deliver = async () => {
    const messages = outbox.splice(0);
    if (!page || messages.length === 0) return;
    // Post, then wait until every chart on screen has drawn it (possibly over several frames).
    const spent = await page.evaluate(
      (list: unknown[]) =>
        new Promise<number[]>((resolve) => {
          const gc = (
            window as unknown as { __gradcraft: { perf: { frames: number[] }; drawing(): boolean } }
          ).__gradcraft;
          const before = gc.perf.frames.length;
          for (const m of list) window.postMessage(m, "*");
          const check = () =>
            gc.drawing() ? requestAnimationFrame(check) : resolve(gc.perf.frames.slice(before));
          setTimeout(() => requestAnimationFrame(check), 0);
        }),
      messages as unknown[],
    );
    if (spent.length > 0) {
      updateMs.push(spent.reduce((a, b) => a + b, 0));
      frameMs.push(...spent);
    }
  };

  const hostMs: number[] = [];
  let pendingSteps = 0;
  let started = false;
  let hostHeapMax = 0;
  const t0 = performance.now();
  for (const message of fakeRun({
    steps,
    seed: 7,
    evalEvery: 1000,
    switches: { [Math.floor(steps / 2)]: { name: "pcgrad", params: { seed: 0 } } },
  })) {
    const a = performance.now();
    feed.push(message);
    hostMs.push(performance.now() - a);
    if (message.type !== "step") continue;
    if (!started) {
      feed.ready();
      started = true;
      await deliver();
    }
    if (++pendingSteps >= batch) {
      pendingSteps = 0;
      feed.flush();
      await deliver();
      if (message.step % (steps / 10) < batch) {
        collect();
        hostHeapMax = Math.max(hostHeapMax, getHeapStatistics().used_heap_size);
        process.stderr.write(`  ${message.step} steps, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      }
    }
  }
  feed.flush();
  await deliver();
  collect();
  const hostHeap = getHeapStatistics().used_heap_size;
  console.log(`host side: ${steps} steps × ${model.tasks.length} tasks, ${hostMs.length} messages`);
  console.log(
    `  ingest per message: median ${quantile(hostMs, 0.5).toFixed(3)} ms, p95 ${quantile(hostMs, 0.95).toFixed(3)} ms`,
  );
  const snapshotBytes = JSON.stringify(model.toSnapshot()).length;
  console.log(
    `  snapshot sent on (re)open: ${mb(snapshotBytes)}; bench process heap after GC ${mb(hostHeap)} at the end, ${mb(Math.max(hostHeap, hostHeapMax))} at most (host model, generator, tsx and playwright together)`,
  );

  if (page && browser) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send("HeapProfiler.collectGarbage");
    const heap = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number; totalSize: number };
    const updates = updateMs.slice(1); // the first builds the charts from the snapshot
    console.log(
      `panel (Chromium, dashboard 1400×2600, all 15 charts on screen): ${updates.length} updates of ${batch} steps`,
    );
    console.log(
      `  time per update (ingest + every chart redrawn): median ${quantile(updates, 0.5).toFixed(2)} ms, p95 ${quantile(updates, 0.95).toFixed(2)} ms`,
    );
    console.log(
      `  time per frame (budgeted, what the UI thread feels): median ${quantile(frameMs, 0.5).toFixed(2)} ms, p95 ${quantile(frameMs, 0.95).toFixed(2)} ms, max ${Math.max(...frameMs).toFixed(2)} ms`,
    );
    console.log(`  JS heap after GC: ${mb(heap.usedSize)} used of ${mb(heap.totalSize)}`);
    await browser.close();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
