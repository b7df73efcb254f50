import { isAbsolute, join, resolve } from "node:path";

/**
 * Where run folders live: the setting (relative paths from the first workspace folder), else
 * `.gradcraft/runs` in the first workspace folder (the CLI's default too), else the extension's
 * global storage when no folder is open.
 */
export function resolveRunsFolder(
  setting: string,
  workspaceFolder: string | undefined,
  storage: string,
): string {
  const trimmed = setting.trim();
  if (trimmed) return isAbsolute(trimmed) ? trimmed : resolve(workspaceFolder ?? storage, trimmed);
  return workspaceFolder ? join(workspaceFolder, ".gradcraft", "runs") : join(storage, "runs");
}
