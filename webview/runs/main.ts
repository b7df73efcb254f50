/**
 * The runs table's webview entry (dist/runs.js): the workspace's runs as a sortable, filterable
 * table and the hyperparameter view, on the dashboard's pieces (theme, DOM builders, Chart.js
 * setup, styles). The host computes every row (src/panel/runRows.ts); this app only draws.
 */
import type { VsCodeApi } from "../app";
import { RunsApp } from "./app";

declare function acquireVsCodeApi(): VsCodeApi;

// Read while this script runs: the host's CSP nonce also admits the injected stylesheet.
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? "";
new RunsApp(acquireVsCodeApi(), nonce).start();
