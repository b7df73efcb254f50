import type { ChildProcess } from "node:child_process";

/**
 * Ends a spawned trainer without leaving an orphan: first the protocol's graceful `stop` (the
 * trainer checkpoints and writes its summary), then SIGTERM, then SIGKILL, each after a timeout.
 */
export type StopOutcome = "already-exited" | "graceful" | "sigterm" | "sigkill";

export interface StopTimeouts {
  /** How long the trainer has to finish after the stop command. */
  readonly graceMs: number;
  /** How long after SIGTERM before SIGKILL. */
  readonly termMs: number;
}

type Killable = Pick<ChildProcess, "exitCode" | "signalCode" | "kill" | "once" | "removeListener">;

export async function stopProcess(
  child: Killable,
  sendStop: (() => unknown) | undefined,
  timeouts: StopTimeouts,
): Promise<StopOutcome> {
  if (hasExited(child)) return "already-exited";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  if (sendStop) {
    try {
      // The ack may never come (a stuck trainer): only the exit is awaited, below.
      Promise.resolve(sendStop()).catch(() => undefined);
    } catch {
      // A closed stdin means the trainer is going anyway.
    }
    if (await within(exited, timeouts.graceMs)) return "graceful";
  }
  child.kill("SIGTERM");
  if (await within(exited, timeouts.termMs)) return "sigterm";
  child.kill("SIGKILL");
  await within(exited, 5_000);
  return "sigkill";
}

function hasExited(child: Killable): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function within(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
