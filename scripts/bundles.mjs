// The bundles the build makes (scripts/build.mjs) and the esbuild options of each, in one place so
// that the tests that check a bundle's contents build it exactly as shipped.
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");
export const dist = join(root, "dist");

// The extension host bundle keeps zod's English messages only: its 40-odd other locales would
// double the bundle the editor loads at activation.
const zodEnglishOnly = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${"node_modules"}/zod/`)
        ? { path: "zod-locales", namespace: "zod-en" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-en" }, () => ({
      contents: `export { default as en } from ${JSON.stringify(join(root, "node_modules/zod/v4/locales/en.js"))};`,
      resolveDir: root,
    }));
  },
};

// jsonc-parser's "main" is a UMD build whose inner require() calls esbuild cannot follow: take
// its ES module build instead.
const jsoncAsModule = {
  name: "jsonc-parser-esm",
  setup(build) {
    build.onResolve({ filter: /^jsonc-parser$/ }, () => ({
      path: join(root, "node_modules/jsonc-parser/lib/esm/main.js"),
    }));
  },
};

/** The panel app, run inside the webview (browser code). */
const panel = { platform: "browser", format: "iife", target: "es2022" };

/** Each bundle is built only once its entry exists, so the layout can grow piece by piece. */
export const bundles = [
  {
    // The trainer and CLI: Node, holds TensorFlow.js. Never loaded by the extension host. The
    // trainer's worker threads (each step's slices of the batch) run trainer-worker.js beside it.
    entryPoints: { cli: "src/cli/main.ts", "trainer-worker": "src/trainer/parallel/worker.ts" },
    platform: "node",
    format: "cjs",
    target: "node20",
    banner: { js: "#!/usr/bin/env node" },
    // Native and optional backends are loaded at run time when the user has them.
    external: ["@tensorflow/tfjs-node", "@tensorflow/tfjs-node-gpu", "webgpu"],
    plugins: [jsoncAsModule],
  },
  {
    // The VS Code extension host bundle: small, no tfjs.
    entryPoints: { extension: "src/extension/extension.ts" },
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode"],
    plugins: [zodEnglishOnly, jsoncAsModule],
  },
  // The panel as shipped: its test hooks are compiled out (the define makes them dead code).
  { entryPoints: { webview: "webview/main.ts" }, ...panel, define: { GRADCRAFT_TEST_HOOKS: "false" } },
  // The same panel with its read-only test hooks (window.__gradcraft), for the Chromium and
  // real-VS-Code suites and the panel benchmark; .vscodeignore leaves it out of the package.
  { entryPoints: { "webview.test": "webview/main.ts" }, ...panel, define: { GRADCRAFT_TEST_HOOKS: "true" } },
  // The runs table and hyperparameter view: a second app beside the panel's.
  { entryPoints: { runs: "webview/runs/main.ts" }, ...panel },
  // The shareable report: the panel read-only, inlined whole into each report's HTML file by the
  // host (src/panel/reportHtml.ts), so it carries no source map comment.
  {
    entryPoints: { report: "webview/report/main.ts" },
    ...panel,
    define: { GRADCRAFT_TEST_HOOKS: "false" },
    sourcemap: false,
  },
];

/** The esbuild options the build runs a bundle with (`watch`: unminified, rebuilt on change). */
export function buildOptions(bundle, { watch = false } = {}) {
  return {
    ...bundle,
    absWorkingDir: root,
    outdir: dist,
    bundle: true,
    sourcemap: bundle.sourcemap ?? true,
    minify: !watch,
    legalComments: "none",
    logLevel: "warning",
    loader: { ".css": "text" },
  };
}
