import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command } from "commander";
import { reportFileName, reportTitle } from "../panel/reportData";
import { reportHtml } from "../panel/reportHtml";
import { replayRunFolder, reportOf } from "../panel/reportRuns";
import { DEFAULT_PANEL_SETTINGS } from "../panel/snapshot";
import { DEFAULT_RUNS_DIR, type ReplayIo, RunNotFound, resolveRun } from "./replay";

/**
 * `gradcraft report RUN... [-o FILE]`: one run, or several compared, as the self-contained HTML
 * report the extension's Export Report writes (docs/dashboard.md, "Report"), from the same code.
 */
export function registerReport(program: Command): void {
  program
    .command("report")
    .description("write runs as one HTML file any browser opens offline: one run, or several compared")
    .argument("<runs...>", "run folders, or names under the runs folder (the first is the baseline)")
    .option("-o, --out <file>", "the file to write (default: <run>-report.html in this folder)")
    .option("--runs-dir <dir>", "where run names are looked up", DEFAULT_RUNS_DIR)
    .action(async (names: string[], options: { out?: string; runsDir: string }) => {
      const generator = `GradCraft Studio ${program.version() ?? ""}`.trim();
      process.exitCode = await runReport(names, { ...options, generator });
    });
}

export interface ReportOptions {
  out?: string;
  runsDir?: string;
  generator: string;
  /** The report page's app (default: dist/report.js beside the CLI). */
  bundle?: string;
}

/** Writes the report; 0, or 2 when a run is not found (said on stderr). */
export async function runReport(
  names: string[],
  options: ReportOptions,
  io: ReplayIo = { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
): Promise<number> {
  let dirs: string[];
  try {
    dirs = names.map((name) => resolveRun(name, options.runsDir ?? DEFAULT_RUNS_DIR));
  } catch (error) {
    if (!(error instanceof RunNotFound)) throw error;
    io.stderr(`gradcraft report: ${error.message}\n`);
    return 2;
  }
  const script = readFileSync(options.bundle ?? reportBundle(), "utf8");
  const runs = await Promise.all(
    dirs.map(async (runDir) => {
      const { model, identity, problems } = await replayRunFolder(runDir, DEFAULT_PANEL_SETTINGS.maxPoints);
      for (const problem of problems) io.stderr(`${runDir}: ${problem}\n`);
      return { label: identity.name, runDir, model };
    }),
  );
  const data = await reportOf(runs, options.generator);
  const labels = data.runs.map((r) => r.snapshot.label);
  const out = resolve(options.out ?? reportFileName(labels));
  const html = reportHtml({ data, script, title: reportTitle(labels) });
  writeFileSync(out, html);
  io.stdout(`wrote ${out} (${(html.length / 1e6).toFixed(1)} MB): ${labels.join(", ")}\n`);
  return 0;
}

/**
 * The report page's app: beside the CLI's bundle (dist/report.js next to dist/cli.js), or in
 * dist/ when the CLI runs from its sources.
 */
function reportBundle(): string {
  const candidates = [join(__dirname, "report.js"), join(__dirname, "..", "..", "dist", "report.js")];
  const found = candidates.find((path) => existsSync(path));
  if (!found) throw new Error(`the report page's script is missing (${candidates[0]}): run npm run build`);
  return found;
}
