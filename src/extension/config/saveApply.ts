/**
 * When a saved config is applied to its live run. An explicit save (Ctrl+S, the API) applies
 * at once. An auto-save (after a delay, on focus change) happens while the user is still typing:
 * it applies only a document that is valid and then left alone for a moment, so that a learning
 * rate typed slowly ("0.", "0.0", "0.004") is applied once, as its final value. An intermediate
 * invalid state is never reported: the editor's squiggle already says what is wrong.
 * Free of vscode (timers injected), so it is unit-tested.
 */
export type SaveKind = "explicit" | "auto";

export type SaveDecision =
  /** Apply now. */
  | "apply"
  /** Apply if nothing changes for {@link AUTO_SAVE_IDLE_MS}. */
  | "apply-when-idle"
  /** Not applied; a quiet note (status bar), no notification: the squiggle is the message. */
  | "note-invalid"
  /** Nothing: an intermediate state. */
  | "ignore";

/** How long an auto-saved config must stay untouched before it is applied. */
export const AUTO_SAVE_IDLE_MS = 1500;

export function saveDecision(kind: SaveKind, valid: boolean): SaveDecision {
  if (kind === "explicit") return valid ? "apply" : "note-invalid";
  return valid ? "apply-when-idle" : "ignore";
}

export interface SaveApplyActions {
  /** Applies the saved text to the document's run. `auto`: the save was an auto-save. */
  apply(key: string, text: string, auto: boolean): void;
  /** An explicit save of an invalid config: say so quietly. */
  noteInvalid(key: string, reason: string): void;
}

export interface Timers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Per document (`key`): the pending idle apply, cancelled by any further edit or save. */
export class SaveApplier {
  private readonly pending = new Map<string, unknown>();

  constructor(
    private readonly actions: SaveApplyActions,
    private readonly timers: Timers = {
      setTimeout: (callback, ms) => setTimeout(callback, ms),
      clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
    },
    private readonly idleMs = AUTO_SAVE_IDLE_MS,
  ) {}

  /** A save of `key`'s document; `invalid` is why its text cannot be applied, if it cannot. */
  saved(key: string, kind: SaveKind, text: string, invalid?: string): SaveDecision {
    this.cancel(key);
    const decision = saveDecision(kind, invalid === undefined);
    switch (decision) {
      case "apply":
        this.actions.apply(key, text, false);
        break;
      case "note-invalid":
        this.actions.noteInvalid(key, invalid ?? "invalid");
        break;
      case "apply-when-idle":
        this.pending.set(
          key,
          this.timers.setTimeout(() => {
            this.pending.delete(key);
            this.actions.apply(key, text, true);
          }, this.idleMs),
        );
        break;
    }
    return decision;
  }

  /** The document changed again: the user is still typing, what was saved is not final. */
  changed(key: string): void {
    this.cancel(key);
  }

  private cancel(key: string): void {
    const handle = this.pending.get(key);
    if (handle === undefined) return;
    this.timers.clearTimeout(handle);
    this.pending.delete(key);
  }

  dispose(): void {
    for (const key of [...this.pending.keys()]) this.cancel(key);
  }
}
