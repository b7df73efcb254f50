import * as fs from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { encodeLine } from "./codec";
import { ATTACH_EXAMPLE, COMMAND_EXAMPLES, INCOMPATIBLE_EXAMPLE, TRAINER_EXAMPLES } from "./examples";
import { AttachRequest, HOST_COMMAND_SCHEMAS, IncompatibleNotice, TRAINER_MESSAGE_SCHEMAS } from "./messages";

/**
 * The field tables of docs/protocol.md, generated from the zod definitions (one definition,
 * many faces). `npx tsx src/protocol/doc.ts` rewrites the generated part of the document; a
 * unit test fails when the document is out of date.
 */

export const DOC_PATH = join(__dirname, "..", "..", "docs", "protocol.md");
export const BEGIN = "<!-- BEGIN GENERATED: message tables (npx tsx src/protocol/doc.ts) -->";
export const END = "<!-- END GENERATED -->";

type JsonSchema = {
  type?: string | string[];
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  description?: string;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  minLength?: number;
};

function typeName(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(" \\| ");
  const union = s.anyOf ?? s.oneOf;
  if (union) return union.map(typeName).join(" \\| ");
  const type = Array.isArray(s.type) ? s.type.join(" \\| ") : s.type;
  if (type === "array") return `${s.items ? typeName(s.items) : "any"}[]`;
  if (
    type === "object" &&
    !s.properties &&
    s.additionalProperties &&
    typeof s.additionalProperties === "object"
  )
    return `{ [key]: ${typeName(s.additionalProperties)} }`;
  return type ?? "any";
}

function constraints(s: JsonSchema): string {
  const parts: string[] = [];
  const inner = s.type === "array" && s.items ? s.items : s;
  // zod bounds every integer to the safe range: not worth a word.
  const safe = (x: number | undefined) => x !== undefined && Math.abs(x) < Number.MAX_SAFE_INTEGER;
  if (safe(inner.minimum)) parts.push(`≥ ${inner.minimum}`);
  if (inner.exclusiveMinimum !== undefined) parts.push(`> ${inner.exclusiveMinimum}`);
  if (safe(inner.maximum)) parts.push(`≤ ${inner.maximum}`);
  if (inner.exclusiveMaximum !== undefined) parts.push(`< ${inner.exclusiveMaximum}`);
  if (inner.type === "integer") parts.push("integer");
  if (s.minItems !== undefined)
    parts.push(`at least ${s.minItems} ${s.minItems === 1 ? "entry" : "entries"}`);
  if (s.minLength !== undefined && s.minLength > 0) parts.push("non-empty");
  if (s.default !== undefined) parts.push(`default ${JSON.stringify(s.default)}`);
  return parts.join(", ");
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");

/** Rows "field | type | required | meaning", nested objects flattened as a.b (not `config`). */
function rows(schema: JsonSchema, prefix = "", depth = 0): string[] {
  const out: string[] = [];
  const required = new Set(schema.required ?? []);
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${name}` : name;
    const nested = prop.type === "object" && prop.properties && depth < 3 && path !== "config";
    const arrayOfObjects =
      prop.type === "array" && prop.items?.type === "object" && prop.items.properties && depth < 3;
    const type = nested
      ? "object"
      : arrayOfObjects
        ? "object[]"
        : path === "config"
          ? "TrainingConfig"
          : typeName(prop);
    const meaning = [prop.description, constraints(prop)].filter(Boolean).join(" ");
    out.push(
      `| \`${path}\` | ${type.includes("`") ? type : `\`${type}\``} | ${required.has(name) ? "yes" : "no"} | ${cell(meaning)} |`,
    );
    if (nested) out.push(...rows(prop, path, depth + 1));
    if (arrayOfObjects && prop.items) out.push(...rows(prop.items, `${path}[]`, depth + 1));
  }
  return out;
}

function section(schema: z.ZodObject, example: unknown, direction: string): string {
  const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const type = (schema.shape.type as z.ZodLiteral).value as string;
  return [
    `### \`${type}\` (${direction})`,
    "",
    schema.description ?? "",
    "",
    "| field | type | required | meaning |",
    "|---|---|---|---|",
    ...rows(json),
    "",
    "```json",
    encodeLine(example).trimEnd(),
    "```",
    "",
  ].join("\n");
}

/** The generated part of docs/protocol.md. */
export function renderMessageTables(): string {
  const parts = ["## Messages, field by field", "", "### Trainer → host", ""];
  for (const schema of TRAINER_MESSAGE_SCHEMAS) {
    const type = schema.shape.type.value as keyof typeof TRAINER_EXAMPLES;
    parts.push(section(schema as unknown as z.ZodObject, TRAINER_EXAMPLES[type], "trainer → host"));
  }
  parts.push("### Host → trainer", "");
  for (const schema of HOST_COMMAND_SCHEMAS) {
    const type = schema.shape.type.value as keyof typeof COMMAND_EXAMPLES;
    parts.push(section(schema as unknown as z.ZodObject, COMMAND_EXAMPLES[type], "host → trainer"));
  }
  parts.push(
    section(
      IncompatibleNotice as unknown as z.ZodObject,
      INCOMPATIBLE_EXAMPLE,
      "host → trainer, only to another major",
    ),
    section(AttachRequest as unknown as z.ZodObject, ATTACH_EXAMPLE, "client → trainer, socket only"),
  );
  return parts.join("\n");
}

/** The document with its generated part replaced. */
export function updateDocument(text: string): string {
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`docs/protocol.md lacks the ${BEGIN} ... ${END} markers`);
  return `${text.slice(0, begin + BEGIN.length)}\n\n${renderMessageTables()}\n${text.slice(end)}`;
}

if (require.main === module) {
  const text = fs.readFileSync(DOC_PATH, "utf8");
  fs.writeFileSync(DOC_PATH, updateDocument(text));
  console.error(`updated ${DOC_PATH}`);
}
