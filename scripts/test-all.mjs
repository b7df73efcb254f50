// The one test command (README, .ci/run): every check, in order, stopping at nothing so that
// one report shows everything that failed. Stages whose runner reports "not run" (a missing
// prerequisite outside CI) are listed as such, never as passed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const NOT_RUN = 77; // exit status a runner uses for "prerequisite missing, not run" (only outside CI)

const stages = [
  { name: "lint and format", cmd: [npm, "run", "--silent", "lint"] },
  { name: "type check", cmd: [npm, "run", "--silent", "typecheck"] },
  { name: "build", cmd: [npm, "run", "--silent", "build"] },
  { name: "unit tests", cmd: [process.execPath, "scripts/test-unit.mjs"] },
  { name: "Python package", cmd: [process.execPath, "scripts/test-python.mjs"] },
  {
    name: "panel in Chromium",
    cmd: [process.execPath, "test/webview/run.mjs"],
    optionalFile: "test/webview/run.mjs",
  },
  {
    name: "real VS Code",
    cmd: [process.execPath, "test/vscode/run.mjs"],
    optionalFile: "test/vscode/run.mjs",
  },
];

const results = [];
for (const stage of stages) {
  if (stage.optionalFile && !existsSync(join(root, stage.optionalFile))) continue;
  console.log(`\n━━ ${stage.name} ━━`);
  const started = Date.now();
  const run = spawnSync(stage.cmd[0], stage.cmd.slice(1), { cwd: root, stdio: "inherit" });
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  const outcome = run.status === 0 ? "passed" : run.status === NOT_RUN ? "NOT RUN" : "FAILED";
  results.push({ name: stage.name, outcome, seconds });
}

console.log("\n━━ summary ━━");
for (const r of results) console.log(`${r.outcome.padEnd(8)} ${r.name} (${r.seconds} s)`);
const failed = results.filter((r) => r.outcome === "FAILED");
const notRun = results.filter((r) => r.outcome === "NOT RUN");
if (failed.length > 0) {
  console.log(`${failed.length} stage(s) failed.`);
  process.exit(1);
}
if (notRun.length > 0) {
  console.log(`${notRun.length} stage(s) not run: see their messages above for what to install.`);
  process.exit(process.env.CI === "true" ? 1 : 0);
}
console.log(`All ${results.length} stages passed.`);
