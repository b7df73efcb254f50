/**
 * Reading one strategy parameter from the user, checked against the JSON Schema the trainer's
 * `hello` published for it (z.toJSONSchema output: type, enum, minimum/maximum, exclusive bounds,
 * integer). The trainer validates again; this catches mistakes before a round trip.
 */
export interface ParamSchema {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
  description?: string;
  /** What the number counts or measures (the strategies' `.meta({ unit })`). */
  unit?: string;
  anyOf?: ParamSchema[];
}

export type ParamParse = { ok: true; value: unknown } | { ok: false; message: string };

export function parseParam(name: string, schema: ParamSchema, text: string, optional = false): ParamParse {
  const trimmed = text.trim();
  // An optional parameter left empty is left out (the strategy's own default applies).
  if (optional && trimmed === "") return { ok: true, value: undefined };
  const types = schemaTypes(schema);
  if (schema.enum) {
    const match = schema.enum.find((option) => String(option) === trimmed);
    return match !== undefined
      ? { ok: true, value: match }
      : {
          ok: false,
          message: `${name} must be one of ${schema.enum.map((o) => JSON.stringify(o)).join(", ")}`,
        };
  }
  if (types.includes("boolean")) {
    if (trimmed === "true" || trimmed === "false") return { ok: true, value: trimmed === "true" };
    return { ok: false, message: `${name} must be true or false` };
  }
  if (types.includes("number") || types.includes("integer")) {
    if (trimmed === "") return { ok: false, message: `${name} needs a number` };
    const value = Number(trimmed);
    if (!Number.isFinite(value))
      return { ok: false, message: `${name} must be a finite number (got "${trimmed}")` };
    if (types.includes("integer") && !types.includes("number") && !Number.isInteger(value))
      return { ok: false, message: `${name} must be a whole number` };
    if (schema.minimum !== undefined && value < schema.minimum)
      return { ok: false, message: `${name} must be ≥ ${schema.minimum}` };
    if (schema.maximum !== undefined && value > schema.maximum)
      return { ok: false, message: `${name} must be ≤ ${schema.maximum}` };
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum)
      return { ok: false, message: `${name} must be > ${schema.exclusiveMinimum}` };
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum)
      return { ok: false, message: `${name} must be < ${schema.exclusiveMaximum}` };
    return { ok: true, value };
  }
  if (types.includes("string")) return { ok: true, value: trimmed };
  // Anything else (arrays, objects): JSON of that shape.
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return { ok: false, message: `${name} must be JSON` };
  }
  if (types.includes("array") && !Array.isArray(value))
    return { ok: false, message: `${name} must be a JSON list` };
  if (types.includes("object") && (typeof value !== "object" || value === null || Array.isArray(value)))
    return { ok: false, message: `${name} must be a JSON object` };
  return { ok: true, value };
}

function schemaTypes(schema: ParamSchema): string[] {
  if (schema.type) return Array.isArray(schema.type) ? schema.type : [schema.type];
  return (schema.anyOf ?? []).flatMap(schemaTypes);
}

/** The parameters of a strategy schema, in declaration order. */
export function paramEntries(paramsSchema: Record<string, unknown>): Array<[string, ParamSchema]> {
  const properties = paramsSchema.properties;
  if (typeof properties !== "object" || properties === null) return [];
  return Object.entries(properties as Record<string, ParamSchema>);
}

/** Parameters without a default that the schema does not require may be left out. */
export function isOptionalParam(
  paramsSchema: Record<string, unknown>,
  name: string,
  schema: ParamSchema,
): boolean {
  const required = Array.isArray(paramsSchema.required) ? (paramsSchema.required as string[]) : [];
  return !required.includes(name) && schema.default === undefined;
}

export function formatParam(value: unknown): string {
  if (value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value);
}
