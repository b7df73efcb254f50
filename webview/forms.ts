/**
 * Forms built from the JSON Schemas the trainer publishes in `hello` (zod's toJSONSchema output for
 * each strategy's parameters), with the same checks the schema states (type, integer, ranges,
 * enums), run before anything is sent. The host validates again with zod before acting.
 */

export interface JsonSchemaProperty {
  type?: string | string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  default?: unknown;
  description?: string;
  title?: string;
  anyOf?: JsonSchemaProperty[];
}

export interface ObjectSchema {
  type?: string;
  properties?: Record<string, JsonSchemaProperty>;
  required?: string[];
}

/** Strips wrappers zod uses (anyOf with null for nullable/optional) to the property's real shape. */
function effective(property: JsonSchemaProperty): JsonSchemaProperty {
  if (property.anyOf) {
    const concrete = property.anyOf.find((p) => p.type !== "null");
    if (concrete)
      return {
        ...concrete,
        description: property.description ?? concrete.description,
        default: property.default ?? concrete.default,
      };
  }
  return property;
}

function kindOf(property: JsonSchemaProperty): "number" | "integer" | "boolean" | "enum" | "string" | "json" {
  if (property.enum) return "enum";
  const type = Array.isArray(property.type) ? property.type.find((t) => t !== "null") : property.type;
  // Lists and objects (e.g. PCGrad's recorded `orders`) are typed as JSON; left empty they are not sent.
  if (type === "array" || type === "object") return "json";
  if (type === "integer") return "integer";
  if (type === "number") return "number";
  if (type === "boolean") return "boolean";
  return "string";
}

/** Checks one value against its property; returns the parsed value or an error sentence. */
export function checkValue(
  name: string,
  raw: string | boolean,
  schemaProperty: JsonSchemaProperty,
): { ok: true; value: unknown } | { ok: false; error: string } {
  const property = effective(schemaProperty);
  const kind = kindOf(property);
  if (kind === "boolean") return { ok: true, value: Boolean(raw) };
  if (kind === "enum") {
    const match = property.enum?.find((option) => String(option) === raw);
    return match === undefined
      ? { ok: false, error: `${name} must be one of ${property.enum?.join(", ")}` }
      : { ok: true, value: match };
  }
  if (kind === "string") return { ok: true, value: String(raw) };
  const text = String(raw).trim();
  if (kind === "json") {
    if (text === "") return { ok: true, value: undefined };
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false, error: `${name} must be JSON (e.g. [[0, 1], [1, 0]]), or empty` };
    }
  }
  if (text === "") return { ok: false, error: `${name} needs a value` };
  const value = Number(text);
  if (!Number.isFinite(value)) return { ok: false, error: `${name} must be a number` };
  if (kind === "integer" && !Number.isInteger(value))
    return { ok: false, error: `${name} must be a whole number` };
  const { minimum, maximum, exclusiveMinimum, exclusiveMaximum } = property;
  if (typeof exclusiveMinimum === "number" && value <= exclusiveMinimum)
    return { ok: false, error: `${name} must be greater than ${exclusiveMinimum}` };
  if (typeof exclusiveMaximum === "number" && value >= exclusiveMaximum)
    return { ok: false, error: `${name} must be less than ${exclusiveMaximum}` };
  if (minimum !== undefined && (exclusiveMinimum === true ? value <= minimum : value < minimum))
    return { ok: false, error: `${name} must be at least ${minimum}` };
  if (maximum !== undefined && (exclusiveMaximum === true ? value >= maximum : value > maximum))
    return { ok: false, error: `${name} must be at most ${maximum}` };
  return { ok: true, value };
}

export interface BuiltForm {
  element: HTMLElement;
  /** Validates every field (showing errors in place); null when something is wrong. */
  read(): Record<string, unknown> | null;
}

/**
 * Fields for an object schema's properties. `values` pre-fills (e.g. the parameters in use);
 * `onlyChanged` makes `read` return just the fields the user edited.
 */
export function buildFields(
  schema: ObjectSchema | undefined,
  values: Record<string, unknown> = {},
  options: { onlyChanged?: boolean; idPrefix?: string } = {},
): BuiltForm {
  const element = document.createElement("div");
  element.className = "fields";
  const readers: (() => { name: string; ok: boolean; value?: unknown; changed: boolean })[] = [];
  const properties = Object.entries(schema?.properties ?? {});
  if (properties.length === 0) {
    const none = document.createElement("p");
    none.className = "muted";
    none.textContent = "No parameters.";
    element.append(none);
  }
  for (const [name, rawProperty] of properties) {
    const property = effective(rawProperty);
    const kind = kindOf(property);
    // One form of each kind is on the page at a time: the prefix and the name make the id unique.
    const id = `${options.idPrefix ?? "f"}-${name}`;
    const row = document.createElement("div");
    row.className = "field";
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = property.title ?? name;
    const error = document.createElement("span");
    error.className = "field-error";
    error.id = `${id}-error`;
    error.setAttribute("role", "alert");
    const initial = values[name] ?? property.default;
    let input: HTMLInputElement | HTMLSelectElement;
    if (kind === "enum") {
      const select = document.createElement("select");
      for (const option of property.enum ?? []) {
        const o = document.createElement("option");
        o.value = String(option);
        o.textContent = String(option);
        select.append(o);
      }
      if (initial !== undefined) select.value = String(initial);
      input = select;
    } else {
      const field = document.createElement("input");
      if (kind === "boolean") {
        field.type = "checkbox";
        field.checked = Boolean(initial);
      } else {
        field.type = kind === "string" || kind === "json" ? "text" : "number";
        if (kind === "integer" || kind === "number") {
          field.step = kind === "integer" ? "1" : "any";
          if (property.minimum !== undefined) field.min = String(property.minimum);
          if (property.maximum !== undefined) field.max = String(property.maximum);
        }
        if (initial !== undefined && initial !== null)
          field.value = kind === "json" ? JSON.stringify(initial) : String(initial);
      }
      input = field;
    }
    input.id = id;
    input.name = name;
    input.setAttribute("aria-describedby", `${id}-error`);
    if (property.description) {
      input.title = property.description;
      label.title = property.description;
    }
    const initialText =
      input instanceof HTMLInputElement && input.type === "checkbox" ? String(input.checked) : input.value;
    row.append(label, input, error);
    element.append(row);
    readers.push(() => {
      const raw =
        input instanceof HTMLInputElement && input.type === "checkbox" ? input.checked : input.value;
      const changed = String(raw) !== initialText;
      if (options.onlyChanged && !changed) {
        error.textContent = "";
        input.removeAttribute("aria-invalid");
        return { name, ok: true, changed };
      }
      const result = checkValue(name, raw, property);
      error.textContent = result.ok ? "" : result.error;
      if (result.ok) input.removeAttribute("aria-invalid");
      else input.setAttribute("aria-invalid", "true");
      return result.ok ? { name, ok: true, value: result.value, changed } : { name, ok: false, changed };
    });
  }
  return {
    element,
    read() {
      const out: Record<string, unknown> = {};
      let ok = true;
      for (const reader of readers) {
        const r = reader();
        if (!r.ok) ok = false;
        else if ((!options.onlyChanged || r.changed) && r.value !== undefined) out[r.name] = r.value;
      }
      return ok ? out : null;
    },
  };
}

/** The hyperparameters the trainer accepts mid-run (protocol `set-hyperparameters`). */
export const HYPERPARAMETER_SCHEMA: ObjectSchema = {
  type: "object",
  properties: {
    learningRate: {
      type: "number",
      exclusiveMinimum: 0,
      maximum: 1,
      title: "Learning rate",
      description: "Adam step size.",
    },
    l2: { type: "number", minimum: 0, title: "L2", description: "Weight decay on the parameters." },
    clipNorm: {
      type: "number",
      minimum: 0,
      title: "Clip norm",
      description: "Clip the update norm (0: off).",
    },
    evalEvery: {
      type: "integer",
      minimum: 1,
      title: "Evaluate every",
      description: "Steps between evaluations.",
    },
  },
};
