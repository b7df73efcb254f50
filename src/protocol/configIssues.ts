import type { z } from "zod";
import { TrainingConfig } from "./config";
import { didYouMean } from "./didYouMean";

/**
 * A config's validation problems in the user's words, the same for `gradcraft train` and the
 * editor: each names its field by path, and an unknown field comes with the nearest known name
 * ("did you mean"), so a misspelt `"trainig"` is an error that says what was meant.
 */
export interface ConfigProblem {
  /** Dotted path, array positions as numbers ("data.joins.0.features"); "" for the whole file. */
  readonly path: string;
  readonly message: string;
  /** The zod issue code ("unrecognized_keys", "custom", ...). */
  readonly code: string;
}

export function configProblems(
  error: z.ZodError,
  input: unknown,
  schema: z.ZodType = TrainingConfig,
): ConfigProblem[] {
  return flattenUnions(error.issues).flatMap((issue): ConfigProblem[] => {
    const path = issue.path.map(String);
    if (issue.code === "unrecognized_keys") {
      const known = knownKeys(schema, issue.path, input) ?? [];
      return issue.keys.map((key) => ({
        path: [...path, key].join("."),
        code: issue.code,
        message: unknownFieldMessage(key, known),
      }));
    }
    const allowed =
      "values" in issue && Array.isArray(issue.values) && !issue.message.includes("expected one of")
        ? ` (allowed: ${issue.values.map((x) => JSON.stringify(x)).join(", ")})`
        : "";
    return [{ path: path.join("."), code: issue.code, message: `${issue.message}${allowed}` }];
  });
}

/**
 * A value that matches no member of a union (a label is a column name or a rule) is reported
 * through the one member of its kind: `labels.0.op: Invalid option`, not `labels.0: Invalid input`.
 */
function flattenUnions(issues: readonly z.core.$ZodIssue[]): z.core.$ZodIssue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== "invalid_union") return [issue];
    const ofItsKind = issue.errors.filter(
      (branch) => !branch.every((i) => i.code === "invalid_type" && i.path.length === 0),
    );
    if (ofItsKind.length !== 1) return [issue];
    return flattenUnions(ofItsKind[0].map((i) => ({ ...i, path: [...issue.path, ...i.path] })));
  });
}

/** One line per problem: `training.batchSize: ...`, as the CLI prints them. */
export function configProblemLines(error: z.ZodError, input: unknown, schema?: z.ZodType): string[] {
  return configProblems(error, input, schema).map((p) => `${p.path || "(config)"}: ${p.message}`);
}

export function unknownFieldMessage(key: string, known: readonly string[]): string {
  const suggestion = didYouMean(key, known);
  if (suggestion !== undefined) return `unknown field "${key}"; did you mean "${suggestion}"?`;
  return known.length > 0 ? `unknown field "${key}" (known: ${known.join(", ")})` : `unknown field "${key}"`;
}

interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  options?: z.ZodType[];
  discriminator?: string;
  element?: z.ZodType;
  valueType?: z.ZodType;
  values?: unknown[];
}

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/**
 * The field names the config definition allows at `path`, following the input through defaults,
 * arrays and discriminated unions (the `data` block's fields depend on its `source`).
 */
export function knownKeys(
  schema: z.ZodType,
  path: readonly PropertyKey[],
  input: unknown,
): string[] | undefined {
  let node: z.ZodType | undefined = schema;
  let value: unknown = input;
  let depth = 0;
  while (node) {
    const def = defOf(node);
    switch (def.type) {
      case "default":
      case "prefault":
      case "optional":
      case "nullable":
      case "readonly":
      case "catch":
        node = def.innerType;
        break;
      case "pipe":
        node = def.in;
        break;
      case "union":
        node = pickOption(def, value);
        break;
      case "object":
        if (depth === path.length) return Object.keys(def.shape ?? {});
        node = def.shape?.[String(path[depth])];
        value = child(value, path[depth++]);
        break;
      case "array":
        if (depth === path.length) return undefined;
        node = def.element;
        value = child(value, path[depth++]);
        break;
      case "record":
        if (depth === path.length) return undefined;
        node = def.valueType;
        value = child(value, path[depth++]);
        break;
      default:
        return undefined;
    }
  }
  return undefined;
}

/** The union member the input chose (by its discriminator), else the first object member. */
function pickOption(def: Def, value: unknown): z.ZodType | undefined {
  const options = def.options ?? [];
  const tag = def.discriminator;
  if (tag !== undefined && typeof value === "object" && value !== null) {
    const chosen = (value as Record<string, unknown>)[tag];
    const match = options.find((option) => {
      const field = defOf(option).shape?.[tag];
      return field !== undefined && (defOf(field).values ?? []).includes(chosen);
    });
    if (match) return match;
  }
  return options.find((option) => defOf(option).type === "object") ?? options[0];
}

function child(value: unknown, key: PropertyKey): unknown {
  return typeof value === "object" && value !== null
    ? (value as Record<PropertyKey, unknown>)[key as string]
    : undefined;
}
