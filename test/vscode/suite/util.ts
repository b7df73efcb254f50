// Helpers for the integration suites: the extension under test, waiting on conditions, and the
// processes the extension host has started (read from /proc: the trainer is a child process).
import { readdirSync, readFileSync } from "node:fs";
import * as vscode from "vscode";

export const EXTENSION_ID = "gradcraft.gradcraft-studio";

/** Suites so tagged run only in the second window: workspace trust on, a folder without configs. */
export const UNTRUSTED_WINDOW = "@untrusted-window";

export function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded in this window`);
  return ext;
}

/** Polls `probe` until it returns a truthy value; the error names `what` and the last failure. */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  { timeoutMs = 30_000, intervalMs = 100 } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export type ProcessInfo = { pid: number; ppid: number; cmdline: string };

function readProcesses(): ProcessInfo[] {
  const found: ProcessInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may hold spaces: the ppid is the 2nd field after it.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").join(" ").trim();
      found.push({ pid: Number(entry), ppid, cmdline });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Every live descendant of this extension host. */
export function descendants(root = process.pid): ProcessInfo[] {
  const all = readProcesses();
  const result: ProcessInfo[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const parent = frontier.pop();
    for (const p of all) {
      if (p.ppid === parent) {
        result.push(p);
        frontier.push(p.pid);
      }
    }
  }
  return result;
}

/** Trainer processes: anything running the project's CLI bundle, inside this host or escaped. */
export function trainerProcesses(): ProcessInfo[] {
  const harness = process.env.GRADCRAFT_HARNESS_ID;
  const isTrainer = (p: ProcessInfo) => /\bcli\.js\b/.test(p.cmdline) && /\btrain\b/.test(p.cmdline);
  const mine = descendants().filter(isTrainer);
  if (!harness) return mine;
  // A trainer that left our process tree still carries the harness's id in its environment.
  const escaped = readProcesses().filter((p) => {
    if (!isTrainer(p) || mine.some((m) => m.pid === p.pid)) return false;
    try {
      return readFileSync(`/proc/${p.pid}/environ`, "latin1")
        .split("\0")
        .includes(`GRADCRAFT_HARNESS_ID=${harness}`);
    } catch {
      return false;
    }
  });
  return [...mine, ...escaped];
}

export function workspaceFolder(): vscode.WorkspaceFolder {
  const folder = vscode.workspace.workspaceFolders?.[0];
  if (!folder) throw new Error("the test window has no workspace folder open");
  return folder;
}
