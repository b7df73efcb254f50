// Writes the definitions the Python package reads (python/gradcraft_studio/_generated/), from the
// one TypeScript definition of each, so both languages share it:
// - strategies.json: every strategy's name, texts, flags and parameter JSON Schema (defaults,
//   ranges, enums, descriptions), plus the protocol version (src/core/strategies);
// - protocol.json: every host command, trainer message and the attach request as JSON Schema
//   (src/protocol/messages.ts), which the package checks the host's commands against.
// The files are committed, so that `pip install ./python` needs no Node.
//
// `node scripts/gen-python.mjs` writes them (build.mjs does too); `--check` exits 1 when a committed
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

export const protocolDefinitionsFile = join(dirname(pythonDefinitionsFile), "protocol.json");

/** The protocol's messages as JSON Schema ("input": fields with defaults are optional, as on the wire). */
export async function generateProtocolDefinitions() {
  const { AttachRequest, HOST_COMMAND_SCHEMAS, PROTOCOL_VERSION, TRAINER_MESSAGE_SCHEMAS, z } =
    await loadSources();
  const schema = (s) => {
    const { $schema, ...rest } = z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
    return rest;
  };
  const byType = (schemas) => Object.fromEntries(schemas.map((s) => [s.shape.type.value, schema(s)]));
  return {
    generatedBy: "scripts/gen-python.mjs from src/protocol/messages.ts: do not edit",
    version: PROTOCOL_VERSION,
    commands: byType(HOST_COMMAND_SCHEMAS),
    messages: byType(TRAINER_MESSAGE_SCHEMAS),
    attach: schema(AttachRequest),
  };
}

/** Every generated file and what it is generated from. */
export const outputs = [
  { file: pythonDefinitionsFile, generate: generatePythonDefinitions },
  { file: protocolDefinitionsFile, generate: generateProtocolDefinitions },
];

/** True when `file` (default: the committed one) holds what the sources generate for `output`. */
export async function isCurrent(output, file = output.file) {
  let current = "";
  try {
    current = readFileSync(file, "utf8");
  } catch {}
  return current === `${JSON.stringify(await output.generate(), null, 2)}\n`;
}

/** The generated files that differ from what the sources generate (paths relative to the repository). */
export async function stalePythonDefinitions() {
  const stale = [];
  for (const output of outputs) if (!(await isCurrent(output))) stale.push(relative(root, output.file));
  return stale;
}

export async function writePythonDefinitions() {
  for (const { file, generate } of outputs) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(await generate(), null, 2)}\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (process.argv.includes("--check")) {
    const stale = await stalePythonDefinitions();
    if (stale.length > 0) {
      console.error(
        `${stale.join(", ")} out of date with the TypeScript definitions: ` +
          "run `node scripts/gen-python.mjs` (or `npm run build`) and commit it",
      );
      process.exit(1);
    }
  } else {
    await writePythonDefinitions();
  }
}
