import { lstatSync, realpathSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";

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

/**
 * The real path of a run folder that may be deleted, or why not. Deleting is recursive, so the
 * folder must lie strictly inside the runs folder once every symbolic link is resolved; a run
 * folder that is itself a link is refused too (deleting would follow it to its target).
 */
export function deletableRunFolder(
  runsRoot: string,
  dir: string,
): { ok: true; path: string } | { ok: false; reason: string } {
  let realRoot: string;
  let realDir: string;
  try {
    realRoot = realpathSync(runsRoot);
  } catch {
    return { ok: false, reason: `the runs folder ${runsRoot} does not exist` };
  }
  try {
    if (lstatSync(dir).isSymbolicLink()) return { ok: false, reason: `${dir} is a symbolic link` };
    realDir = realpathSync(dir);
  } catch {
    return { ok: false, reason: `${dir} does not exist` };
  }
  const inside = relative(realRoot, realDir);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside))
    return { ok: false, reason: `${realDir} is not inside the runs folder ${realRoot}` };
  if (!lstatSync(realDir).isDirectory()) return { ok: false, reason: `${realDir} is not a folder` };
  return { ok: true, path: realDir };
}
