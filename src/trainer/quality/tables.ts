import { type QualityReport, SINGLE, type Stat } from "./report";

/** The report as text: two tables (AUC, GAUC), Markdown for docs or aligned for a terminal. */

const fixed = (x: number, digits: number) => x.toFixed(digits).replace(/^(-?)0\./, "$1.");

/** ".8361 ± .0012" (std omitted below two seeds). */
export function formatStat(stat: Stat, kind: "metric" | "percent" = "metric"): string {
  if (stat.mean === null) return "–";
  if (kind === "percent") {
    const mean = `${stat.mean >= 0 ? "+" : ""}${(stat.mean * 100).toFixed(2)}%`;
    return stat.std === null ? mean : `${mean} ± ${(stat.std * 100).toFixed(2)}`;
  }
  return stat.std === null ? fixed(stat.mean, 4) : `${fixed(stat.mean, 4)} ± ${fixed(stat.std, 4)}`;
}

/** "5e-4"; null: "–". */
export function formatRate(rate: number | null): string {
  return rate === null ? "–" : rate.toExponential().replace("e+0", "");
}

/**
 * Two tables (AUC, GAUC): a row per strategy, a column per task, then AV and RI; with a
 * learning-rate grid, the rate chosen on validation (Single: per task, "/"-separated).
 */
export function tableRows(
  report: Pick<QualityReport, "rows" | "taskNames">,
  metric: "auc" | "gauc",
): string[][] {
  const tuned = report.rows.some((row) => row.learningRates !== undefined);
  const header = ["strategy", ...report.taskNames, "AV", "RI", ...(tuned ? ["lr"] : [])];
  const body = report.rows.map((row) => [
    row.label,
    ...row[metric].map((s) => formatStat(s)),
    formatStat(metric === "auc" ? row.avAuc : row.avGauc),
    row.label === SINGLE ? "–" : formatStat(metric === "auc" ? row.riAuc : row.riGauc, "percent"),
    ...(tuned ? [(row.learningRates ?? [null]).map(formatRate).join("/")] : []),
  ]);
  return [header, ...body];
}

export function markdownTable(rows: string[][]): string {
  const [header, ...body] = rows;
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map((_, i) => (i === 0 ? "---" : "---:"))), ...body.map(line)].join("\n");
}

export function textTable(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => [...r[c]].length)));
  const pad = (cell: string, c: number) =>
    c === 0
      ? cell + " ".repeat(widths[c] - [...cell].length)
      : " ".repeat(widths[c] - [...cell].length) + cell;
  const lines = rows.map((r) => r.map(pad).join("  "));
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "));
  return lines.join("\n");
}
