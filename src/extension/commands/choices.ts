import type { StrategyInfo } from "../../protocol/messages";
import type { ParamSchema } from "./paramInput";

/**
 * What the pickers offer, as pure functions (tested without VS Code): which config Start
 * Training runs, the strategies in the order shown and the one the list starts on, and the
 * choices for a parameter that names a task.
 */

/**
 * Start Training from the palette: with the workspace's only config open in the editor there is
 * nothing to ask; otherwise the configs to offer, each once (the file search can return an open
 * file twice, once from disk and once from the editor), the open one first.
 */
export function configChoice(
  found: readonly string[],
  active: string | undefined,
): { start: string } | { ask: string[] } {
  const unique = [...new Set(found)].sort((a, b) =>
    a === active ? -1 : b === active ? 1 : a.localeCompare(b),
  );
  if (unique.length === 1 && unique[0] === active) return { start: active };
  return { ask: unique };
}

/** The strategies in the trainer's order, and the index of the running one (the list starts there). */
export function strategyChoices(
  strategies: readonly StrategyInfo[],
  running: string,
): { items: { label: string; description: string; detail: string; info: StrategyInfo }[]; active: number } {
  const items = strategies.map((info) => ({
    label: info.title,
    description: info.name === running ? `${info.name} (running)` : info.name,
    detail: info.summary,
    info,
  }));
  return {
    items,
    active: Math.max(
      0,
      strategies.findIndex((s) => s.name === running),
    ),
  };
}

/** A parameter whose value is a task's index (`unit: "task index"` in its schema). */
export function isTaskParam(schema: ParamSchema): boolean {
  return schema.unit === "task index";
}

/** The run's tasks by name, for a task-index parameter; the current one marked. */
export function taskChoices(
  tasks: readonly string[],
  current: unknown,
): { label: string; description: string; index: number; picked: boolean }[] {
  return tasks.map((name, index) => ({
    label: name,
    description: index === current ? `task ${index} (current)` : `task ${index}`,
    index,
    picked: index === current,
  }));
}
