// Builds every bundle with esbuild. `node scripts/build.mjs [--watch]`.
import { cpSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as esbuild from "esbuild";
import { buildOptions, bundles, dist, root } from "./bundles.mjs";

const watch = process.argv.includes("--watch");
mkdirSync(dist, { recursive: true });

// The JSON Schema of *.gradcraft.json (schemas/, generated, not committed).
const { generateSchema } = await import("./gen-schema.mjs");
mkdirSync(join(root, "schemas"), { recursive: true });
writeFileSync(
  join(root, "schemas/gradcraft.schema.json"),
  `${JSON.stringify(await generateSchema(), null, 2)}\n`,
);

// The same strategy and protocol definitions for the Python package (python/, committed; see gen-python.mjs).
const { writePythonDefinitions } = await import("./gen-python.mjs");
await writePythonDefinitions();

const contexts = [];
for (const options of bundles) {
  const entries = Object.values(options.entryPoints);
  if (!entries.every((entry) => existsSync(join(root, entry)))) continue;
  const config = buildOptions(options, { watch });
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
