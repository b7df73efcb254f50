// The "real VS Code" stage of `npm test` (scripts/test-all.mjs): provision, build, then
//   1. the integration suites inside the extension host of a real VS Code (code-server),
//   2. the restricted-mode suite in a second code-server with workspace trust on,
//   3. the end-to-end suite in the browser, as a user (Playwright + Debian's chromium).
// code-server always runs in its own process group, torn down on success, failure and Ctrl-C.
// Exit: 0 all passed, 1 something failed, 77 not run (a prerequisite missing outside CI).
//
// `node test/vscode/run.mjs [--only integration|restricted|e2e]... [--grep TEXT] [--build-only]`
import { spawn } from "node:child_process";
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensurePythonTorch, exitCodeFor, NOT_RUN, NotRunError, provisionAll } from "../provision.mjs";
import {
  artifactsDir,
  buildExtension,
  buildTestBundle,
  copyWorkspace,
  emptyWorkspace,
  installTeardownHandlers,
  launchBrowser,
  root,
  startCodeServer,
  stopAllServers,
  trackChild,
  waitFor,
  workbenchUrl,
} from "./harness.mjs";

const { values: options } = parseArgs({
  options: {
    only: { type: "string", multiple: true },
    grep: { type: "string" },
    "build-only": { type: "boolean" },
    // The harness's own check: load another extension folder instead of this one (no build).
    extension: { type: "string" },
  },
});
const extensionPath = options.extension ? resolve(options.extension) : root;
const wanted = (part) => !options.only || options.only.includes(part);

/** Suites tagged with this run only in the second window (trust on, folder without configs). */
const UNTRUSTED_WINDOW = "@untrusted-window";

/** How long the extension host may take for the whole integration suite. */
const INTEGRATION_TIMEOUT_MS = 6 * 60_000;
/** How long the browser suites may take in all (four files; the runs table's trains nine short runs first). */
const E2E_TIMEOUT_MS = 18 * 60_000;
/** How long the host may take to shut down (deactivate stops trainers) once the suite is done. */
const HOST_EXIT_TIMEOUT_MS = 30_000;

function section(title) {
  console.log(`\n── ${title} ──`);
}

/**
 * Opens the workbench with the extension under development and its tests (extensionTestsPath),
 * waits for the extension host to call codeAutomationExit, and returns the runner's summary.
 */
async function runIntegration({ chromium, testIndex, label, trust, grep, invert }) {
  const scratch = mkdtempSync(join(tmpdir(), `gradcraft-${label}-`));
  // The untrusted window opens a folder without configs, so nothing activates the extension early.
  const workspace = trust ? emptyWorkspace(scratch) : copyWorkspace(scratch);
  const testLog = join(artifactsDir, `${label}.log`);
  const resultsFile = join(scratch, "results.json");
  rmSync(testLog, { force: true });
  const server = await startCodeServer({
    name: label,
    trust,
    logFile: join(artifactsDir, `code-server-${label}.log`),
    keepLogsIn: join(artifactsDir, `${label}-vscode-logs`),
    extraEnv: {
      GRADCRAFT_TEST: "1",
      GRADCRAFT_TEST_LOG: testLog,
      GRADCRAFT_TEST_RESULTS: resultsFile,
      GRADCRAFT_TEST_GREP: grep ?? "",
      GRADCRAFT_TEST_INVERT: invert ? "1" : "",
      GRADCRAFT_TEST_WORKSPACE: workspace,
      GRADCRAFT_TEST_TRUST: trust ? "restricted" : "trusted",
      GRADCRAFT_TEST_ARTIFACTS: join(artifactsDir, `${label}-runs`),
    },
  });
  console.log(`code-server on ${server.base} (workspace ${workspace}, trust ${trust ? "on" : "off"})`);
  const browser = await launchBrowser(chromium);
  const workbenchLog = join(artifactsDir, `${label}-workbench.log`);
  const lines = [];
  try {
    const page = await browser.context.newPage();
    page.on("console", (message) => lines.push(`[console.${message.type()}] ${message.text()}`));
    page.on("pageerror", (error) => lines.push(`[pageerror] ${error.stack ?? error}`));
    let exitCode;
    let hostExitProblem;
    // Both must exist before the workbench loads: it looks them up once, when tests start/end.
    await page.exposeFunction("codeAutomationExit", (code) => {
      exitCode = code;
    });
    await page.exposeFunction("codeAutomationLog", (type, args) => {
      lines.push(`[${type}] ${Array.isArray(args) ? args.join(" ") : args}`);
    });
    await page.goto(
      workbenchUrl(server, { folder: workspace, extensionTestsPath: testIndex, extensionPath }),
    );
    try {
      await waitFor(`the ${label} suite to finish`, () => exitCode !== undefined || existsSync(resultsFile), {
        timeoutMs: INTEGRATION_TIMEOUT_MS,
        intervalMs: 250,
      });
      // The runner wrote its results; the host should now exit (deactivate runs first).
      await waitFor(
        "the extension host to exit after the suite (codeAutomationExit)",
        () => exitCode !== undefined,
        {
          timeoutMs: HOST_EXIT_TIMEOUT_MS,
          intervalMs: 250,
        },
      ).catch((error) => {
        hostExitProblem = error.message;
      });
    } finally {
      await page
        .screenshot({ path: join(artifactsDir, `${label}-end.png`) })
        .catch((error) => lines.push(`[harness] screenshot failed: ${error.message}`));
    }
    const summary = existsSync(resultsFile)
      ? JSON.parse(readFileSync(resultsFile, "utf8"))
      : { passed: 0, failed: 0, pending: 0, outcomes: [] };
    if (existsSync(testLog)) process.stdout.write(readFileSync(testLog, "utf8"));
    const ran = summary.passed + summary.failed;
    if (ran === 0) {
      console.log(`no ${label} test ran (exit code ${exitCode}); see ${workbenchLog}`);
      return { ...summary, failed: Math.max(1, summary.failed), exitCode };
    }
    if (hostExitProblem) {
      // A host that does not shut down is a real defect (a deactivate that hangs, say).
      console.log(`${hostExitProblem}: the extension host did not shut down after the suite`);
      return { ...summary, failed: summary.failed + 1, exitCode };
    }
    if (exitCode !== 0 && summary.failed === 0) {
      console.log(`the extension host exited with ${exitCode} though no test failed`);
      return { ...summary, failed: 1, exitCode };
    }
    return { ...summary, exitCode };
  } finally {
    writeFileSync(workbenchLog, `${lines.join("\n")}\n`);
    await browser.close();
    const { leaked } = await server.stop();
    rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
    if (leaked.length > 0) {
      console.log(`processes left behind by the ${label} run (now killed):`);
      for (const p of leaked) console.log(`  ${p.pid} ${p.cmdline}`);
    }
  }
}

/** The browser suites: node's test runner over test/vscode/e2e/*.e2e.mts against a fresh server. */
async function runEndToEnd({ chromium, python }) {
  const scratch = mkdtempSync(join(tmpdir(), "gradcraft-e2e-"));
  const workspace = copyWorkspace(scratch);
  const server = await startCodeServer({
    name: "e2e",
    logFile: join(artifactsDir, "code-server-e2e.log"),
    keepLogsIn: join(artifactsDir, "e2e-vscode-logs"),
    // The suites read the panel through its test hooks (window.__gradcraft): its test bundle.
    // The PyTorch example's trainer: Debian's python3 with torch, and the package from python/
    // (what `pip install ./python` gives a user).
    ...(python ? { settings: { "gradcraft.trainer.python": python } } : {}),
    extraEnv: { GRADCRAFT_PANEL_HOOKS: "1", ...(python ? { PYTHONPATH: join(root, "python") } : {}) },
  });
  console.log(`code-server on ${server.base} (workspace ${workspace})`);
  try {
    const status = await new Promise((resolve, reject) => {
      const child = trackChild(
        spawn(
          process.execPath,
          [
            "--import",
            "tsx",
            "--test",
            "--test-reporter=spec",
            "--test-timeout=300000",
            // One file at a time: they share the code-server, the workspace and its runs folder.
            "--test-concurrency=1",
            ...(options.grep ? ["--test-name-pattern", options.grep] : []),
            "test/vscode/e2e/workbench.e2e.mts",
            "test/vscode/e2e/journeys.e2e.mts",
            "test/vscode/e2e/runsTable.e2e.mts",
            "test/vscode/e2e/report.e2e.mts",
            ...(python ? ["test/vscode/e2e/pytorch.e2e.mts"] : []),
          ],
          {
            cwd: root,
            stdio: "inherit",
            // Its own process group, so that teardown reaches the per-file test processes too.
            detached: true,
            env: {
              ...process.env,
              GRADCRAFT_E2E_PORT: String(server.port),
              GRADCRAFT_E2E_WORKSPACE: workspace,
              GRADCRAFT_E2E_CHROMIUM: chromium,
              GRADCRAFT_E2E_ARTIFACTS: artifactsDir,
              GRADCRAFT_HARNESS_ID: server.harnessId,
              GRADCRAFT_E2E_EXTENSION: options.extension ? extensionPath : "",
              GRADCRAFT_E2E_PYTHON: python ?? "",
            },
          },
        ),
      );
      // The steps have their own deadlines; this bounds the whole suite whatever happens.
      const watchdog = setTimeout(() => {
        console.log(`the e2e suite ran past ${E2E_TIMEOUT_MS / 60_000} minutes: stopping it`);
        process.kill(-child.pid, "SIGKILL");
      }, E2E_TIMEOUT_MS);
      child.on("error", reject);
      child.on("exit", (code, signal) => {
        clearTimeout(watchdog);
        resolve(code ?? (signal ? 1 : 0));
      });
    });
    return status;
  } finally {
    const { leaked } = await server.stop();
    // The run folders the browser session produced, for a look afterwards.
    const runs = join(workspace, ".gradcraft", "runs");
    if (existsSync(runs)) {
      rmSync(join(artifactsDir, "e2e-runs"), { recursive: true, force: true });
      // A trainer killed mid-run leaves its socket behind: not a file to copy.
      cpSync(runs, join(artifactsDir, "e2e-runs"), {
        recursive: true,
        filter: (path) => !lstatSync(path).isSocket(),
      });
    }
    rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
    if (leaked.length > 0) {
      console.log("processes left behind by the e2e run (now killed):");
      for (const p of leaked) console.log(`  ${p.pid} ${p.cmdline}`);
    }
  }
}

async function main() {
  if (options["build-only"]) {
    // For .vscode-test.mjs (desktop VS Code): the bundles, no code-server.
    buildExtension();
    console.log(`built ${await buildTestBundle()}`);
    return 0;
  }
  installTeardownHandlers();
  const started = Date.now();
  mkdirSync(artifactsDir, { recursive: true });

  section("provision");
  let tools;
  try {
    tools = await provisionAll();
  } catch (error) {
    return exitCodeFor(error);
  }

  section("build");
  if (!options.extension) buildExtension();
  const testIndex = await buildTestBundle();

  const results = [];
  if (wanted("integration")) {
    section("integration (extension host)");
    const summary = await runIntegration({
      chromium: tools.chromium,
      testIndex,
      label: "integration",
      trust: false,
      grep: options.grep ?? UNTRUSTED_WINDOW,
      invert: !options.grep,
    });
    results.push({ name: "integration", ...summary });
  }
  if (wanted("restricted")) {
    section("restricted mode (workspace trust on, folder untrusted)");
    const summary = await runIntegration({
      chromium: tools.chromium,
      testIndex,
      label: "restricted",
      trust: true,
      grep: UNTRUSTED_WINDOW,
      invert: false,
    });
    results.push({ name: "restricted", ...summary });
  }
  if (wanted("e2e")) {
    section("end to end (browser)");
    let python;
    try {
      python = await ensurePythonTorch();
    } catch (error) {
      // Outside CI the other suites still run; the PyTorch one is reported as not run.
      if (!(error instanceof NotRunError)) return exitCodeFor(error);
      console.log(`\nthe PyTorch end-to-end suite is NOT RUN: ${error.message}`);
      results.push({ name: "e2e (PyTorch)", notRun: true, passed: 0, failed: 0 });
    }
    const status = await runEndToEnd({ chromium: tools.chromium, python });
    results.push({ name: "e2e", passed: status === 0 ? 1 : 0, failed: status === 0 ? 0 : 1 });
  }

  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const failed = results.filter((r) => r.failed > 0);
  const parts = results.map((r) => `${r.name} ${r.failed > 0 ? "FAILED" : r.notRun ? "NOT RUN" : "passed"}`);
  console.log(`\nreal VS Code: ${parts.join(", ")} in ${seconds} s; artifacts in ${artifactsDir}`);
  if (failed.length > 0) return 1;
  return results.some((r) => r.notRun) ? NOT_RUN : 0;
}

let status = 1;
try {
  status = await main();
} catch (error) {
  console.error(`\nreal VS Code stage failed: ${error.stack ?? error}`);
  status = 1;
} finally {
  await stopAllServers();
}
process.exit(status);
