import type { ChildProcess } from "node:child_process";

/**
 * Ends a spawned trainer without leaving an orphan, and without losing its run: first the
 * protocol's graceful `stop` (final evaluation, checkpoint, summary, done), then SIGTERM (on which
 * the trainer writes its last checkpoint, summary and done, so the run stays resumable), then,
 * only if it is still there after a further grace, SIGKILL.
 */
export type StopOutcome = "already-exited" | "graceful" | "sigterm" | "sigkill";

/** How long a trainer has after SIGTERM (finish the step, write the checkpoint) before SIGKILL. */
export const TERM_GRACE_MS = 15_000;

/** The Stop command's timeouts: `gradcraft.stopTimeoutSeconds` for the stop command, then TERM_GRACE_MS. */
export function stopTimeouts(stopTimeoutMs: number): StopTimeouts {
  return { graceMs: stopTimeoutMs, termMs: TERM_GRACE_MS };
}

/** What happened, in words for the Output channel. */
export function describeStop(
  outcome: StopOutcome,
  timeouts: StopTimeouts,
  exit: { code: number | null; signal: string | null } | undefined,
  doneReason: string | undefined,
): string {
  const ended = exit
    ? exit.signal
      ? `killed by ${exit.signal}`
      : `exit code ${exit.code}`
    : "exit not seen";
  const done = doneReason ? `done (${doneReason})` : "no done message";
  const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;
  switch (outcome) {
    case "already-exited":
      return `the trainer had already exited (${ended})`;
    case "graceful":
      return `stopped by the stop command: ${done}, ${ended}`;
    case "sigterm":
      return `the trainer did not finish within ${seconds(timeouts.graceMs)} of the stop command: sent SIGTERM; it ended with ${done}, ${ended}`;
    case "sigkill":
      return `the trainer did not finish within ${seconds(timeouts.graceMs)} of the stop command nor ${seconds(timeouts.termMs)} after SIGTERM: killed with SIGKILL (${done}); steps after its last checkpoint are lost`;
  }
}

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
