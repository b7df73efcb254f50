import type { DoneMessage, ErrorMessage, RunSummary } from "../../protocol/messages";
import type { RunNarrative } from "./runNarrative";

/**
 * The notifications a run earns: how it ended (completed, stopped early and why, failed, or
 * stopped by someone else), and steps skipped again and again for non-finite values. Free of
 * vscode: the run manager shows them, with Open Dashboard and Show Log.
 */
export interface RunNotice {
  readonly level: "info" | "warning" | "error";
  readonly message: string;
}

/** Non-finite steps skipped before the user is told (once per run); fewer are a log line. */
export const NON_FINITE_NOTICE_AFTER = 3;

export interface EndedRun {
  readonly label: string;
  readonly done?: DoneMessage;
  /** Why it failed, when it did (a refusal, a fatal error, the exit). */
  readonly failure?: string;
  /** This window asked it to stop (no notice needed for what the user just did). */
  readonly stopRequested: boolean;
}

export function runEndNotice(run: EndedRun, narrative: RunNarrative): RunNotice | null {
  const name = `GradCraft: "${run.label}"`;
  if (run.failure !== undefined) return { level: "error", message: `${name} failed: ${run.failure}` };
  const done = run.done;
  if (!done) return null;
  const { summary } = done;
  switch (done.reason) {
    case "completed":
      return { level: "info", message: `${name} completed ${summary.steps} steps. ${scores(summary)}` };
    case "early-stopped":
      return {
        level: "info",
        message: `${name} stopped early at step ${summary.steps}: ${narrative.earlyStopReason(summary.steps, summary.bestStep)}. ${scores(summary)}`,
      };
    case "stopped":
      return run.stopRequested
        ? null
        : {
            level: "info",
            message: `${name} was stopped at step ${summary.steps} (not from this window). ${scores(summary)}`,
          };
    case "failed":
      return { level: "error", message: `${name} failed at step ${summary.steps}.` };
    default:
      return null;
  }
}

/** Counts skipped non-finite steps; says so once, when they keep coming. */
export class NonFiniteSteps {
  private count = 0;

  /** A notice the first time the count reaches NON_FINITE_NOTICE_AFTER. */
  skipped(error: ErrorMessage, label: string): RunNotice | null {
    if (error.fatal) return null;
    this.count++;
    if (this.count !== NON_FINITE_NOTICE_AFTER) return null;
    return {
      level: "warning",
      message: `GradCraft: "${label}" skipped ${this.count} training steps for non-finite values (the latest: ${error.message}). Lower the learning rate or turn on clipping if it goes on.`,
    };
  }
}

/** The weights a run keeps and how they score, in one sentence. */
function scores(summary: RunSummary): string {
  const validation = summary.splits.validation?.mean.auc;
  const test = summary.splits.test?.mean.auc;
  const at = summary.bestStep !== undefined ? ` (the weights of step ${summary.bestStep}, kept)` : "";
  const parts = [
    validation !== undefined && validation !== null ? `validation mean AUC ${validation.toFixed(4)}` : null,
    test !== undefined && test !== null ? `test mean AUC ${test.toFixed(4)}` : null,
  ].filter((p) => p !== null);
  return parts.length > 0 ? `${capitalize(parts.join(", "))}${at}.` : "";
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
