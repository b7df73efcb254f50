// End to end with a PyTorch trainer, as a user in the browser: the minimal PyTorch example
// (examples/pytorch, copied into the workspace) started from F1 → Start Training, the Conflicts
// view's heatmap filling, a strategy switch from the dashboard, Stop, and the finished run in the
// Runs view. Run by test/vscode/run.mjs when Debian's python3 with torch is there
// (GRADCRAFT_E2E_PYTHON; the window's gradcraft.trainer.python setting names it and PYTHONPATH
// points at python/, as `pip install ./python` would).
import * as assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { after, before, describe } from "node:test";
import type { Frame } from "playwright-core";
import { EventLogTail } from "../eventLogTail";
import { launchBrowser, processesWithEnv, waitFor, workbenchUrl } from "../harness.mjs";
import { canvasInk, chainedSteps, requiredEnv, Workbench } from "./workbench.mjs";

const port = Number(requiredEnv("GRADCRAFT_E2E_PORT"));
const workspace = requiredEnv("GRADCRAFT_E2E_WORKSPACE");
const chromium = requiredEnv("GRADCRAFT_E2E_CHROMIUM");
const artifacts = requiredEnv("GRADCRAFT_E2E_ARTIFACTS");
const harnessId = requiredEnv("GRADCRAFT_HARNESS_ID");
requiredEnv("GRADCRAFT_E2E_PYTHON");
const extensionPath = process.env.GRADCRAFT_E2E_EXTENSION || undefined;
const server = { port, base: `http://127.0.0.1:${port}` };
const examples = resolve(import.meta.dirname, "../../../examples/pytorch");
const CONFIG = "minimal.gradcraft.json";
const folder = join(workspace, "pytorch");

const trainers = () =>
  processesWithEnv("GRADCRAFT_HARNESS_ID", harnessId).filter((p) => /\bminimal\.py\b/.test(p.cmdline));

function pytorchRunDir(): string | undefined {
  const runs = join(workspace, ".gradcraft", "runs");
  if (!existsSync(runs)) return undefined;
  const names = readdirSync(runs)
    .filter((n) => n.endsWith("-minimal-pytorch"))
    .sort();
  return names.length > 0 ? join(runs, names[names.length - 1]) : undefined;
}

const step = chainedSteps();

describe("a PyTorch trainer in the browser", { concurrency: false }, () => {
  let close: () => Promise<void>;
  let bench: Workbench;
  let dashboard: Frame;
  let runDir: string;
  let switchedTo: string;

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    // The example as shipped, with more epochs so that it outlives the steps below.
    mkdirSync(folder, { recursive: true });
    copyFileSync(join(examples, "minimal.py"), join(folder, "minimal.py"));
    const config = JSON.parse(readFileSync(join(examples, CONFIG), "utf8"));
    config.training.epochs = 1000;
    writeFileSync(join(folder, CONFIG), `${JSON.stringify(config, null, 2)}\n`);
    const browser = await launchBrowser(chromium);
    close = browser.close;
    bench = new Workbench(await browser.context.newPage(), artifacts);
  });

  after(async () => {
    if (bench) await bench.screenshot("e2e-pytorch-last").catch(() => undefined);
    for (const p of trainers()) process.kill(p.pid, "SIGKILL");
    await close?.();
  });

  step("F1 → GradCraft: Start Training on the PyTorch example starts a live Python trainer", async () => {
    await bench.open(workbenchUrl(server, { folder: workspace, extensionPath }));
    await bench.runCommand("GradCraft: Start Training");
    await bench.pick(CONFIG);
    await waitFor("a python trainer process", () => trainers().length > 0, { timeoutMs: 60_000 });
    await waitFor(
      "the status bar to show the live run's step",
      async () => /step\s*\d+/i.test(await bench.statusBarText()),
      { timeoutMs: 120_000, intervalMs: 500 },
    );
    runDir = await waitFor("the run folder", () => pytorchRunDir(), { timeoutMs: 10_000 });
    const [hello] = new EventLogTail<{ type: string; trainer?: { name: string } }>(
      join(runDir, "events.ndjson"),
    ).read();
    assert.equal(hello?.trainer?.name, "gradcraft-studio (PyTorch)");
    await bench.screenshot("e2e-pytorch-01-started");
  });

  step("the Conflicts view's heatmap fills from the PyTorch run", async () => {
    await bench.page.locator('.activitybar .action-item a[aria-label^="GradCraft"]').first().click();
    const conflicts = await bench.webview("conflicts");
    const filled = await waitFor(
      "the heatmap and the norm bars to be drawn",
      async () => {
        const drawn = (await canvasInk(conflicts)).filter((c) => c.inked >= 400 && c.colours >= 2);
        return drawn.length >= 2 ? drawn.map((c) => c.label) : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    assert.ok(filled.length >= 2, `drawn canvases: ${filled}`);
    await bench.screenshot("e2e-pytorch-02-conflicts");
  });

  step("switching the strategy from the dashboard reaches the Python trainer", async () => {
    await bench.runCommand("GradCraft: Open Dashboard");
    dashboard = await bench.webview("dashboard");
    const select = dashboard.locator("select#strategy-select");
    await select.waitFor();
    const current = await select.inputValue();
    switchedTo = current === "pcgrad" ? "mgda" : "pcgrad";
    const log = new EventLogTail(join(runDir, "events.ndjson"));
    log.readNew();
    await select.selectOption(switchedTo);
    await dashboard.locator('button[data-control="set-strategy"]').click();
    const outcome = await waitFor(
      `the trainer to record the switch to ${switchedTo} (events.ndjson)`,
      () =>
        log
          .readNew()
          .find(
            (m) =>
              (m.type === "strategy-changed" && m.name === switchedTo && m.reason === "command") ||
              (m.type === "ack" && m.command === "set-strategy" && !m.ok),
          ),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.equal(outcome.type, "strategy-changed", `refused: ${JSON.stringify(outcome)}`);
    const status = dashboard.locator('[data-status="set-strategy"]');
    await waitFor(
      "the panel to show the switch acknowledged",
      async () => /switched/i.test((await status.textContent()) ?? ""),
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    await bench.screenshot("e2e-pytorch-03-switched");
  });

  step("Stop ends the Python trainer and the run is listed in the Runs view", async () => {
    await bench.runCommand("GradCraft: Stop Training");
    await waitFor("the trainer to exit", () => trainers().length === 0, { timeoutMs: 60_000 });
    const done = new EventLogTail(join(runDir, "events.ndjson")).read().at(-1);
    assert.equal(done?.type === "done" && done.reason, "stopped");
    const row = bench.page.locator(".monaco-list-row", { hasText: "minimal-pytorch" });
    const text = await waitFor(
      "the finished run in the Runs view",
      async () => {
        for (const candidate of await row.all()) {
          const label = ((await candidate.textContent()) ?? "").replace(/\s+/g, " ");
          if (label.includes("stopped") && label.includes(switchedTo)) return label;
        }
        return undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    assert.match(text, /minimal-pytorch/);
    await bench.screenshot("e2e-pytorch-04-runs-view");
  });
});
