/**
 * What a raw text value becomes (docs/data.md, "Data as it comes"): a number, a 0/1 label by a
 * rule, or the category key(s) of a derived feature. Each reader returns its result or a string
 * saying why the value cannot be read; the loader turns that into a bad row naming file, line
 * and column. Missing values (absent, or one of the configured tokens) are decided by the loader
 * before these run.
 */
import type { DerivedFeature, LabelRule } from "../../protocol/dataConfig";

/** Why a value could not be read (becomes a bad row). */
export type Unreadable = { readonly reason: string };

const unreadable = (reason: string): Unreadable => ({ reason });
export const isUnreadable = (x: unknown): x is Unreadable =>
  typeof x === "object" && x !== null && "reason" in x;

export function signedLog1p(x: number): number {
  return Math.sign(x) * Math.log1p(Math.abs(x));
}

/** A finite number, or why not. */
export function parseNumber(raw: string): number | Unreadable {
  const text = raw.trim();
  const value = text === "" ? Number.NaN : Number(text);
  return Number.isFinite(value) ? value : unreadable(`not a number: "${raw}"`);
}

/** A 0/1 label column (also true/false, 1.0/0.0). */
function binaryLabel(raw: string): 0 | 1 | Unreadable {
  if (raw === "0") return 0;
  if (raw === "1") return 1;
  const text = raw.trim().toLowerCase();
  if (text === "1" || text === "1.0" || text === "true") return 1;
  if (text === "0" || text === "0.0" || text === "false") return 0;
  return unreadable(`label must be 0 or 1, got "${raw}"`);
}

const COMPARE: Record<NonNullable<LabelRule["op"]>, (x: number, v: number) => boolean> = {
  ">": (x, v) => x > v,
  ">=": (x, v) => x >= v,
  "<": (x, v) => x < v,
  "<=": (x, v) => x <= v,
  "==": (x, v) => x === v,
  "!=": (x, v) => x !== v,
};

/** The reader of one task's label: a 0/1 column, a set of positive values, or a comparison. */
export function labelReader(label: string | LabelRule): (raw: string) => 0 | 1 | Unreadable {
  if (typeof label === "string") return binaryLabel;
  if (label.op !== undefined && label.value !== undefined) {
    const holds = COMPARE[label.op];
    const value = label.value;
    return (raw) => {
      const x = parseNumber(raw);
      return isUnreadable(x) ? x : holds(x, value) ? 1 : 0;
    };
  }
  const positive = new Set(label.positive);
  const negative = label.negative && new Set(label.negative);
  return (raw) => {
    const text = raw.trim();
    if (positive.has(text)) return 1;
    if (!negative || negative.has(text)) return 0;
    return unreadable(
      `"${raw}" is neither positive (${[...positive].join(", ")}) nor negative (${[...negative].join(", ")})`,
    );
  };
}

/**
 * The category keys a feature takes from its raw value: one key for a plain or derived
 * categorical feature, up to maxItems for a multi-hot one; an empty list means "missing".
 */
export type CategoryReader = (raw: string) => readonly string[] | Unreadable;

const plain: CategoryReader = (raw) => [raw];

export function categoryReader(derived: DerivedFeature | undefined): CategoryReader {
  if (derived === undefined) return plain;
  switch (derived.kind) {
    case "divide": {
      const by = derived.by;
      return (raw) => {
        const x = parseNumber(raw);
        return isUnreadable(x) ? x : [String(Math.floor(x / by))];
      };
    }
    case "bucket": {
      const edges = derived.edges;
      return (raw) => {
        const x = parseNumber(raw);
        if (isUnreadable(x)) return x;
        let bucket = 0;
        while (bucket < edges.length && x >= edges[bucket]) bucket++;
        return [String(bucket)];
      };
    }
    case "first-item": {
      const separator = derived.separator;
      return (raw) => {
        const first = raw.split(separator, 1)[0].trim();
        return first === "" ? [] : [first];
      };
    }
    case "multi-hot": {
      const { separator, maxItems } = derived;
      return (raw) =>
        raw
          .split(separator)
          .map((item) => item.trim())
          .filter((item) => item !== "")
          .slice(0, maxItems);
    }
  }
}

/** Id slots a feature takes per row: maxItems for a multi-hot feature, else one. */
export function slotsOf(derived: DerivedFeature | undefined): number {
  return derived?.kind === "multi-hot" ? derived.maxItems : 1;
}
