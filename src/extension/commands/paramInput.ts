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
  anyOf?: ParamSchema[];
}

export type ParamParse = { ok: true; value: unknown } | { ok: false; message: string };

export function parseParam(name: string, schema: ParamSchema, text: string): ParamParse {
  const trimmed = text.trim();
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
  // Anything else (arrays, objects): JSON.
  try {
    return { ok: true, value: JSON.parse(trimmed) };
  } catch {
    return { ok: false, message: `${name} must be JSON` };
  }
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

export function formatParam(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}
