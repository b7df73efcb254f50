import type { TrainingConfig } from "../../protocol/config";

/**
 * What a saved config means for a run that is already training. The trainer can change its
 * strategy and a few optimiser settings between two steps; everything else (model shape, data,
 * batch size...) is fixed when the run starts, and the user must be told so rather than have the
 * edit silently ignored.
 */
export interface LiveHyperparameters {
  learningRate?: number;
  l2?: number;
  clipNorm?: number;
  evalEvery?: number;
}

export interface FieldChange {
  /** Dotted path in the config file, e.g. "model.experts" or "training.batchSize". */
  readonly path: string;
  readonly from: unknown;
  readonly to: unknown;
}

export interface ConfigDiff {
  /**
   * Set when the strategy's name or any of its parameters changed: send set-strategy. A change of
   * parameters only keeps the strategy's state (carryState); a new strategy starts fresh.
   */
  readonly strategy?: { name: string; params: Record<string, unknown>; carryState: boolean };
  /** The changed hyperparameters that apply mid-run: send set-hyperparameters. */
  readonly hyperparameters?: LiveHyperparameters;
  /** Changes the running run cannot take: they need a new run. */
  readonly needsRestart: FieldChange[];
  /** Changes with no effect on a running run (its name, the schema reference). */
  readonly ignored: FieldChange[];
}

/** The training settings the trainer accepts in set-hyperparameters. */
export const LIVE_HYPERPARAMETERS = ["learningRate", "l2", "clipNorm", "evalEvery"] as const;

const COSMETIC = new Set(["name", "$schema"]);

/** Compares two parsed configs (defaults applied) of the same file, before and after an edit. */
export function diffConfigs(before: TrainingConfig, after: TrainingConfig): ConfigDiff {
  const changes = leafChanges(before, after, "");
  const needsRestart: FieldChange[] = [];
  const ignored: FieldChange[] = [];
  const hyperparameters: LiveHyperparameters = {};
  let strategyChanged = false;
  for (const change of changes) {
    const [head, second] = change.path.split(".");
    if (head === "strategy") {
      strategyChanged = true;
    } else if (head === "training" && (LIVE_HYPERPARAMETERS as readonly string[]).includes(second)) {
      hyperparameters[second as keyof LiveHyperparameters] = change.to as number;
    } else if (COSMETIC.has(head)) {
      ignored.push(change);
    } else {
      needsRestart.push(change);
    }
  }
  return {
    strategy: strategyChanged
      ? {
          name: after.strategy.name,
          params: { ...after.strategy.params },
          carryState: after.strategy.name === before.strategy.name,
        }
      : undefined,
    hyperparameters: Object.keys(hyperparameters).length > 0 ? hyperparameters : undefined,
    needsRestart,
    ignored,
  };
}

/** True when applying the diff to a live run would send nothing. */
export function isLiveNoop(diff: ConfigDiff): boolean {
  return diff.strategy === undefined && diff.hyperparameters === undefined;
}

/** One line per change for a notification: "model.experts: [256,128] → [128,64]". */
export function describeChanges(changes: readonly FieldChange[]): string {
  return changes.map((c) => `${c.path}: ${show(c.from)} → ${show(c.to)}`).join("; ");
}

function show(value: unknown): string {
  if (value === undefined) return "(unset)";
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** Leaf-level differences; arrays count as one value (a changed list of sizes is one change). */
function leafChanges(a: unknown, b: unknown, path: string): FieldChange[] {
  // A data source switch (synthetic <-> file) is one change of the whole data block.
  const sameSource = !isPlainObject(a) || !isPlainObject(b) || a.source === b.source;
  if (isPlainObject(a) && isPlainObject(b) && sameSource) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((key) => leafChanges(a[key], b[key], path ? `${path}.${key}` : key));
  }
  return deepEqual(a, b) ? [] : [{ path, from: a, to: b }];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((key) => deepEqual(a[key], b[key]));
  }
  return false;
}
