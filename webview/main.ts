/**
 * The panel webview's entry: one app (app.ts) for both surfaces, the compact Conflicts view and
 * the full dashboard. Test builds also expose read-only test hooks (testHooks.ts); the shipped
 * bundle is built without them (scripts/bundles.mjs).
 */
import type { Surface } from "../src/panel/messages";
import { DashboardApp, type VsCodeApi } from "./app";
import { exposeTestHooks } from "./testHooks";

declare function acquireVsCodeApi(): VsCodeApi;

// Read while this script runs: the host's CSP nonce also admits the injected stylesheet.
const nonce = (document.currentScript as HTMLScriptElement | null)?.nonce ?? "";
const app = new DashboardApp(acquireVsCodeApi(), {
  nonce,
  surface: document.body.dataset.surface as Surface | undefined,
});
if (GRADCRAFT_TEST_HOOKS) exposeTestHooks(app);
app.start();
