/**
 * Typed events in VS Code's shape: an `Event<T>` is a function that takes a listener and returns
 * a `Disposable`. Each event is its own emitter, so a listener's argument is always typed (no
 * string event names, no hand-written annotations). Used by the link's endpoints and by the
 * extension's run model, which must run without the `vscode` module in unit tests.
 */

export interface Disposable {
  dispose(): void;
}

export type Event<T> = (listener: (value: T) => void) => Disposable;

export interface EmitterOptions {
  /** Called once a listener is added to an emitter that had none. */
  onFirstListener?: () => void;
}

export class Emitter<T> {
  private readonly listeners = new Set<(value: T) => void>();

  constructor(private readonly options: EmitterOptions = {}) {}

  readonly event: Event<T> = (listener) => {
    // A Set would merge two subscriptions of the same function: wrap it so each one counts.
    const entry = (value: T) => listener(value);
    this.listeners.add(entry);
    if (this.listeners.size === 1) this.options.onFirstListener?.();
    return { dispose: () => this.listeners.delete(entry) };
  };

  fire(value: T): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(value);
      } catch (error) {
        // One broken observer (a disposed webview, say) must not starve the others.
        console.error("gradcraft: listener failed", error);
      }
    }
  }

  dispose(): void {
    this.listeners.clear();
  }
}
