// The runner the extension host loads (extensionTestsPath → out/test/index.js): runs every
// compiled suite in out/test/suite/ with mocha. Besides the console (which code-server forwards
// only partly), it writes each result to GRADCRAFT_TEST_LOG and a summary to
// GRADCRAFT_TEST_RESULTS, which test/vscode/run.mjs reads back after the host exits.
import { appendFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Mocha from "mocha";

type Outcome = { title: string; state: "passed" | "failed" | "pending"; ms?: number; error?: string };

export async function run(): Promise<void> {
  const logFile = process.env.GRADCRAFT_TEST_LOG;
  const resultsFile = process.env.GRADCRAFT_TEST_RESULTS;
  const say = (line: string) => {
    console.log(line);
    if (logFile) appendFileSync(logFile, `${line}\n`);
  };
  const mocha = new Mocha({
    ui: "bdd",
    color: false,
    // Each test waits on its own conditions with its own deadlines; this is the outer bound.
    timeout: 120_000,
    reporter: "spec",
  });
  const grep = process.env.GRADCRAFT_TEST_GREP;
  if (grep) {
    mocha.grep(grep);
    if (process.env.GRADCRAFT_TEST_INVERT === "1") mocha.invert();
  }
  const suiteDir = join(__dirname, "suite");
  for (const file of readdirSync(suiteDir).sort()) {
    if (file.endsWith(".test.js")) mocha.addFile(join(suiteDir, file));
  }
  await mocha.loadFilesAsync();

  const outcomes: Outcome[] = [];
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    runner.on("test", (test) => say(`▶ ${test.fullTitle()}`));
    runner.on("pass", (test) => {
      outcomes.push({ title: test.fullTitle(), state: "passed", ms: test.duration });
      say(`✔ ${test.fullTitle()} (${test.duration} ms)`);
    });
    runner.on("fail", (test, error) => {
      const detail = error?.stack ?? String(error);
      outcomes.push({ title: test.fullTitle(), state: "failed", error: detail });
      say(`✘ ${test.fullTitle()}\n${detail}`);
    });
    runner.on("pending", (test) => {
      outcomes.push({ title: test.fullTitle(), state: "pending" });
      say(`- ${test.fullTitle()} (pending)`);
    });
  });
  const count = (state: Outcome["state"]) => outcomes.filter((o) => o.state === state).length;
  const summary = { passed: count("passed"), failed: count("failed"), pending: count("pending"), outcomes };
  if (resultsFile) writeFileSync(resultsFile, JSON.stringify(summary, null, 2));
  say(`integration: ${summary.passed} passed, ${summary.failed} failed, ${summary.pending} pending`);
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
