import { basename } from "node:path";
import { readRunInfo, replay } from "../../protocol/runlog";
import { RunModel } from "../panel/model";
import type { PanelRun } from "../panel/session";

/**
 * A finished run's panel model, rebuilt by replaying its event log through the same code path as
 * a live run's messages.
 */
export class ReplayedRun implements PanelRun {
  readonly canCommand = false;
  constructor(
    readonly id: string,
    readonly label: string,
    readonly model: RunModel,
    readonly runDir: string,
    readonly problems: string[],
  ) {}
}

export async function loadReplayedRun(runDir: string, maxPoints: number): Promise<ReplayedRun> {
  const info = await readRunInfo(runDir);
  const label = info?.name ?? basename(runDir);
  const model = new RunModel(runDir, label, { maxPoints });
  const problems: string[] = [];
  for await (const message of replay(runDir, { onProblem: (p) => problems.push(p.reason) }))
    model.ingest(message);
  // A log without `done` is a run that was killed or is still being written by another process.
  if (model.state === "running" || model.state === "starting") model.state = "stopped";
  return new ReplayedRun(runDir, label, model, runDir, problems);
}
