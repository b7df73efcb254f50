import { liveHyperparameters, type TrainingConfig } from "../../protocol/config";

/**
 * What a saved config means for a run that is already training. The trainer can change its
 * strategy and a few optimiser settings between two steps; everything else (model shape, data,
 * batch size...) is fixed when the run starts, and the user must be told so rather than have the
 * edit silently ignored.
 */
export type LiveHyperparameters = { [name in keyof typeof liveHyperparameters]?: number };

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
export const LIVE_HYPERPARAMETERS = Object.keys(liveHyperparameters) as Array<keyof LiveHyperparameters>;

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

/** The trainer commands (without v and id) that apply a diff to a live run, in order. */
export type LiveCommand =
  | { type: "set-strategy"; name: string; params: Record<string, unknown>; carryState: boolean }
  | ({ type: "set-hyperparameters" } & LiveHyperparameters);

export function commandsFor(diff: ConfigDiff): LiveCommand[] {
  const commands: LiveCommand[] = [];
  if (diff.strategy) commands.push({ type: "set-strategy", ...diff.strategy });
  if (diff.hyperparameters) commands.push({ type: "set-hyperparameters", ...diff.hyperparameters });
  return commands;
}

/**
 * What the user is told after an apply: what took effect (and at which step), what the trainer
 * refused, and exactly which edits need a new run.
 */
export function applyReport(
  diff: ConfigDiff,
  outcomes: ReadonlyArray<{ command: LiveCommand; ok: boolean; step?: number; error?: string }>,
): { level: "info" | "warning" | "error"; text: string } {
  const parts: string[] = [];
  let level: "info" | "warning" | "error" = "info";
  for (const outcome of outcomes) {
    const what =
      outcome.command.type === "set-strategy"
        ? `strategy ${outcome.command.name}${Object.keys(outcome.command.params).length ? ` ${JSON.stringify(outcome.command.params)}` : ""}`
        : Object.entries(outcome.command)
            .filter(([key]) => key !== "type")
            .map(([key, value]) => `${key}=${value}`)
            .join(", ");
    if (outcome.ok) parts.push(`applied ${what} at step ${outcome.step ?? "?"}`);
    else {
      level = "error";
      parts.push(`refused ${what}: ${outcome.error ?? "no reason given"}`);
    }
  }
  if (diff.needsRestart.length > 0) {
    if (level === "info") level = "warning";
    parts.push(`needs a restart to take effect: ${describeChanges(diff.needsRestart)}`);
  }
  if (parts.length === 0) parts.push("nothing to apply: the running run already uses this config");
  return { level, text: parts.join(". ") };
}
