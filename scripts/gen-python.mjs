// Writes python/gradcraft_studio/_generated/strategies.json: every strategy's name, texts, flags and
// parameter JSON Schema (defaults, ranges, enums, descriptions), plus the protocol version, from the
// one TypeScript definition (src/core/strategies, src/protocol/messages.ts). The Python package reads
// its parameters from this file, so both languages share one definition. The file is committed, so
// that `pip install ./python` needs no Node.
//
// `node scripts/gen-python.mjs` writes it (build.mjs does too); `--check` exits 1 when the committed
// file differs from what would be generated (`npm run lint` runs the check, before any build).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { loadSources } from "./gen-schema.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
export const pythonDefinitionsFile = join(
  root,
  "python",
  "gradcraft_studio",
  "_generated",
  "strategies.json",
);

export async function generatePythonDefinitions() {
  const { PROTOCOL_VERSION, strategies, z } = await loadSources();
  return {
    generatedBy: "scripts/gen-python.mjs from src/core/strategies and src/protocol/messages.ts: do not edit",
    protocolVersion: PROTOCOL_VERSION,
    strategies: strategies.map((s) => {
      const { $schema, ...params } = z.toJSONSchema(s.params, {
        io: "input",
        unrepresentable: "any",
        target: "draft-7",
      });
      // Unknown parameter names are errors in both languages (parseStrategyParams in src/core/combine.ts).
      params.additionalProperties = false;
      return {
        name: s.name,
        title: s.title,
        summary: s.summary,
        citation: s.citation,
        usesLosses: s.usesLosses,
        lossTransform: s.lossTransform ?? null,
        params,
      };
    }),
  };
}

export async function pythonDefinitionsText() {
  return `${JSON.stringify(await generatePythonDefinitions(), null, 2)}\n`;
}

/** True when the file on disk is what the sources generate. */
export async function pythonDefinitionsCurrent(file = pythonDefinitionsFile) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  return current === (await pythonDefinitionsText());
}

export async function writePythonDefinitions(file = pythonDefinitionsFile) {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, await pythonDefinitionsText());
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--check")) {
    if (!(await pythonDefinitionsCurrent())) {
      console.error(
        `${relative(root, pythonDefinitionsFile)} is out of date with src/core/strategies: ` +
          "run `node scripts/gen-python.mjs` (or `npm run build`) and commit it",
      );
      process.exit(1);
    }
  } else {
    await writePythonDefinitions();
  }
}
