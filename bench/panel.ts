/**
 * Dashboard benchmarks. Two modes:
 *
 * Throughput (default): streams a 6-task run of 100,000 steps through the host side (RunModel +
 * PanelFeed, as the extension runs them) into the dashboard webview (dist/webview.test.js: the
 * panel with its test hooks) in headless Chromium, one delta per update, and prints the median
 * and 95th-percentile time per update (the panel's ingest of the delta plus the redraw of every
 * chart on screen) and the heap sizes.
 *
 *   npx tsx bench/panel.ts [--steps 100000] [--batch 100] [--no-browser]
 *
 * Goal (docs/benchmarks.md): p95 < 16 ms per update; heap < 200 MB however long the run.
 *
 * Lag (--lag): how far the dashboard falls behind a fast trainer. A child process (this file with
 * --trainer) streams a fake run at a fixed rate through the trainer's real link (TrainerLink on
 * stdout, bounded queue); the host side is the extension's: SpawnedConnection -> LiveRun ->
 * PanelFeed with its real timers; every message the host posts goes to the webview in Chromium
 * without waiting for it (as VS Code's webview.postMessage does). The page samples the step its
 * header shows every 50 ms; lag = the trainer's step at that moment minus the shown step.
 *
 *   npx tsx bench/panel.ts --lag [--steps 20000] [--rate 500]
 *
 * Goal: the panel shows the trainer's step within a fraction of a second at any rate.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getHeapStatistics, setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Browser, chromium, type Page } from "playwright-core";
import { PanelFeed } from "../src/extension/panel/feed";
import { type ExitInfo, SpawnedConnection } from "../src/extension/runs/connection";
import { LiveRun } from "../src/extension/runs/liveRun";
import type { HostToWebview } from "../src/panel/messages";
import { RunModel } from "../src/panel/runModel";
import { TrainerLink } from "../src/protocol/link/trainerLink";
import { chromiumArgs } from "../test/provision.mjs";
import { fakeRun } from "../test/webview/fakeRun";
import { pageHtml } from "../test/webview/themes";

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const steps = option("steps", args.includes("--lag") || args.includes("--trainer") ? 20_000 : 100_000);
const batch = option("batch", 100);
const useBrowser = !args.includes("--no-browser");
const root = join(import.meta.dirname, "..");

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}
/** The built dashboard webview in headless Chromium, all 15 charts on screen, once it said ready. */
async function openDashboard(): Promise<{ browser: Browser; page: Page }> {
  const browser = await chromium.launch({
    executablePath: process.env.GRADCRAFT_CHROMIUM ?? "/usr/bin/chromium",
    args: chromiumArgs,
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 2600 }, deviceScaleFactor: 1 });
  const bundle = readFileSync(join(root, "dist", "webview.test.js"), "utf8");
  await page.route("http://panel.test/**", (route) =>
    route.request().url().endsWith("/webview.js")
      ? route.fulfill({ body: bundle, contentType: "text/javascript" })
      : route.fulfill({ body: pageHtml("dark", "dashboard"), contentType: "text/html" }),
  );
  await page.goto("http://panel.test/index.html");
  await page.waitForFunction(() =>
    (window as unknown as { __posted: { type: string }[] }).__posted.some((m) => m.type === "ready"),
  );
  return { browser, page };
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
    // This loop waits for every redraw itself.
    appliedTimeoutMs: 0,
  });

  let browser: Browser | null = null;
  let page: Page | null = null;
  if (useBrowser) ({ browser, page } = await openDashboard());
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

// ---------------------------------------------------------------------------------------------
// Lag mode

/** The trainer side: a fake run written at `rate` steps/s through the real TrainerLink on stdout. */
async function trainer(): Promise<void> {
  const rate = option("rate", 500);
  const origin = option("origin", Date.now());
  const link = await TrainerLink.open({ stdoutFd: 1, stdin: null });
  const messages = fakeRun({ steps, seed: 7, evalEvery: 1000, msPerStep: 1000 / rate });
  let sent = 0;
  let finished = false;
  await new Promise<void>((resolve) => {
    const tick = () => {
      // Steps due by now; the link never blocks, a slow reader gets steps coalesced.
      const due = Math.min(steps, Math.floor(((Date.now() - origin) * rate) / 1000));
      while (!finished && sent < due) {
        const next = messages.next();
        if (next.done) {
          finished = true;
          break;
        }
        const message = next.value;
        if (message.type === "step") {
          sent = message.step;
          link.send({ ...message, wallMs: Date.now() - origin });
        } else link.send(message);
      }
      if (finished || sent >= steps) {
        for (let m = messages.next(); !m.done; m = messages.next()) link.send(m.value);
        process.stderr.write(`trainer: ${sent} steps in ${Date.now() - origin} ms\n`);
        resolve();
      } else setTimeout(tick, 1);
    };
    tick();
  });
  const stats = link.readerStats();
  process.stderr.write(`trainer: coalesced for stdout ${stats[0]?.coalesced ?? 0}\n`);
  await link.close(10_000);
}

async function lag(): Promise<void> {
  const rate = option("rate", 500);
  const { browser, page } = await openDashboard();
  // What the user reads: the header's "step N". Sampled in the page, so a busy page samples late
  // but never wrongly.
  await page.evaluate(() => {
    const w = window as unknown as { __samples: number[][] };
    w.__samples = [];
    const shown = () => {
      for (const fact of document.querySelectorAll(".fact"))
        if (fact.firstChild?.textContent?.trim() === "step")
          return Number(fact.querySelector("b")?.textContent);
      return 0;
    };
    setInterval(() => w.__samples.push([Date.now(), shown()]), 50);
  });

  const origin = Date.now() + 3000; // the child needs a moment to start (tsx)
  const connection = new SpawnedConnection({
    command: process.execPath,
    args: [
      "--import",
      "tsx",
      join(import.meta.dirname, "panel.ts"),
      "--trainer",
      "--steps",
      String(steps),
      "--rate",
      String(rate),
      "--origin",
      String(origin),
    ],
    cwd: root,
    env: { ...process.env } as Record<string, string>,
    shell: false,
  });
  connection.onStderr = (line) => process.stderr.write(`  ${line}\n`);
  const run = new LiveRun({ id: "bench", label: "bench", connection, maxPoints: 2000 });
  let posts = 0;
  let postedBytes = 0;
  let lastPosted = 0;
  // (time, step) at each post: how far the host itself is behind, before the webview's share.
  const hostPosts: number[][] = [];
  const feed = new PanelFeed(run.model, (message) => {
    posts++;
    postedBytes += JSON.stringify(message).length;
    if (message.type === "delta") lastPosted = message.patch.step;
    else if (message.type === "snapshot") lastPosted = message.run.step;
    hostPosts.push([Date.now(), lastPosted]);
    // Not awaited: VS Code's postMessage does not wait for the webview either.
    void page.evaluate((m) => window.postMessage(m, "*"), message as unknown).catch(() => undefined);
  });
  run.onDidMessage((message) => feed.push(message, false));
  // What the panel posts back (its `applied` confirmations) reaches the feed, as through the router.
  await page.exposeFunction("__toHost", (m: { type: string }) => {
    if (m.type === "applied") feed.applied();
  });
  await page.evaluate(() => {
    const w = window as unknown as { __posted: unknown[]; __toHost(m: unknown): void };
    const posted = w.__posted;
    posted.push = (...items: unknown[]) => {
      for (const m of items) w.__toHost(m);
      return Array.prototype.push.apply(posted, items);
    };
  });
  let received = 0;
  run.onDidMessage((message) => {
    if (message.type === "step") received++;
  });
  feed.ready();
  const exited = new Promise<ExitInfo>((resolve) => run.onDidExit(resolve));
  const exit = await exited;
  const trainerDone = origin + (steps * 1000) / rate;
  // Wait for the panel to show the last step (or give up after a minute).
  const caughtUp = await page
    .waitForFunction(
      (last) => (window as unknown as { __samples: number[][] }).__samples.some((s) => s[1] >= last),
      steps,
      { timeout: 60_000, polling: 50 },
    )
    .then(() => true)
    .catch(() => false);
  const samples = await page.evaluate(() => (window as unknown as { __samples: number[][] }).__samples);
  const frames = await page.evaluate(
    () => (window as unknown as { __gradcraft: { perf: { frames: number[] } } }).__gradcraft.perf.frames,
  );
  await browser.close();

  const trainerStepAt = (t: number) => Math.max(0, Math.min(steps, Math.floor(((t - origin) * rate) / 1000)));
  const during = samples.filter(([t]) => t >= origin + 1000 && t <= trainerDone);
  const lagSteps = during.map(([t, shown]) => trainerStepAt(t) - shown);
  const lagMs = lagSteps.map((n) => (n * 1000) / rate);
  // The second half: the history's buckets are wider by then, so each delta carries fewer.
  const late = during
    .filter(([t]) => t >= (origin + trainerDone) / 2)
    .map(([t, shown]) => trainerStepAt(t) - shown);
  const hostLag = hostPosts
    .filter(([t]) => t >= origin + 1000 && t <= trainerDone)
    .map(([t, step]) => trainerStepAt(t) - step);
  const firstFull = samples.find(([, shown]) => shown >= steps);
  const atEnd = samples.find(([t]) => t >= trainerDone);
  console.log(
    `lag: ${steps} steps at ${rate} steps/s (trainer exit ${exit.code}); host received ${received} step messages (the rest coalesced by the link), posted ${posts} messages (${mb(postedBytes)}), last step posted ${lastPosted}`,
  );
  console.log(
    `  behind the trainer while it ran: median ${quantile(lagSteps, 0.5)} steps (${quantile(lagMs, 0.5).toFixed(0)} ms), p95 ${quantile(lagSteps, 0.95)} steps (${quantile(lagMs, 0.95).toFixed(0)} ms), max ${Math.max(...lagSteps)} steps; ${during.length} samples`,
  );
  console.log(
    `  in its second half: median ${quantile(late, 0.5)} steps (${((quantile(late, 0.5) * 1000) / rate).toFixed(0)} ms), p95 ${quantile(late, 0.95)} steps (${((quantile(late, 0.95) * 1000) / rate).toFixed(0)} ms)`,
  );
  console.log(
    `  panel frames: ${frames.length}, work per frame median ${quantile(frames, 0.5).toFixed(1)} ms, p95 ${quantile(frames, 0.95).toFixed(1)} ms`,
  );
  console.log(
    `  the host's posts behind the trainer: median ${quantile(hostLag, 0.5)} steps, p95 ${quantile(hostLag, 0.95)} steps`,
  );
  console.log(
    `  when the trainer finished: panel showed step ${atEnd?.[1] ?? "?"} (${steps - (atEnd?.[1] ?? 0)} behind); last step shown ${firstFull ? `${firstFull[0] - trainerDone} ms after the trainer sent it` : caughtUp ? "(late)" : "never within 60 s"}`,
  );
}

if (args.includes("--trainer")) {
  trainer().catch((error) => {
    console.error(error);
    process.exit(1);
  });
} else {
  (args.includes("--lag") ? lag() : main()).catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
