// Builds every bundle with esbuild. `node scripts/build.mjs [--watch]`.
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(root, "dist");
const watch = process.argv.includes("--watch");
mkdirSync(dist, { recursive: true });

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

/** Each bundle is built only once its entry exists, so the layout can grow piece by piece. */
const bundles = [
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
  {
    // The panel app, run inside the webview.
    entryPoints: { webview: "webview/main.ts" },
    platform: "browser",
    format: "iife",
    target: "es2022",
  },
  {
    // The runs table and hyperparameter view: a second app beside the panel's.
    entryPoints: { runs: "webview/runs/main.ts" },
    platform: "browser",
    format: "iife",
    target: "es2022",
  },
];

// The JSON Schema of *.gradcraft.json (schemas/, generated, not committed).
const { generateSchema } = await import("./gen-schema.mjs");
mkdirSync(join(root, "schemas"), { recursive: true });
writeFileSync(
  join(root, "schemas/gradcraft.schema.json"),
  `${JSON.stringify(await generateSchema(), null, 2)}\n`,
);

// The same strategy definitions for the Python package (python/, committed; see gen-python.mjs).
const { writePythonDefinitions } = await import("./gen-python.mjs");
await writePythonDefinitions();

const contexts = [];
for (const options of bundles) {
  const entries = Object.values(options.entryPoints);
  if (!entries.every((entry) => existsSync(join(root, entry)))) continue;
  const config = {
    ...options,
    absWorkingDir: root,
    outdir: dist,
    bundle: true,
    sourcemap: true,
    minify: !watch,
    legalComments: "none",
    logLevel: "warning",
    loader: { ".css": "text" },
  };
  if (watch) {
    const context = await esbuild.context(config);
    await context.watch();
    contexts.push(context);
  } else {
    await esbuild.build(config);
  }
}

// The wasm backend loads its binaries from beside the bundle.
const wasmDir = join(root, "node_modules/@tensorflow/tfjs-backend-wasm/dist");
if (existsSync(wasmDir)) {
  for (const file of readdirSync(wasmDir).filter((f) => f.endsWith(".wasm"))) {
    cpSync(join(wasmDir, file), join(dist, file));
  }
}
if (watch) console.log(`watching ${contexts.length} bundles`);
