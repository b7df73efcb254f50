/** What the build gives the panel's code (scripts/bundles.mjs). */

/** esbuild loads .css files as text: the panel injects them itself. */
declare module "*.css" {
  const text: string;
  export default text;
}

/** True in the test bundle (dist/webview.test.js), which exposes window.__gradcraft; false in the shipped one. */
declare const GRADCRAFT_TEST_HOOKS: boolean;
