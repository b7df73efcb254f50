import { randomBytes } from "node:crypto";

/**
 * The webview document of every panel (the conflicts view, the dashboard, the runs table). Strict content
 * security policy: scripts only with this document's nonce, nothing from the network, resources
 * only from the extension's dist/ and media/ (the webview's cspSource), no eval. Styles may be
 * inline (chart.js sizes its canvases with style attributes; a style cannot run code).
 */
export interface HtmlOptions {
  /** webview.cspSource */
  readonly cspSource: string;
  /** webview.asWebviewUri(dist/webview.js) as a string. */
  readonly scriptUri: string;
  /** Optional stylesheet (dist/webview.css) when the panel ships one. */
  readonly styleUri?: string;
  /** The page's marker for its app (and the tests): the dashboard's two surfaces, or the runs table. */
  readonly surface: "dashboard" | "conflicts" | "runs";
  readonly title: string;
  readonly nonce?: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString("base64url");
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource} 'unsafe-inline'`,
    `img-src ${cspSource} data: blob:`,
    `font-src ${cspSource}`,
    "connect-src 'none'",
    "frame-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join("; ");
}

export function renderWebviewHtml(options: HtmlOptions): string {
  const nonce = options.nonce ?? makeNonce();
  const csp = contentSecurityPolicy(options.cspSource, nonce);
  const style = options.styleUri
    ? `\n    <link rel="stylesheet" href="${escapeAttr(options.styleUri)}">`
    : "";
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
    <meta name="viewport" content="width=device-width, initial-scale=1.0">${style}
    <title>${escapeText(options.title)}</title>
  </head>
  <body data-surface="${options.surface}">
    <script nonce="${nonce}" src="${escapeAttr(options.scriptUri)}"></script>
  </body>
</html>`;
}

function escapeAttr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function escapeText(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
