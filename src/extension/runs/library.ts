import { replayRunFolder } from "../../panel/reportRuns";
import type { RunModel } from "../../panel/runModel";
import { type RunIdentity, readRunIdentity } from "../../protocol/runIdentity";
import type { PanelRun } from "../panel/session";

/**
 * A finished run's panel model, rebuilt by replaying its event log through the same code path as
 * a live run's messages.
 */
export class ReplayedRun implements PanelRun {
  readonly canCommand = false;
  constructor(
    readonly id: string,
    public identity: RunIdentity,
    readonly model: RunModel,
    readonly runDir: string,
    readonly problems: string[],
    private readonly startStrategy: string | undefined,
  ) {}

  /** What every view calls the run (runIdentity.ts). */
  get label(): string {
    return this.identity.name;
  }

  /** Re-reads `run.json` after a rename. */
  async reloadIdentity(): Promise<void> {
    this.identity = await readRunIdentity(this.runDir, this.startStrategy);
    this.model.label = this.identity.name;
  }
}

/** The event log is read once (src/panel/reportRuns.ts: the same replay the CLI's report reads). */
export async function loadReplayedRun(runDir: string, maxPoints: number): Promise<ReplayedRun> {
  const { model, identity, startStrategy, problems } = await replayRunFolder(runDir, maxPoints);
  return new ReplayedRun(runDir, identity, model, runDir, problems, startStrategy);
}
