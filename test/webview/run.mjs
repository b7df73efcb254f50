// The "panel in Chromium" stage of `npm test`: the dashboard webview (dist/webview.js) in headless
// Debian chromium driven by playwright-core, fed a recorded run through the real host-side model.
// Exit 0 passed, 1 failed, 77 not run (chromium missing and not installable here; 1 under CI).
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ensureChromium, exitCodeFor } from "../provision.mjs";

const root = join(import.meta.dirname, "..", "..");

let chromium;
try {
  chromium = await ensureChromium();
} catch (error) {
  process.exit(exitCodeFor(error));
}

// The panel is tested as built: the bundle with its test hooks (dist/webview.test.js, the shipped
// one without them is the same code). Build it when missing (npm test builds first).
if (!existsSync(join(root, "dist", "webview.test.js")) || process.argv.includes("--build")) {
  const build = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) process.exit(1);
}

// Every suite of this folder, one at a time (each launches its own Chromium).
const suites = readdirSync(join(root, "test", "webview"))
  .filter((name) => name.endsWith(".test.ts"))
  .sort()
  .map((name) => join("test", "webview", name));
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=1", ...suites],
  { cwd: root, stdio: "inherit", env: { ...process.env, GRADCRAFT_CHROMIUM: chromium } },
);
process.exit(result.status ?? 1);
