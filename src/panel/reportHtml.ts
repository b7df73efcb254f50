/**
 * The shareable report's page (docs/dashboard.md, "Report"): one HTML file holding a read-only
 * build of the dashboard (dist/report.js, inlined), the runs' data as JSON (reportData.ts) and
 * the facts of the export, so that it opens in any browser without VS Code or a network. Pure:
 * the host and the CLI read the bundle and the runs, this writes the page.
 */
import { createHash } from "node:crypto";
import { REPORT_DATA_ID, type ReportData, reportJson } from "./reportData";

/**
 * A script's text made safe to inline: `</script` and `<!--` would end or change the element's
 * parsing. Written with an escape JavaScript reads as the same characters, in strings, template
 * literals and regular expressions alike.
 */
export function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\u0021--");
}

export interface ReportPage {
  readonly data: ReportData;
  /** dist/report.js as built. */
  readonly script: string;
  readonly title: string;
}

/**
 * The whole page. Its content security policy admits exactly the inlined script (by hash) and
 * nothing from anywhere: a report never reaches the network, whatever a run's name holds.
 */
export function reportHtml(page: ReportPage): string {
  const script = inlineScript(page.script);
  const hash = createHash("sha256").update(script, "utf8").digest("base64");
  const csp = [
    "default-src 'none'",
    `script-src 'sha256-${hash}'`,
    "style-src 'unsafe-inline'",
    "img-src data: blob:",
    "font-src data:",
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
  const runs = page.data.runs;
  const summary = `${runs.length > 1 ? `Comparison of ${runs.map((r) => r.snapshot.label).join(", ")}` : runs[0]?.snapshot.label}: made ${page.data.createdAt} by ${page.data.generator}.`;
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">
    <meta name="generator" content="${escapeHtml(page.data.generator)}">
    <title>${escapeHtml(page.title)}</title>
  </head>
  <body data-surface="report">
    <noscript><p>${escapeHtml(summary)} This report draws its charts with JavaScript: open it in a browser with scripts on.</p></noscript>
    <script type="application/json" id="${REPORT_DATA_ID}">${reportJson(page.data)}</script>
    <script>${script}</script>
  </body>
</html>
`;
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
