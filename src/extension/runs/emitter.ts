/** A minimal event emitter with vscode's shape (listener in, disposable out), usable without vscode. */
export class Emitter<T> {
  private listeners = new Set<(value: T) => void>();

  readonly event = (listener: (value: T) => void): { dispose(): void } => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
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
