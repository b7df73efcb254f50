// The pieces shared by the VS Code stage (test/vscode/run.mjs) and `npm run studio`: building the
// extension and the test bundles, copying the sample workspace, starting code-server in its own
// process group and always ending that group, and driving Debian's chromium with playwright-core.
// test/vscode/README.md has the recipe these follow and why.
import { spawn, spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import {
  cpSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { chromiumArgs, codeServerEntry, node24Bin, root } from "../provision.mjs";

export { root };
export const artifactsDir = join(root, "test-artifacts", "vscode");
export const outTestDir = join(root, "out", "test");
export const sampleWorkspace = join(root, "test", "vscode", "workspace");

/** Polls `probe` until it returns a truthy value; fails naming `what` after `timeoutMs`. */
export async function waitFor(what, probe, { timeoutMs = 30_000, intervalMs = 100 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${lastError.message ?? lastError})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A loopback port nobody listens on right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

// ── builds ──────────────────────────────────────────────────────────────────────────────────

/** The extension, trainer and panel bundles (the project's own build). */
export function buildExtension() {
  const result = spawnSync(process.execPath, [join(root, "scripts", "build.mjs")], {
    cwd: root,
    stdio: "inherit",
  });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status})`);
  if (!existsSync(join(root, "dist", "extension.js"))) {
    throw new Error(
      "dist/extension.js was not built: src/extension/extension.ts does not exist yet (the extension is not in this checkout)",
    );
  }
}

function collect(dir, suffix) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return collect(path, suffix);
    return name.endsWith(suffix) ? [path] : [];
  });
}

/**
 * The mocha integration suites, one CommonJS file per test file under out/test/suite/, plus the
 * runner out/test/index.js that the extension host loads (extensionTestsPath). The same files
 * serve @vscode/test-cli on a desktop (.vscode-test.mjs).
 */
export async function buildTestBundle() {
  const esbuild = await import("esbuild");
  const suiteDir = join(root, "test", "vscode", "suite");
  const entries = collect(suiteDir, ".ts").filter((f) => !f.endsWith(".d.ts"));
  rmSync(outTestDir, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(
      entries.map((file) => {
        const rel = relative(suiteDir, file).replace(/\.ts$/, "");
        return [rel === "index" ? "index" : `suite/${rel}`, file];
      }),
    ),
    outdir: outTestDir,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    sourcemap: "inline",
    // Provided by the extension host (vscode) or loaded from node_modules at run time (mocha).
    external: ["vscode", "mocha"],
    logLevel: "warning",
  });
  return join(outTestDir, "index.js");
}

/** A throwaway copy of the sample workspace: runs write their folders into it. */
export function copyWorkspace(into) {
  const target = join(into, "workspace");
  cpSync(sampleWorkspace, target, { recursive: true });
  return target;
}

/** A workspace folder with nothing in it that concerns the extension. */
export function emptyWorkspace(into) {
  const target = join(into, "workspace");
  mkdirSync(target, { recursive: true });
  writeFileSync(join(target, "README.md"), "An untrusted folder without training configs.\n");
  return target;
}

// ── code-server ─────────────────────────────────────────────────────────────────────────────

/** A quiet workbench: nothing opens or asks on its own, so what the tests see is theirs. */
const userSettings = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "security.workspace.trust.startupPrompt": "never",
  "security.workspace.trust.banner": "never",
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "extensions.autoUpdate": false,
  "extensions.ignoreRecommendations": true,
  "git.enabled": false,
  "chat.disableAIFeatures": true,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
};

/**
 * Starts code-server on a free loopback port, in its own process group (spawn's `detached` is
 * setsid(2)), with a throwaway HOME, user-data and extensions folders, and waits until it answers.
 * Every descendant carries GRADCRAFT_HARNESS_ID so that stop() can find any process that escaped
 * the group (a trainer started in its own session, say) and report it.
 *
 * Returns { port, base, env, stop(), log }. stop() is idempotent and synchronous-safe.
 */
export async function startCodeServer({
  name = "code-server",
  trust = false,
  extraEnv = {},
  logFile,
  keepLogsIn,
  port: wantedPort,
  settings = {},
} = {}) {
  const port = wantedPort ?? (await freePort());
  const scratch = mkdtempSync(join(tmpdir(), `gradcraft-${name}-`));
  const home = join(scratch, "home");
  const userData = join(scratch, "user-data");
  const extensions = join(scratch, "extensions");
  for (const dir of [home, userData, extensions]) mkdirSync(dir, { recursive: true });
  mkdirSync(join(userData, "User"), { recursive: true });
  // GRADCRAFT_HARNESS_SETTINGS (JSON) adds user settings, to try a window set up differently.
  const extraSettings = process.env.GRADCRAFT_HARNESS_SETTINGS
    ? JSON.parse(process.env.GRADCRAFT_HARNESS_SETTINGS)
    : {};
  writeFileSync(
    join(userData, "User", "settings.json"),
    `${JSON.stringify({ ...userSettings, ...settings, ...extraSettings }, null, 2)}\n`,
  );
  const harnessId = randomUUID();
  const args = [
    codeServerEntry,
    "--auth",
    "none",
    "--bind-addr",
    `127.0.0.1:${port}`,
    "--disable-telemetry",
    "--disable-update-check",
    "--user-data-dir",
    userData,
    "--extensions-dir",
    extensions,
    "--vscode-option",
    "enable-smoke-test-driver",
  ];
  // Workspace trust stays on only where a test wants restricted mode.
  if (!trust) args.push("--disable-workspace-trust");
  const env = {
    ...process.env,
    HOME: home,
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local", "share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    GRADCRAFT_HARNESS_ID: harnessId,
    ...extraEnv,
  };
  const log = createWriteStream(logFile ?? join(scratch, "code-server.log"));
  const child = spawn(node24Bin, args, {
    cwd: scratch,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let exited = null;
  child.on("exit", (code, signal) => {
    exited = { code, signal };
  });

  // One teardown, however many callers (the suite's finally and a signal handler may race):
  // every caller waits for the same completion.
  let stopping;
  const stop = () => {
    stopping ??= teardown();
    return stopping;
  };
  const teardown = async () => {
    killGroup(child.pid, "SIGTERM");
    const gone = await waitFor("code-server's process group to end", () => !groupAlive(child.pid), {
      timeoutMs: 5_000,
    }).catch(() => false);
    if (!gone) killGroup(child.pid, "SIGKILL");
    await waitFor("code-server's process group to die", () => !groupAlive(child.pid), {
      timeoutMs: 5_000,
    }).catch(() => undefined);
    // Anything still carrying our id left the group: a leak worth reporting, then ended.
    const leaked = processesWithEnv("GRADCRAFT_HARNESS_ID", harnessId);
    for (const proc of leaked) {
      try {
        process.kill(proc.pid, "SIGKILL");
      } catch {}
    }
    log.end();
    // VS Code's own logs (the extension's output channel among them) outlive the throwaway folder.
    if (keepLogsIn && existsSync(join(userData, "logs"))) {
      rmSync(keepLogsIn, { recursive: true, force: true });
      cpSync(join(userData, "logs"), keepLogsIn, { recursive: true });
    }
    rmSync(scratch, { recursive: true, force: true, maxRetries: 3 });
    return { leaked };
  };
  stop.emergency = () => killGroup(child.pid, "SIGKILL");
  liveServers.add(stop);

  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      `code-server to answer on ${base}/healthz`,
      async () => {
        if (exited) {
          throw new Error(`code-server exited early (${JSON.stringify(exited)}); see ${logFile}`);
        }
        const response = await fetch(`${base}/healthz`);
        return response.ok;
      },
      { timeoutMs: 60_000, intervalMs: 200 },
    );
  } catch (error) {
    await stop();
    liveServers.delete(stop);
    throw error;
  }
  return {
    port,
    base,
    harnessId,
    pid: child.pid,
    stop: async () => {
      liveServers.delete(stop);
      return stop();
    },
  };
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {}
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes (Linux /proc) whose environment holds NAME=VALUE. */
export function processesWithEnv(name, value) {
  if (!existsSync("/proc")) return [];
  const needle = `${name}=${value}`;
  const found = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1").split("\0");
      if (!environ.includes(needle)) continue;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "latin1").split("\0").join(" ");
      found.push({ pid: Number(entry), cmdline: cmdline.trim() });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return found;
}

// Whatever happens (failure, Ctrl-C, kill), servers this process started are torn down.
const liveServers = new Set();
/** Child processes (the e2e runner) that must not outlive this one. */
const liveChildren = new Set();
/** Tracks a child started with `detached: true` (its own process group) until it exits. */
export function trackChild(child) {
  liveChildren.add(child);
  child.on("exit", () => liveChildren.delete(child));
  return child;
}

/** SIGTERM to each tracked group (Playwright then closes its browser), SIGKILL after a grace. */
async function stopChildren() {
  const children = [...liveChildren];
  for (const child of children) killGroup(child.pid, "SIGTERM");
  for (const child of children) {
    const gone = await waitFor("a child process group to end", () => !groupAlive(child.pid), {
      timeoutMs: 5_000,
    }).catch(() => false);
    if (!gone) killGroup(child.pid, "SIGKILL");
  }
  liveChildren.clear();
}

export async function stopAllServers() {
  await stopChildren();
  const results = [];
  for (const stop of [...liveServers]) {
    liveServers.delete(stop);
    results.push(await stop());
  }
  return results;
}
let handlersInstalled = false;
export function installTeardownHandlers() {
  if (handlersInstalled) return;
  handlersInstalled = true;
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
    process.on(signal, async () => {
      console.error(`\n${signal}: stopping code-server`);
      await stopAllServers();
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
  // Last resort on a plain exit: synchronous SIGKILL of each group is all that can run there.
  process.on("exit", () => {
    for (const child of liveChildren) killGroup(child.pid, "SIGKILL");
    for (const stop of liveServers) stop.emergency?.();
  });
}

// ── the browser ─────────────────────────────────────────────────────────────────────────────

/** Debian's chromium through playwright-core, with a fresh profile folder. */
export async function launchBrowser(executablePath) {
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "gradcraft-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: chromiumArgs,
    viewport: { width: 1440, height: 900 },
  });
  return {
    context,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(profile, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}

/** The workbench address that opens `folder` with the extension loaded from its source folder. */
export function workbenchUrl(server, { folder, extensionTestsPath, extensionPath = root } = {}) {
  const remote = (path) => `vscode-remote://127.0.0.1:${server.port}${path}`;
  const payload = [["extensionDevelopmentPath", remote(extensionPath)]];
  if (extensionTestsPath) payload.push(["extensionTestsPath", remote(extensionTestsPath)]);
  const query = new URLSearchParams();
  if (folder) query.set("folder", folder);
  query.set("payload", JSON.stringify(payload));
  return `${server.base}/?${query}`;
}
