/**
 * The run commands the panel sends and what became of them: each command waits ("waiting for the
 * trainer…") until its acknowledgement names the step it took effect at, or the trainer's reason
 * for refusing it. No module-level state and no DOM: the record lives in the view state (so a
 * reloaded panel still knows what it was waiting for), the services come in through
 * `CommandDeps`, and the rules are unit-tested (test/unit/webview/commands.test.ts).
 */
import type { CommandMessage } from "../src/panel/messages";
import type { RunState } from "../src/panel/snapshot";

export type ControlKey =
  | "pause"
  | "resume"
  | "stop"
  | "checkpoint"
  | "evaluate"
  | "set-strategy"
  | "set-hyperparameters"
  /** The insights card's suggested switch: a set-strategy of its own, so each button shows its own answer. */
  | "apply-suggestion";

export interface PendingCommand {
  control: ControlKey;
  sentAt: number;
}

export interface CommandResult {
  text: string;
  level: "ok" | "error" | "pending";
}

/** What the panel remembers of its commands (part of the view state kept across reloads). */
export interface CommandRecord {
  /** By the command's id. */
  pending: Record<string, PendingCommand>;
  results: Partial<Record<ControlKey, CommandResult>>;
}

export interface CommandDeps {
  readonly record: CommandRecord;
  /** The run the commands go to (the panel's one run). */
  runId(): string | undefined;
  post(message: CommandMessage): void;
  /** Saves the record (with the rest of the view state). */
  persist(): void;
  now(): number;
  /** What a control shows changed. */
  changed(): void;
}

/** Whether a run takes commands (a finished one does not). */
export function isLive(run: { readonly state: RunState }): boolean {
  return run.state === "running" || run.state === "paused" || run.state === "starting";
}

/** How long a command may wait for its answer before the panel stops waiting. */
export const ANSWER_TIMEOUT_MS = 60_000;

const DONE_TEXT: Record<ControlKey, string> = {
  pause: "paused",
  resume: "resumed",
  stop: "stopping",
  checkpoint: "checkpoint requested",
  evaluate: "evaluation started",
  "set-strategy": "switched",
  "set-hyperparameters": "applied",
  "apply-suggestion": "switched",
};

export class Commands {
  private sequence = 0;

  constructor(private readonly deps: CommandDeps) {}

  isPending(control: ControlKey): boolean {
    return Object.values(this.deps.record.pending).some((p) => p.control === control);
  }

  result(control: ControlKey): CommandResult | undefined {
    return this.deps.record.results[control];
  }

  /** Sends a command for `control`, unless one is still waiting for its answer. */
  send(control: ControlKey, command: CommandMessage["command"]): void {
    if (this.isPending(control)) return;
    const now = this.deps.now();
    const id = `wv-${now.toString(36)}-${++this.sequence}`;
    this.deps.record.pending[id] = { control, sentAt: now };
    this.deps.record.results[control] = { text: "waiting for the trainer…", level: "pending" };
    this.deps.persist();
    this.deps.post({ type: "command", id, runId: this.deps.runId(), command });
    this.deps.changed();
  }

  /** Shows a result that needs no trainer (a form that is not valid, nothing to apply). */
  refuse(control: ControlKey, text: string): void {
    this.setResult(control, text, "error");
  }

  /** The answer to a command this panel sent (others' are not ours to show). */
  resolve(ack: { id: string; ok: boolean; step?: number; error?: string }): void {
    const pending = this.deps.record.pending[ack.id];
    if (!pending) return;
    delete this.deps.record.pending[ack.id];
    const at = ack.step !== undefined ? ` at step ${ack.step}` : "";
    if (ack.ok) this.setResult(pending.control, `${DONE_TEXT[pending.control]}${at}`, "ok");
    else this.setResult(pending.control, ack.error ?? "refused", "error");
  }

  /**
   * A command sent before a reload whose ack came while the panel was gone stays pending forever:
   * after a minute without an answer, say so instead of spinning.
   */
  expireStale(): void {
    const { record } = this.deps;
    const now = this.deps.now();
    for (const [id, pending] of Object.entries(record.pending)) {
      if (now - pending.sentAt < ANSWER_TIMEOUT_MS) continue;
      delete record.pending[id];
      record.results[pending.control] = {
        text: "no answer seen (the panel was closed meanwhile?)",
        level: "error",
      };
    }
    this.deps.persist();
  }

  /** A finished run takes no commands: what the controls said while it was live is history. */
  forget(): void {
    this.deps.record.pending = {};
    this.deps.record.results = {};
  }

  private setResult(control: ControlKey, text: string, level: "ok" | "error"): void {
    this.deps.record.results[control] = { text, level };
    this.deps.persist();
    this.deps.changed();
  }
}
