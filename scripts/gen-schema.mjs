// Generates schemas/gradcraft.schema.json, the JSON Schema of *.gradcraft.json files, from the one
// definition of the training config (src/protocol/config.ts) and the strategies' own parameter
// definitions (src/core/strategies). `node scripts/gen-schema.mjs [--check]`; run by build.mjs.
// --check exits 1 when the file on disk differs from what would be generated.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as esbuild from "esbuild";
import { applyPresetDefaults } from "./schema-defaults.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const target = join(root, "schemas", "gradcraft.schema.json");

/**
 * Bundles the TypeScript sources (zod included) into one ESM module we can import here; also used
 * by gen-python.mjs, which writes the same definitions for the Python package.
 */
export async function loadSources() {
  const entry = `
    export { TrainingConfig } from "./src/protocol/config.ts";
    export {
      AttachRequest,
      HOST_COMMAND_SCHEMAS,
      PROTOCOL_VERSION,
      TRAINER_MESSAGE_SCHEMAS,
    } from "./src/protocol/messages.ts";
    export { strategies } from "./src/core/strategies/index.ts";
    export { PRESETS, presetConfig } from "./src/trainer/presets.ts";
    export { z } from "zod";
  `;
  const result = await esbuild.build({
    stdin: { contents: entry, resolveDir: root, loader: "ts" },
    bundle: true,
    platform: "node",
    format: "esm",
    // ESM builds first: a UMD build (jsonc-parser's, reached through the presets' data code)
    // requires its own files dynamically, which an ESM bundle cannot.
    mainFields: ["module", "main"],
    write: false,
    logLevel: "warning",
  });
  const file = join(tmpdir(), `gradcraft-schema-${process.pid}.mjs`);
  writeFileSync(file, result.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(file, { force: true });
  }
}

/** Stands for a preset's data folder, which only the trainer's machine knows. */
const DATA_DIR = "<data folder>";

function strip(schema) {
  const { $schema, ...rest } = schema;
  return rest;
}

export async function generateSchema() {
  const { TrainingConfig, strategies, PRESETS, presetConfig, z } = await loadSources();
  const schema = strip(
    z.toJSONSchema(TrainingConfig, { io: "input", unrepresentable: "any", target: "draft-7" }),
  );
  const strategyNode = schema.properties?.strategy;
  if (!strategyNode?.properties?.name)
    throw new Error("config schema has no strategy.name: update gen-schema.mjs");
  const names = strategies.map((s) => s.name);
  const fallback = strategyNode.properties.name.default ?? "gradcraft";
  // Completion and hover for the strategy name, then each strategy's own parameters.
  strategyNode.properties.name = {
    ...strategyNode.properties.name,
    enum: names,
    markdownEnumDescriptions: strategies.map((s) => `**${s.title}**: ${s.summary} (${s.citation})`),
  };
  strategyNode.allOf = strategies.map((s) => {
    const params = strip(
      z.toJSONSchema(s.params, { io: "input", unrepresentable: "any", target: "draft-7" }),
    );
    params.additionalProperties = false;
    const named = { properties: { name: { const: s.name } }, required: ["name"] };
    // The strategy a config gets when it names none is the config's default.
    const condition = s.name === fallback ? { anyOf: [named, { not: { required: ["name"] } }] } : named;
    return {
      if: condition,
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable.
      then: { properties: { params: { ...params, description: `${s.title} parameters.` } } },
    };
  });
  // What each preset puts in effect: the values completion may insert in a file naming it.
  const inEffect = Object.fromEntries(
    PRESETS.map((name) => [name, TrainingConfig.parse(presetConfig(name, { dataDir: DATA_DIR }))]),
  );
  applyPresetDefaults(schema, inEffect, (value) => JSON.stringify(value).includes(DATA_DIR));
  return {
    $schema: "http://json-schema.org/draft-07/schema#",
    $id: "https://gradcraft.dev/schemas/gradcraft.schema.json",
    title: "GradCraft Studio training config (*.gradcraft.json)",
    // Configs are JSONC, read alike by the trainer and the editor (src/protocol/configFile.ts):
    // VS Code's JSON service then accepts the trailing commas the trainer accepts.
    allowTrailingCommas: true,
    ...schema,
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = `${JSON.stringify(await generateSchema(), null, 2)}\n`;
  if (process.argv.includes("--check")) {
    let current = "";
    try {
      current = readFileSync(target, "utf8");
    } catch {}
    if (current !== text) {
      console.error(`${target} is out of date: run node scripts/gen-schema.mjs`);
      process.exit(1);
    }
  } else {
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
}
