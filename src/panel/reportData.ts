/**
 * What a shareable report holds (docs/dashboard.md, "Report"): the runs' snapshots, what only
 * their folders hold (config, tags), and the facts of the export (when, by which version). The
 * host writes it into the page (reportHtml.ts); the report's own app reads it back. No DOM, no
 * Node: both sides run this.
 */
import type { RunSnapshot } from "./snapshot";

/** One run of a report: its snapshot as the dashboard shows it, and what only its folder holds. */
export interface ReportRun {
  readonly snapshot: RunSnapshot;
  /** The training config the run started with (its folder's config.json), when it has one. */
  readonly config?: unknown;
  /** The run folder's own name, to tell the run's files apart from others'. */
  readonly folder?: string;
  readonly tags?: readonly string[];
  readonly note?: string;
}

export interface ReportData {
  /** ISO time the report was written. */
  readonly createdAt: string;
  /** What wrote it: "GradCraft Studio 0.1.0". */
  readonly generator: string;
  /** One run, or several compared (the first is the baseline). */
  readonly runs: readonly ReportRun[];
}

/** The id of the script element that holds the data (webview/report/main.ts reads it). */
export const REPORT_DATA_ID = "gradcraft-report-data";

/** Run states in which the run was still going when the report was cut. */
const LIVE_STATES: ReadonlySet<string> = new Set(["starting", "running", "paused"]);

export function wasLive(run: ReportRun): boolean {
  return LIVE_STATES.has(run.snapshot.state);
}

/**
 * The report's JSON, safe inside a <script> element: `<`, `>` and `&` are written as \u escapes
 * (so a run named `</script><script>…` stays data), as are the line separators JSON allows in
 * strings and older JavaScript did not. Numbers JSON cannot hold (NaN: "no value" in the run
 * model) travel as {"$number": "NaN"} and are read back by `reviveReportJson`.
 */
export function reportJson(data: ReportData): string {
  const compact = {
    ...data,
    runs: data.runs.map((run) => ({
      ...run,
      snapshot: {
        ...run.snapshot,
        series: significant(run.snapshot.series),
        recentCosines: significant(run.snapshot.recentCosines),
      },
    })),
  };
  return JSON.stringify(compact, (_key, value: unknown) =>
    typeof value === "number" && !Number.isFinite(value) ? { $number: String(value) } : value,
  ).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * The charts' points with 7 significant digits (what float32, the trainer's arithmetic, holds)
 * instead of JSON's 17: the file is about half the size. The tables' figures (latest and best
 * evaluations, the summary) are written in full.
 */
function significant<T>(value: T): T {
  if (typeof value === "number")
    return (Number.isInteger(value) || !Number.isFinite(value) ? value : Number(value.toPrecision(7))) as T;
  if (Array.isArray(value)) return value.map(significant) as T;
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, significant(v)])) as T;
  return value;
}

/** The data back from `reportJson`'s text (the webview runs this). */
export function parseReportJson(text: string): ReportData {
  return JSON.parse(text, (_key, value: unknown) => {
    if (value && typeof value === "object" && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const number = (value as { $number?: unknown }).$number;
      if (keys.length === 1 && typeof number === "string") return Number(number);
    }
    return value;
  }) as ReportData;
}

/** The title of a report (the tab's, the file's): the run's name, or the runs compared. */
export function reportTitle(labels: readonly string[]): string {
  return labels.length > 1
    ? `GradCraft report: ${labels.join(" vs ")}`
    : `GradCraft report: ${labels[0] ?? "run"}`;
}

/**
 * The file name a report is offered under: `<run>-report.html`, `<a>-vs-<b>-report.html` for a
 * comparison; only letters, digits, `.`, `_` and `-` (a run name may hold anything).
 */
export function reportFileName(labels: readonly string[]): string {
  const base = labels
    .map((l) => l.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._-]+|[._-]+$/g, ""))
    .filter(Boolean)
    .join("-vs-")
    .slice(0, 120);
  return `${base || "gradcraft"}-report.html`;
}
