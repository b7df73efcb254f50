// End to end, as a user in the browser: the workbench with the sample workspace, F1 → Start
// Training, the conflicts view and the dashboard filling with live charts, a strategy switch from
// the panel, the insights (checked against the event log) and their suggested switch, a
// learning-rate change saved in the config editor, and Stop. Run by test/vscode/run.mjs against
// a code-server it started (GRADCRAFT_E2E_* variables); a screenshot of each state goes to
// test-artifacts/vscode/.
import * as assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe } from "node:test";
import type { Frame } from "playwright-core";
import { FREQUENT_CONFLICT, UNEQUAL_NORMS, VANISHED_NORM } from "../../../src/panel/insights";
import { EventLogTail } from "../eventLogTail";
import { launchBrowser, processesWithEnv, waitFor, workbenchUrl } from "../harness.mjs";
import { canvasInk, chainedSteps, chartsDrawn, requiredEnv, Workbench } from "./workbench.mjs";

const port = Number(requiredEnv("GRADCRAFT_E2E_PORT"));
const workspace = requiredEnv("GRADCRAFT_E2E_WORKSPACE");
const chromium = requiredEnv("GRADCRAFT_E2E_CHROMIUM");
const artifacts = requiredEnv("GRADCRAFT_E2E_ARTIFACTS");
const harnessId = requiredEnv("GRADCRAFT_HARNESS_ID");
const extensionPath = process.env.GRADCRAFT_E2E_EXTENSION || undefined;
const server = { port, base: `http://127.0.0.1:${port}` };
const CONFIG = "tiny.gradcraft.json";

const trainers = () =>
  processesWithEnv("GRADCRAFT_HARNESS_ID", harnessId).filter(
    (p) => /\bcli\.js\b/.test(p.cmdline) && /\btrain\b/.test(p.cmdline),
  );

/** The live run's folder under the workspace (the newest one). */
function newestRunDir(): string | undefined {
  const runs = join(workspace, ".gradcraft", "runs");
  if (!existsSync(runs)) return undefined;
  const names = readdirSync(runs).sort();
  return names.length > 0 ? join(runs, names[names.length - 1]) : undefined;
}

/**
 * Reads a run's events.ndjson from where the previous read stopped: the trainer writes hundreds of
 * steps a second, and the test only needs the messages it looks for.
 */

/** Canvases of a frame with real drawing on them: many pixels, several colours. */
async function filledCanvases(frame: Frame, minInk = 400): Promise<string[]> {
  return (await canvasInk(frame)).filter((c) => c.inked >= minInk && c.colours >= 2).map((c) => c.label);
}

/** What the panel's model holds as markers, and the cards it has: for failure messages. */
async function markerDiagnostics(frame: Frame): Promise<string> {
  return frame.evaluate(() => {
    const hooks = (
      window as unknown as {
        __gradcraft?: { cards(): string[]; runs(): { markers: { step: number; label: string }[] }[] };
      }
    ).__gradcraft;
    if (!hooks) return "the panel exposes no __gradcraft hooks";
    const runs = hooks.runs();
    return `cards ${JSON.stringify(hooks.cards())}; model markers ${JSON.stringify(runs.map((r) => r.markers))}`;
  });
}

/** Marker labels on a time chart of the dashboard (the panel's read-only test hook). */
async function markers(frame: Frame, card = "loss"): Promise<string[]> {
  return frame.evaluate((id) => {
    const hooks = (window as unknown as { __gradcraft?: { markerCount(id: string): string[] | number } })
      .__gradcraft;
    const labels = hooks?.markerCount(id);
    return Array.isArray(labels) ? labels : [];
  }, card);
}

/** The insights card's lines as the panel shows them now (one read: the card may redraw between two). */
interface InsightLines {
  window: string;
  pairs: string;
  norms: string;
  suggestion: string;
  applyHidden: boolean;
}
async function insightLines(frame: Frame): Promise<InsightLines> {
  // No named function inside: the page has no __name helper for tsx to wrap it in.
  return frame.evaluate(() => {
    const lines: Record<string, string> = {};
    for (const name of ["window", "pairs", "norms", "suggestion"])
      lines[name] = (document.querySelector(`[data-insight="${name}"]`)?.textContent ?? "").trim();
    const apply = document.querySelector<HTMLButtonElement>('button[data-control="apply-suggestion"]');
    return { ...lines, applyHidden: !apply || apply.hidden } as InsightLines;
  });
}

type LoggedStep = { type: "step"; step: number; cosines: number[]; norms: number[] };

/** From the run's own log: over steps from..to, a pair's conflict share and each task's mean norm. */
function logFigures(messages: { type: string; [key: string]: unknown }[], from: number, to: number) {
  const tasks = (messages.find((m) => m.type === "hello")?.tasks ?? []) as string[];
  const steps = messages.filter(
    (m): m is LoggedStep & { [key: string]: unknown } =>
      m.type === "step" && (m.step as number) >= from && (m.step as number) <= to,
  );
  const k = tasks.length;
  const share = (a: string, b: string) => {
    const at = tasks.indexOf(a) * k + tasks.indexOf(b);
    // Six decimals, as the run model keeps cosines (src/panel/runModel.ts).
    return steps.filter((s) => Math.round(s.cosines[at] * 1e6) / 1e6 < 0).length / steps.length;
  };
  const means = tasks.map((_, t) => steps.reduce((sum, s) => sum + s.norms[t], 0) / steps.length);
  return { tasks, steps: steps.length, share, means };
}

const step = chainedSteps();

describe("GradCraft Studio in the browser", { concurrency: false }, () => {
  let close: () => Promise<void>;
  let bench: Workbench;
  let dashboard: Frame;
  let conflicts: Frame;
  let switchedTo: string | undefined;

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    const browser = await launchBrowser(chromium);
    close = browser.close;
    bench = new Workbench(await browser.context.newPage(), artifacts);
  });

  after(async () => {
    if (bench) await bench.screenshot("e2e-last").catch(() => undefined);
    await close?.();
  });

  step("opens the workbench on the sample workspace", async () => {
    await bench.open(workbenchUrl(server, { folder: workspace, extensionPath }));
    await bench.page.locator(".explorer-folders-view .monaco-list-row", { hasText: CONFIG }).waitFor();
    await bench.screenshot("e2e-01-workbench");
  });

  step("F1 → GradCraft: Start Training starts a live run", async () => {
    await bench.runCommand("GradCraft: Start Training");
    // With configs in the workspace the command asks which one (or starts the only one).
    const configRow = bench.page.locator(".quick-input-widget .quick-input-list .monaco-list-row", {
      hasText: CONFIG,
    });
    const next = await waitFor(
      "the config pick or a live run",
      async () => {
        if (trainers().length > 0) return "started";
        return (await configRow.first().isVisible()) ? "pick" : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    if (next === "pick") await configRow.first().click();
    await waitFor("a trainer process", () => trainers().length > 0, { timeoutMs: 60_000 });
    await waitFor(
      "the status bar to show the live run's step",
      async () => /step\s*\d+/i.test(await bench.statusBarText()),
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    await bench.screenshot("e2e-02-started");
  });

  step("the conflicts side panel shows the live heatmap and the gradient norms", async () => {
    // The GradCraft container in the activity bar.
    await bench.page.locator('.activitybar .action-item a[aria-label^="GradCraft"]').first().click();
    conflicts = await bench.webview("conflicts");
    const filled = await waitFor(
      "the heatmap and the norm bars to be drawn",
      async () => {
        const labels = await filledCanvases(conflicts);
        return labels.length >= 2 ? labels : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.ok(filled.length >= 2, `drawn canvases: ${filled}`);
    await bench.screenshot("e2e-03-conflicts");
  });

  step("the dashboard opens and its charts fill with data", async () => {
    await bench.runCommand("GradCraft: Open Dashboard");
    dashboard = await bench.webview("dashboard");
    const filled = await chartsDrawn(dashboard);
    assert.ok(filled.length >= 4, `drawn canvases: ${filled}`);
    await bench.screenshot("e2e-04-dashboard");
  });

  step("switching the strategy in the panel is acknowledged and marked on the charts", async () => {
    const select = dashboard.locator("select#strategy-select");
    await select.waitFor();
    const current = await select.inputValue();
    const options = await select
      .locator("option")
      .evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    // PCGrad by default: the peer a GradCraft user compares with first. GRADCRAFT_E2E_STRATEGY
    // names another (to go past a defect in one strategy's form while it is being fixed).
    const wanted = process.env.GRADCRAFT_E2E_STRATEGY || "pcgrad";
    const next = options.find((o) => o !== current && o === wanted) ?? options.find((o) => o !== current);
    assert.ok(next, `no other strategy to switch to (options: ${options})`);
    const before = await markers(dashboard);
    const runDir = newestRunDir();
    assert.ok(runDir, "no run folder in the workspace");
    const log = new EventLogTail(join(runDir, "events.ndjson"));
    log.readNew();
    await select.selectOption(next);
    await dashboard.locator('button[data-control="set-strategy"]').click();
    // First where the truth is: the trainer's own record says whether it took the switch.
    const outcome = await waitFor(
      `the trainer to record the switch to ${next} (events.ndjson)`,
      () =>
        log
          .readNew()
          .find(
            (m) =>
              (m.type === "strategy-changed" && m.name === next && m.reason === "command") ||
              (m.type === "ack" && m.command === "set-strategy"),
          ),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    if (outcome.type === "ack" && outcome.ok === false) {
      assert.fail(`the trainer refused the switch the panel sent: ${String(outcome.error)}`);
    }
    const status = dashboard.locator('[data-status="set-strategy"]');
    await waitFor(
      `the switch to ${next} to be acknowledged`,
      async () => /switched/i.test((await status.textContent()) ?? ""),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // Charts off screen are not redrawn (the panel draws only what is visible): look at one.
    await dashboard.locator('[data-card="loss"]').scrollIntoViewIfNeeded();
    const after = await waitFor(
      `a marker for ${next}`,
      async () => {
        const now = await markers(dashboard);
        return now.length > before.length && now.some((m) => m.includes(next)) ? now : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    ).catch(async (error) => {
      throw new Error(
        `${error.message}; chart markers ${JSON.stringify(await markers(dashboard))}; ${await markerDiagnostics(dashboard)}`,
      );
    });
    assert.ok(after.some((m) => m.includes(next)));
    switchedTo = next;
    await bench.screenshot("e2e-05-strategy-switched");
  });

  step(
    "the insights name the run's conflicts as its event log has them, and Apply suggestion switches the run",
    async () => {
      conflicts = await bench.webview("conflicts");
      await conflicts.locator('[data-card="insights"]').scrollIntoViewIfNeeded();
      const runDir = newestRunDir();
      assert.ok(runDir, "no run folder in the workspace");
      const log = new EventLogTail(join(runDir, "events.ndjson"));
      // A full window, every step of it seen (no coalescing): the card's figures are the log's.
      // The view draws the switch above at its next redraw: until then its card may still speak
      // of the strategy before it.
      const shown = await waitFor(
        `the insights to read a full window of the run, drawn since the switch to ${switchedTo}`,
        async () => {
          const lines = await insightLines(conflicts);
          const running = /^No switch suggested: (\S+) already/.exec(lines.suggestion)?.[1];
          const current = running === undefined || running === switchedTo;
          return /^Over the last \d+ steps \(\d+–\d+\)\.$/.test(lines.window) && current ? lines : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500 },
      );
      await bench.screenshot("e2e-05b-insights");
      const [, count, from, to] = /^Over the last (\d+) steps \((\d+)–(\d+)\)\.$/.exec(shown.window) ?? [];
      const figures = logFigures(log.read(), Number(from), Number(to));
      assert.equal(figures.steps, Number(count), `steps ${from}–${to} in the log`);
      const listed = [...shown.pairs.matchAll(/(\S+) ↔ (\S+) (\d+) %/g)];
      assert.ok(listed.length > 0, `the run's tasks conflict: ${shown.pairs}`);
      for (const [, a, b, percent] of listed)
        assert.equal(Number(percent), Math.round(figures.share(a, b) * 100), `${a} ↔ ${b}: ${shown.pairs}`);
      // Past maxPointsPerSeries steps the panel's norm means are over its kept minima and maxima
      // (docs/dashboard.md, Insights): close to the log's, not equal.
      const norms = /^Gradient norms ([\d.]+)× apart: (\S+) largest \(.+\), (\S+) smallest \(.+\)\.$/.exec(
        shown.norms,
      );
      assert.ok(norms, shown.norms);
      const mean = (task: string) => figures.means[figures.tasks.indexOf(task)];
      // A gradient that vanished (under VANISHED_NORM of the largest) is named apart, not compared.
      const top = Math.max(...figures.means);
      const alive = figures.means.filter((m) => m > top * VANISHED_NORM);
      const logRatio = top / Math.min(...alive);
      assert.ok(mean(norms[2]) >= 0.9 * top, `${norms[2]} is (nearly) the largest: ${figures.means}`);
      assert.ok(
        mean(norms[3]) <= 1.1 * Math.min(...alive),
        `${norms[3]} is (nearly) the smallest: ${figures.means}`,
      );
      for (const [t, task] of figures.tasks.entries())
        if (figures.means[t] < 0.5 * top * VANISHED_NORM)
          assert.ok(
            shown.norms.includes(`${task} (`),
            `${task}'s vanished gradient is named: ${shown.norms}`,
          );
      assert.ok(
        Math.abs(Number(norms[1]) / logRatio - 1) < 0.15,
        `ratio ${norms[1]} vs the log's ${logRatio}`,
      );
      // What the figures call for under PCGrad, switched to above (docs/dashboard.md, Insights).
      const [, topA, topB] = listed[0];
      const frequent = figures.share(topA, topB) >= FREQUENT_CONFLICT;
      if (!shown.suggestion.startsWith("Suggested: gradcraft")) {
        const why = shown.suggestion;
        if (!frequent) assert.match(why, /^No switch suggested: no pair conflicts in 30 % of the steps/);
        else if (switchedTo === "pcgrad") {
          assert.equal(why, "No switch suggested: pcgrad already handles the conflicts.");
          assert.ok(logRatio < UNEQUAL_NORMS / 0.85, `norms ${logRatio}× apart call for GradCraft: ${why}`);
        } else assert.match(why, /^No switch suggested: /);
        console.log(`# no GradCraft suggestion on this run (${why}): Apply suggestion not clicked`);
        return;
      }
      assert.ok(frequent && logRatio >= 0.85 * UNEQUAL_NORMS, `${shown.suggestion} (log ratio ${logRatio})`);
      assert.ok(
        shown.suggestion.includes(
          `${topA} and ${topB} conflict in ${listed[0][3]} % of the last ${count} steps`,
        ),
        shown.suggestion,
      );
      assert.equal(shown.applyHidden, false);
      log.readNew();
      await conflicts.locator('button[data-control="apply-suggestion"]').click();
      const outcome = await waitFor(
        "the trainer to record the suggested switch (events.ndjson)",
        () =>
          log
            .readNew()
            .find(
              (m) =>
                (m.type === "strategy-changed" && m.name === "gradcraft" && m.reason === "command") ||
                (m.type === "ack" && m.command === "set-strategy" && m.ok === false),
            ),
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      assert.equal(outcome.type, "strategy-changed", `the trainer refused it: ${JSON.stringify(outcome)}`);
      assert.equal((outcome.params as { tau?: number }).tau, 0.5);
      switchedTo = "gradcraft";
      await waitFor(
        "the suggestion's switch to be acknowledged in the Conflicts view",
        async () =>
          /^switched at step \d+$/.test(
            (await conflicts.locator('[data-status="apply-suggestion"]').textContent()) ?? "",
          ),
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      await waitFor(
        "a marker for the suggested switch on the dashboard",
        async () => (await markers(dashboard)).some((m) => m.includes("gradcraft")),
        { timeoutMs: 30_000, intervalMs: 250 },
      );
      await conflicts.locator('[data-card="insights"]').scrollIntoViewIfNeeded();
      await bench.screenshot("e2e-05c-insights-applied");
    },
  );

  step("a learning rate edited and saved in the config editor is applied to the run", async () => {
    const text = readFileSync(join(workspace, CONFIG), "utf8");
    const lines = text.split("\n");
    const index = lines.findIndex((l) => l.includes('"learningRate"'));
    assert.ok(index >= 0, `${CONFIG} has no learningRate line`);
    const value = /"learningRate":\s*([0-9.eE+-]+)(.*)$/.exec(lines[index]);
    assert.ok(value, `cannot read the learning rate on line ${index + 1}: ${lines[index]}`);
    assert.equal(Number(value[1]), 0.001, "the sample config's learning rate changed: update this test");
    await bench.openFile(CONFIG);
    await bench.replaceNearLineEnd(index + 1, value[1], "0.002", value[2]);
    await bench.save(() => /"learningRate": 0\.002/.test(readFileSync(join(workspace, CONFIG), "utf8")));
    // Only that line changed, and the file is still the JSON it was.
    const saved = readFileSync(join(workspace, CONFIG), "utf8");
    let parsed: { training: { learningRate: number } };
    try {
      parsed = JSON.parse(saved);
    } catch (error) {
      throw new Error(`the saved config is not JSON any more (${(error as Error).message}):\n${saved}`);
    }
    assert.equal(parsed.training.learningRate, 0.002);
    assert.deepEqual(
      saved.split("\n").filter((l, i) => l !== lines[i]),
      [lines[index].replace(/0\.001/, "0.002")],
    );
    await bench.screenshot("e2e-06-config-saved");
    await bench.runCommand("GradCraft: Open Dashboard");
    dashboard = await bench.webview("dashboard");
    await waitFor(
      "a learning-rate marker on the dashboard",
      async () => {
        await dashboard.locator('[data-card="loss"]').scrollIntoViewIfNeeded();
        return (await markers(dashboard)).some((m) => /learningRate.*0\.002/.test(m));
      },
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    // The save changed the learning rate only: the strategy chosen in the panel stays.
    const runDir = newestRunDir();
    assert.ok(runDir);
    const changes = new EventLogTail(join(runDir, "events.ndjson"))
      .read()
      .filter((m) => m.type === "strategy-changed");
    assert.equal(
      changes.at(-1)?.name,
      switchedTo,
      `saving the config switched the strategy: ${JSON.stringify(changes.at(-1))}`,
    );
    await bench.screenshot("e2e-07-learning-rate-applied");
  });

  step("Stop ends the run and leaves no trainer process", async () => {
    await bench.runCommand("GradCraft: Stop Training");
    await waitFor("the trainer to exit", () => trainers().length === 0, { timeoutMs: 60_000 });
    await waitFor(
      "the status bar to drop the live run",
      async () => !/step\s*\d+/i.test(await bench.statusBarText()),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await bench.screenshot("e2e-08-stopped");
  });
});
