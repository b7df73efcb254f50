/**
 * The runs table's webview entry (dist/runs.js): the workspace's runs as a sortable, filterable
 * table and the hyperparameter view, in the dashboard's theme colours and styles. The host
 * computes every row (src/panel/runRows.ts); this app only draws.
 */

import { RunsApp } from "./app";
import type { VsCodeApi } from "./dom";

declare function acquireVsCodeApi(): VsCodeApi;

// Read while this script runs: the host's CSP nonce also admits the injected stylesheet.
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? "";
new RunsApp(acquireVsCodeApi(), nonce).start();
