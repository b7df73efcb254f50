// End to end, two journeys that only a real window can show:
//   1. a trainer started in a terminal (`gradcraft train --listen`) is attached from VS Code, and
//      pause, resume, a strategy switch and stop sent from the window take effect in that trainer
//      (its own event log and its exit code say so, not only the UI);
//   2. dashboards come back after Developer: Reload Window (the webview panel serializer): one on
//      the finished run, with its last step and charts; one on a second terminal run still
//      training, attached again and live; each panel on its own run.
// Run by test/vscode/run.mjs after workbench.e2e.mts, against the same code-server and workspace.
import * as assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe } from "node:test";
import type { Frame } from "playwright-core";
import { automaticRunName } from "../../../src/protocol/runIdentity";
import { EventLogTail } from "../eventLogTail";
import { launchBrowser, root, waitFor, workbenchUrl } from "../harness.mjs";
import { chainedSteps, chartsDrawn, requiredEnv, Workbench } from "./workbench.mjs";

const port = Number(requiredEnv("GRADCRAFT_E2E_PORT"));
const workspace = requiredEnv("GRADCRAFT_E2E_WORKSPACE");
const chromium = requiredEnv("GRADCRAFT_E2E_CHROMIUM");
const artifacts = requiredEnv("GRADCRAFT_E2E_ARTIFACTS");
requiredEnv("GRADCRAFT_HARNESS_ID"); // inherited by the terminal trainer, so teardown can find it
const extensionPath = process.env.GRADCRAFT_E2E_EXTENSION || undefined;
const server = { port, base: `http://127.0.0.1:${port}` };
const CONFIG = "tiny.gradcraft.json";
const runsFolder = join(workspace, ".gradcraft", "runs");

type Message = { type: string; [key: string]: unknown };

/** What the dashboard's webview holds (its read-only test hook): one entry per run shown. */
type PanelRunView = { runId: string; label: string; state: string; step: number; strategy?: string };
async function panelRuns(frame: Frame): Promise<PanelRunView[]> {
  return frame.evaluate(() => {
    const hooks = (
      window as unknown as {
        __gradcraft?: {
          runs(): {
            runId: string;
            label: string;
            state: string;
            step: number;
            strategy: { name: string } | null;
          }[];
        };
      }
    ).__gradcraft;
    return (hooks?.runs() ?? []).map((r) => ({
      runId: r.runId,
      label: r.label,
      state: r.state,
      step: r.step,
      strategy: r.strategy?.name,
    }));
  });
}

/**
 * The dashboard webview whose run satisfies `wanted` (several dashboards may be open; a hidden one
 * has no frame until its tab is shown).
 */
async function dashboardWhere(
  bench: Workbench,
  what: string,
  wanted: (view: PanelRunView) => boolean,
  timeoutMs = 60_000,
): Promise<{ frame: Frame; view: PanelRunView }> {
  return waitFor(
    what,
    async () => {
      for (const outer of await bench.page.locator("iframe.webview.ready").elementHandles()) {
        const frame = await (await (await outer.contentFrame())?.$("iframe#active-frame"))?.contentFrame();
        if (!frame) continue;
        const isDashboard = await frame.evaluate(() => document.body?.dataset.surface === "dashboard");
        if (!isDashboard) continue;
        const views = await panelRuns(frame);
        if (views.length === 1 && wanted(views[0])) return { frame, view: views[0] };
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** F1 → Developer: Reload Window, then the new workbench with its editors restored. */
async function reloadWindow(bench: Workbench, dashboardTabs: number): Promise<void> {
  await bench.runCommand("Developer: Reload Window");
  await bench.page.waitForLoadState("domcontentloaded");
  await bench.page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
  await waitFor(
    `${dashboardTabs} GradCraft dashboard tab(s) after the reload`,
    async () =>
      (await bench.page.locator(".tabs-container .tab", { hasText: "GradCraft" }).count()) === dashboardTabs,
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

/**
 * A trainer as a user starts it in a terminal: the project's CLI on the workspace's config, with
 * the live link served on a local socket. Its exit code is kept; its output goes to the artifacts.
 */
class TerminalTrainer {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly before: Set<string>;

  constructor(logName: string) {
    this.before = new Set(existsSync(runsFolder) ? readdirSync(runsFolder) : []);
    const cli = join(extensionPath ?? root, "dist", "cli.js");
    const output = createWriteStream(join(artifacts, logName));
    // The environment carries GRADCRAFT_HARNESS_ID: the harness ends it whatever happens here.
    this.child = spawn(process.execPath, [cli, "train", CONFIG, "--listen"], {
      cwd: workspace,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.pipe(output, { end: false });
    this.child.stderr?.pipe(output, { end: false });
    this.exited = new Promise((resolve) => {
      this.child.on("exit", (code, signal) => {
        this.exit = { code, signal };
        output.end();
        resolve(this.exit);
      });
    });
  }

  /** The run folder this trainer created (the one new folder in the runs folder). */
  runDir(): string | undefined {
    if (!existsSync(runsFolder)) return undefined;
    const fresh = readdirSync(runsFolder).filter((name) => !this.before.has(name));
    return fresh.length === 1 ? join(runsFolder, fresh[0]) : undefined;
  }

  /** Waits until the link is served (token and socket in the run folder) and steps are logged. */
  async listening(): Promise<{ dir: string; log: EventLogTail }> {
    const dir = await waitFor(
      "the terminal trainer to serve its link (link.token and link.sock in its run folder)",
      () => {
        if (this.exit) throw new Error(`the terminal trainer exited early: ${JSON.stringify(this.exit)}`);
        const found = this.runDir();
        return found && existsSync(join(found, "link.token")) && existsSync(join(found, "link.sock"))
          ? found
          : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
    const log = new EventLogTail(join(dir, "events.ndjson"));
    await waitFor("the terminal trainer's first steps", () => log.readNew().some((m) => m.type === "step"), {
      timeoutMs: 90_000,
      intervalMs: 250,
    });
    return { dir, log };
  }

  kill(): void {
    if (!this.exit) this.child.kill("SIGKILL");
  }
}

const step = chainedSteps();

describe("GradCraft Studio journeys in the browser", { concurrency: false }, () => {
  let close: () => Promise<void>;
  let bench: Workbench;
  let dashboard: Frame;
  let trainer: TerminalTrainer;
  let second: TerminalTrainer;
  let secondDir: string;
  let runDir: string;
  let log: EventLogTail;
  let switchedTo: string;
  let finalStep: number;

  /** The messages the trainer writes from now on, until `found` picks one. */
  const nextInLog = (what: string, found: (m: Message) => boolean, timeoutMs = 30_000) =>
    waitFor(what, () => log.readNew().find(found), { timeoutMs, intervalMs: 200 });

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    const browser = await launchBrowser(chromium);
    close = browser.close;
    bench = new Workbench(await browser.context.newPage(), artifacts);
  });

  after(async () => {
    if (bench) await bench.screenshot("e2e-journeys-last").catch(() => undefined);
    trainer?.kill();
    second?.kill();
    await close?.();
  });

  step("a trainer started in a terminal with --listen serves its live link", async () => {
    // Meanwhile the workbench loads: both take seconds on a shared machine.
    trainer = new TerminalTrainer("e2e-terminal-trainer.log");
    await bench.open(workbenchUrl(server, { folder: workspace, extensionPath }));
    ({ dir: runDir, log } = await trainer.listening());
  });

  step("F1 → Attach to Running Trainer picks that run and opens a live dashboard", async () => {
    await bench.runCommand("GradCraft: Attach to Running Trainer...");
    await bench.pick(basename(runDir));
    dashboard = await bench.webview("dashboard");
    await chartsDrawn(dashboard);
    const [shown] = await waitFor(
      "the dashboard to show the attached run advancing",
      async () => {
        const views = await panelRuns(dashboard);
        return views.length === 1 && views[0].state === "running" && views[0].step > 0 ? views : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.match(shown.runId, /^attached-/, `the dashboard shows ${JSON.stringify(shown)}`);
    // Named as every run: its strategy and a short id of its folder.
    assert.equal(shown.label, automaticRunName("gradcraft", runDir));
    await waitFor("the status bar to show the attached run's step", async () =>
      /step\s*\d+/i.test(await bench.statusBarText()),
    );
    await bench.screenshot("e2e-journey-01-attached");
  });

  step("Pause Training from the palette pauses the terminal trainer", async () => {
    log.readNew();
    await bench.runCommand("GradCraft: Pause Training");
    const paused = await nextInLog(
      "the trainer to record that it paused (events.ndjson)",
      (m) => m.type === "paused",
    );
    const pausedAt = Number(paused.step);
    // Paused means no step at all: a second and a half of silence in the trainer's own record.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const during = log.readNew().filter((m) => m.type === "step");
    assert.deepEqual(
      during.map((m) => m.step),
      [],
      `the trainer kept stepping after it paused at step ${pausedAt}`,
    );
    assert.equal(trainer.exit, undefined, "the terminal trainer exited while paused");
    await waitFor("the dashboard to show the run paused", async () => {
      const [view] = await panelRuns(dashboard);
      return view?.state === "paused";
    });
    await bench.screenshot("e2e-journey-02-paused");
  });

  step("Resume in the dashboard makes the terminal trainer step again", async () => {
    await dashboard.locator('button[data-control="resume"]').click();
    const resumed = await nextInLog("the trainer to record that it resumed", (m) => m.type === "resumed");
    await nextInLog(
      "a step after the resume",
      (m) => m.type === "step" && Number(m.step) > Number(resumed.step),
      30_000,
    );
  });

  step("a strategy switch sent from the dashboard is taken by the terminal trainer", async () => {
    const select = dashboard.locator("select#strategy-select");
    await select.waitFor();
    const current = await select.inputValue();
    const options = await select
      .locator("option")
      .evaluateAll((els) => els.map((e) => (e as HTMLOptionElement).value));
    // Not the one the Start Training journey uses, so the two journeys exercise two forms.
    const next = ["ew", "mgda", "pcgrad"].find((o) => o !== current && options.includes(o));
    assert.ok(next, `no strategy to switch to among ${options}`);
    await select.selectOption(next);
    await dashboard.locator('button[data-control="set-strategy"]').click();
    const outcome = await nextInLog(
      `the trainer to record the switch to ${next}`,
      (m) =>
        (m.type === "strategy-changed" && m.name === next && m.reason === "command") ||
        (m.type === "ack" && m.command === "set-strategy" && m.ok === false),
    );
    assert.equal(
      outcome.type,
      "strategy-changed",
      `the trainer refused the switch: ${JSON.stringify(outcome)}`,
    );
    await waitFor(
      `the dashboard to show ${next}`,
      async () => (await panelRuns(dashboard))[0]?.strategy === next,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    switchedTo = next;
    await bench.screenshot("e2e-journey-03-switched");
  });

  step("Stop in the dashboard ends the terminal trainer cleanly", async () => {
    const stop = dashboard.locator('button[data-control="stop"]');
    // The first press arms the button, the second sends the command.
    await stop.click();
    await waitFor("the stop button to ask for confirmation", async () =>
      /confirm/i.test((await stop.textContent()) ?? ""),
    );
    await stop.click();
    const exit = await Promise.race([
      trainer.exited,
      new Promise<undefined>((resolve) => setTimeout(resolve, 60_000)),
    ]);
    assert.deepEqual(exit, { code: 0, signal: null }, "the terminal trainer did not exit cleanly after Stop");
    const all = new EventLogTail(join(runDir, "events.ndjson")).read();
    const done = all.at(-1);
    assert.equal(done?.type, "done", "the event log does not end with done");
    assert.equal(done?.reason, "stopped", `the run ended for another reason: ${JSON.stringify(done)}`);
    const stopAck = all.find((m) => m.type === "ack" && m.command === "stop");
    assert.equal(stopAck?.ok, true, `the stop command was not acknowledged: ${JSON.stringify(stopAck)}`);
    const changes = all.filter((m) => m.type === "strategy-changed");
    assert.equal(changes.at(-1)?.name, switchedTo, "the run did not end on the strategy switched to");
    assert.ok(existsSync(join(runDir, "summary.json")), "the stopped run wrote no summary.json");
    assert.ok(!existsSync(join(runDir, "link.sock")), "the socket outlived the trainer");
    finalStep = Math.max(...all.filter((m) => m.type === "step").map((m) => Number(m.step)));
    await waitFor(
      "the dashboard to show the run ended",
      async () =>
        !["running", "paused", "starting"].includes((await panelRuns(dashboard))[0]?.state ?? "running"),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await waitFor(
      "the status bar to drop the live run",
      async () => !/step\s*\d+/i.test(await bench.statusBarText()),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    await bench.screenshot("e2e-journey-04-stopped");
  });

  step("Developer: Reload Window brings the dashboard back on the finished run", async () => {
    await reloadWindow(bench, 1);
    // A restored panel reads the run back from its folder: the folder is its id now.
    const { frame, view } = await dashboardWhere(
      bench,
      "the restored dashboard to receive its run",
      (v) => v.step > 0,
    );
    dashboard = frame;
    assert.equal(view.runId, runDir, `the restored dashboard shows ${JSON.stringify(view)}`);
    assert.equal(view.step, finalStep, "the restored dashboard does not show the run's last step");
    assert.equal(view.strategy, switchedTo);
    await chartsDrawn(dashboard);
    await bench.screenshot("e2e-journey-05-restored");
  });

  step("a dashboard on an attached live run comes back live after the reload", async () => {
    second = new TerminalTrainer("e2e-terminal-trainer-2.log");
    const { dir, log: secondLog } = await second.listening();
    secondDir = dir;
    await bench.runCommand("GradCraft: Attach to Running Trainer...");
    await bench.pick(basename(dir));
    await dashboardWhere(
      bench,
      "a live dashboard on the second terminal run",
      (v) => v.label === automaticRunName("gradcraft", dir) && v.state === "running",
    );
    await reloadWindow(bench, 2);
    // A reload detaches from a terminal run; it does not end it. The panel takes it up again.
    const restored = await dashboardWhere(
      bench,
      "the restored dashboard on the second run, live",
      (v) =>
        v.runId.startsWith("attached-") &&
        v.label === automaticRunName("gradcraft", dir) &&
        v.state === "running",
    );
    dashboard = restored.frame;
    await waitFor(
      "the restored dashboard's step to advance",
      async () => ((await panelRuns(dashboard))[0]?.step ?? 0) > restored.view.step,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.equal(second.exit, undefined, "the reload ended the terminal trainer");
    secondLog.readNew();
    await waitFor("the terminal trainer to go on stepping", () =>
      secondLog.readNew().some((m) => m.type === "step"),
    );
    await chartsDrawn(dashboard);
    await bench.screenshot("e2e-journey-06-live-restored");
  });

  step("the other restored dashboard shows its own run, and Stop ends the second trainer", async () => {
    // Two panels came back: each on the run it showed, not both on one.
    await bench.page.locator(".tabs-container .tab:not(.active)", { hasText: "GradCraft" }).first().click();
    const finished = await dashboardWhere(bench, "the finished run's dashboard", (v) => v.runId === runDir);
    assert.equal(finished.view.step, finalStep);
    await bench.screenshot("e2e-journey-07-both-restored");
    await bench.page.locator(".tabs-container .tab:not(.active)", { hasText: "GradCraft" }).first().click();
    const live = await dashboardWhere(
      bench,
      "the live run's dashboard",
      (v) => v.label === automaticRunName("gradcraft", secondDir),
    );
    const stop = live.frame.locator('button[data-control="stop"]');
    await stop.click();
    await waitFor("the stop button to ask for confirmation", async () =>
      /confirm/i.test((await stop.textContent()) ?? ""),
    );
    await stop.click();
    const exit = await Promise.race([
      second.exited,
      new Promise<undefined>((resolve) => setTimeout(resolve, 60_000)),
    ]);
    assert.deepEqual(
      exit,
      { code: 0, signal: null },
      "the second terminal trainer did not exit cleanly after Stop",
    );
    const done = new EventLogTail(join(secondDir, "events.ndjson")).read().at(-1);
    assert.equal(done?.reason, "stopped", `the second run ended with ${JSON.stringify(done)}`);
  });
});
