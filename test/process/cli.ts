import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** The shipped command line, run as its own process (test/process/run.mjs builds it first). */
export const repo = join(import.meta.dirname, "..", "..");
export const CLI = join(repo, "dist", "cli.js");

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(join(tmpdir(), `gradcraft-${prefix}-`));
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
}

/** Resolves with the exit status and everything the process wrote. */
export function finished(child: ChildProcess): Promise<Finished> {
  const out: Buffer[] = [];
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("close", (code, signal) => resolve({ code, signal, stdout: Buffer.concat(out), stderr }));
  });
}

/** `gradcraft ARGS` with piped stdio, in its own process group (so a test can signal it alone). */
export function gradcraft(args: string[], options: { cwd?: string; stdin?: "pipe" | "ignore" } = {}) {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: options.cwd ?? repo,
    stdio: [options.stdin ?? "ignore", "pipe", "pipe"],
    detached: true,
  });
}

/** What `gradcraft ARGS` writes when its stdout is a file (written synchronously: never cut). */
export async function stdoutToFile(args: string[], cwd = repo): Promise<Buffer> {
  const path = join(tempDir("stdout"), "out");
  const fd = fs.openSync(path, "w");
  try {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ["ignore", fd, "pipe"] });
    const { code, stderr } = await finished(child);
    if (code !== 0) throw new Error(`gradcraft ${args.join(" ")} exited ${code}: ${stderr}`);
  } finally {
    fs.closeSync(fd);
  }
  return fs.readFileSync(path);
}

/**
 * `gradcraft ARGS` into a reader that takes nothing for `idleMs` (long after a quick command has
 * written everything it had), then reads it all: what a slow consumer (`| less`, a busy host)
 * sees.
 */
export async function stdoutThroughSlowPipe(args: string[], idleMs: number, cwd = repo): Promise<Finished> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  // Listening from the start: on exit, Node resumes a paused stdout and would drop unheard data.
  const result = finished(child);
  child.stdout.pause();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, idleMs))]);
  child.stdout.resume();
  return result;
}
