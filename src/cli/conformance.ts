import { readFileSync } from "node:fs";
import type { Command } from "commander";
import { type ConformanceReport, parseReferenceFile, runReference } from "../core/conformance";

/**
 * `gradcraft conformance FILE [--json]`: runs every case of a reference file (its format is in
 * docs/strategies.md, "Reference vectors") through our strategies and prints a per-method table: cases,
 * passed, failed, peer-error cases and what we returned for them. Exit 0 when nothing failed,
 * 1 on any failure, 2 when the file cannot be read or does not follow the schema.
 */

export interface ConformanceIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): string;
}

const defaultIo: ConformanceIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  readFile: (path) => readFileSync(path, "utf8"),
};

/** Runs the command; returns its exit code. */
export function runConformanceCommand(
  file: string,
  options: { json?: boolean },
  io: ConformanceIo = defaultIo,
): number {
  let report: ConformanceReport;
  try {
    let json: unknown;
    try {
      json = JSON.parse(io.readFile(file));
    } catch (error) {
      throw new Error(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
    report = runReference(parseReferenceFile(json));
  } catch (error) {
    io.stderr(`gradcraft conformance: ${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  if (options.json) io.stdout(`${JSON.stringify(report, null, 2)}\n`);
  else io.stdout(formatReport(report));
  return report.failed === 0 ? 0 : 1;
}

/** The human table, then one line per failed case. */
export function formatReport(report: ConformanceReport): string {
  const header = [
    "method",
    "cases",
    "passed",
    "failed",
    "peer-error",
    "what we returned for peer-error cases",
  ];
  const rows = report.methods.map((m) => [
    m.method,
    String(m.cases),
    String(m.passed),
    String(m.failed),
    String(m.peerErrors),
    m.peerErrorReturns.join("; "),
  ]);
  rows.push([
    "total",
    String(report.total),
    String(report.passed),
    String(report.failed),
    String(report.peerErrors),
    "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) =>
        i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]),
      )
      .join("  ")
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  const failures = report.outcomes.filter((o) => o.status === "fail");
  if (failures.length > 0) {
    out.push("", "failed cases:");
    for (const o of failures)
      out.push(
        `  #${o.index} ${o.method} ${o.caseType} K=${o.k} d=${o.d} seed=${o.seed} (${o.strategy}): ${o.message ?? "failed"}`,
      );
  }
  const viaPeer = report.outcomes.filter(
    (o) => o.status === "pass" && o.against === "expected" && (o.method === "mgda" || o.method === "cagrad"),
  );
  if (viaPeer.length > 0) {
    out.push("", "iterative peers matched on `expected` (with `tol`) rather than on `expected_exact`:");
    for (const o of viaPeer)
      out.push(`  #${o.index} ${o.method} ${o.caseType} K=${o.k} d=${o.d} seed=${o.seed}`);
  }
  return `${out.join("\n")}\n`;
}

export function registerConformance(program: Command): void {
  program
    .command("conformance")
    .description("Check our strategies against a reference file of peer outputs (exit 1 on any failure).")
    .argument("<file>", 'reference JSON file (format: docs/strategies.md, "Reference vectors")')
    .option("--json", "print the whole report, every case included, as JSON")
    .action((file: string, options: { json?: boolean }) => {
      process.exitCode = runConformanceCommand(file, options);
    });
}
