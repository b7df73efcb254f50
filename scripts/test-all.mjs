// The one test command (README, .ci/run): every check, in order, stopping at nothing so that
// one report shows everything that failed. A stage that cannot run is never passed: a missing
// runner file fails it; a runner reporting "not run" (exit 77: a prerequisite missing outside
// CI) is listed as such, and under CI=true fails the whole run.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const root = join(import.meta.dirname, "..");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const NOT_RUN = 77; // exit status a runner uses for "prerequisite missing, not run" (only outside CI)

/** `runner`: the script a stage runs, which must exist (a missing one is a failure, not a skip). */
export const STAGES = [
  { name: "lint and format", cmd: [npm, "run", "--silent", "lint"] },
  { name: "type check", cmd: [npm, "run", "--silent", "typecheck"] },
  { name: "build", cmd: [npm, "run", "--silent", "build"] },
  { name: "unit tests", runner: "scripts/test-unit.mjs" },
  { name: "Python package", runner: "scripts/test-python.mjs" },
  { name: "trainer processes", runner: "test/process/run.mjs" },
  { name: "panel in Chromium", runner: "test/webview/run.mjs" },
  { name: "real VS Code", runner: "test/vscode/run.mjs" },
];

/** Runs one stage in `cwd`: "passed", "NOT RUN" or "FAILED", and why when it did not run at all. */
export function runStage(stage, cwd = root) {
  const started = Date.now();
  const seconds = () => ((Date.now() - started) / 1000).toFixed(0);
  if (stage.runner && !existsSync(join(cwd, stage.runner))) {
    const why = `its runner ${stage.runner} is missing`;
    console.log(why);
    return { name: stage.name, outcome: "FAILED", seconds: seconds(), why };
  }
  const cmd = stage.cmd ?? [process.execPath, stage.runner];
  const run = spawnSync(cmd[0], cmd.slice(1), { cwd, stdio: "inherit" });
  if (run.error) {
    const why = `${cmd[0]} could not be started: ${run.error.message}`;
    console.log(why);
    return { name: stage.name, outcome: "FAILED", seconds: seconds(), why };
  }
  const outcome = run.status === 0 ? "passed" : run.status === NOT_RUN ? "NOT RUN" : "FAILED";
  return { name: stage.name, outcome, seconds: seconds() };
}

/** Prints the summary; returns the exit status: 1 for any failure, or any stage not run under CI. */
export function summarize(results, ci = process.env.CI === "true", print = console.log) {
  print("\n━━ summary ━━");
  for (const r of results)
    print(`${r.outcome.padEnd(8)} ${r.name} (${r.seconds} s)${r.why ? `: ${r.why}` : ""}`);
  const failed = results.filter((r) => r.outcome === "FAILED");
  const notRun = results.filter((r) => r.outcome === "NOT RUN");
  if (failed.length > 0) {
    print(`${failed.length} stage(s) failed.`);
    return 1;
  }
  if (notRun.length > 0) {
    print(
      `${notRun.length} stage(s) not run: see their messages above for what to install.${ci ? " Under CI=true that is a failure." : ""}`,
    );
    return ci ? 1 : 0;
  }
  print(`All ${results.length} stages passed.`);
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const results = [];
  for (const stage of STAGES) {
    console.log(`\n━━ ${stage.name} ━━`);
    results.push(runStage(stage));
  }
  process.exit(summarize(results));
}
