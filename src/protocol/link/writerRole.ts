/**
 * Who may steer the run (docs/protocol.md, "One writer at a time"): the process that spawned the
 * trainer while its stdin is an open command pipe; otherwise the first attached client that asks,
 * until it disconnects. Everyone else reads.
 */

export type CommandSource = "stdin" | `client-${number}`;

export class WriterRole {
  private stdinHolds = false;
  private client: number | null = null;

  stdinOpened(): void {
    this.stdinHolds = true;
  }

  stdinClosed(): void {
    this.stdinHolds = false;
  }

  /** A client asks to write: null when the role is granted, else why it is not. */
  claim(clientId: number): string | null {
    if (this.stdinHolds) return "the process that started the trainer holds the writer role (its stdin)";
    if (this.client !== null) return "another client holds the writer role";
    this.client = clientId;
    return null;
  }

  /** Whether an attached client holds the role (and so could still send a command). */
  get clientHolds(): boolean {
    return this.client !== null;
  }

  release(clientId: number): void {
    if (this.client === clientId) this.client = null;
  }

  /** Whether commands from this source reach the training loop. */
  mayCommand(source: CommandSource): boolean {
    return source === "stdin" || (this.client !== null && source === `client-${this.client}`);
  }
}
