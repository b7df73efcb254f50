import type { RunSummary, Split } from "../../protocol/messages";

/**
 * How runs and their numbers read in the host's views (Runs view, tooltips, status bar,
 * notifications). Pure, so the wording is unit-tested: every metric names its split, every time
 * is local and readable.
 */

const SPLIT_NAMES: Record<Split, string> = { train: "train", validation: "val", test: "test" };

/** "test AUC 0.7312": a metric always with its split. */
export function metricText(split: Split, metric: "AUC" | "GAUC" | "log loss", value: number): string {
  return `${SPLIT_NAMES[split]} ${metric} ${value.toFixed(4)}`;
}

/**
 * The headline metric of a finished run: the mean test AUC when the run was tested, else the
 * mean validation AUC; undefined when it has neither.
 */
export function headlineMetric(summary: RunSummary | null | undefined): string | undefined {
  for (const split of ["test", "validation"] as const) {
    const auc = summary?.splits[split]?.mean.auc;
    if (typeof auc === "number" && Number.isFinite(auc)) return metricText(split, "AUC", auc);
  }
  return undefined;
}

/** Every mean metric of the summary, one line per split: for tooltips. */
export function summaryLines(summary: RunSummary | null | undefined): string[] {
  const lines: string[] = [];
  for (const split of ["validation", "test"] as const) {
    const mean = summary?.splits[split]?.mean;
    if (!mean) continue;
    const parts: string[] = [];
    if (typeof mean.auc === "number") parts.push(`AUC ${mean.auc.toFixed(4)}`);
    if (typeof mean.gauc === "number") parts.push(`GAUC ${mean.gauc.toFixed(4)}`);
    if (typeof mean.logloss === "number") parts.push(`log loss ${mean.logloss.toFixed(4)}`);
    if (parts.length > 0)
      lines.push(`${split === "test" ? "test" : "validation"} (mean over tasks): ${parts.join(", ")}`);
  }
  return lines;
}

/** "3 Dec 2026, 14:05:09" in the user's time zone (an ISO timestamp in, a readable local one out). */
export function localTime(
  iso: string | null | undefined,
  locale?: string,
  timeZone?: string,
): string | undefined {
  if (!iso) return undefined;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return undefined;
  return at.toLocaleString(locale, {
    day: "numeric",
    month: "short",
    year: "numeric",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hour12: false,
    timeZone,
  });
}

/** "#baseline #lr-sweep" */
export function tagsText(tags: readonly string[]): string {
  return tags.map((t) => `#${t}`).join(" ");
}

/** A file name for an export, safe on every system, with the extension of its kind. */
export function exportFileName(name: string, kind: "csv" | "png"): string {
  const base =
    name
      .replace(/\.(csv|png)$/i, "")
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .slice(0, 120) || "export";
  return `${base}.${kind}`;
}
