import type { TrainingConfig } from "../../protocol/config";
import type { LiveRun } from "../runs/liveRun";
import { applyReport, type ConfigDiff, commandsFor, diffConfigs, LIVE_HYPERPARAMETERS } from "./diff";
import { parseConfigText } from "./parse";

export interface ApplyResult {
  readonly diff?: ConfigDiff;
  readonly level: "info" | "warning" | "error";
  readonly text: string;
}

/**
 * Applies a config file's edits to its live run: what can change mid-run goes to the trainer
 * (set-strategy, set-hyperparameters; each acknowledged with the step it took effect), and the
 * user is told exactly which edits need a restart. The run's config snapshot then records what
 * the run really uses, so the next save reports the still-pending restarts again.
 */
export async function applyConfigToRun(run: LiveRun, text: string, timeoutMs: number): Promise<ApplyResult> {
  const parsed = parseConfigText(text);
  if (!parsed.ok) return { level: "error", text: `not applied: ${parsed.reason}` };
  // The file the run started from, as it was then; for a run started elsewhere (another file, a
  // preset, an attach), what the trainer said it runs.
  const before = run.configSnapshot ?? run.resolvedConfig;
  if (!before) return { level: "error", text: "not applied: the trainer has not sent its config yet" };
  const after = parsed.config;
  const diff = diffConfigs(before, after);
  const outcomes = [];
  const next: TrainingConfig = structuredClone(before);
  next.name = after.name;
  for (const command of commandsFor(diff)) {
    try {
      const ack = await run.send(command, timeoutMs);
      outcomes.push({ command, ok: ack.ok, step: ack.step, error: ack.error });
      if (!ack.ok) continue;
      if (command.type === "set-strategy") next.strategy = structuredClone(after.strategy);
      else
        for (const key of LIVE_HYPERPARAMETERS)
          if (command[key] !== undefined) next.training[key] = after.training[key];
    } catch (error) {
      outcomes.push({ command, ok: false, error: (error as Error).message });
    }
  }
  run.configSnapshot = next;
  return { diff, ...applyReport(diff, outcomes) };
}
