import { promises as fsp } from "node:fs";
import { basename } from "node:path";
import { RunModel } from "../../panel/runModel";
import type { StreamProblem } from "../../protocol/codec";
import { type RunIdentity, readRunIdentity } from "../../protocol/runIdentity";
import { RUN_FILES, replay, runPaths } from "../../protocol/runlog";
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

/**
 * The event log is read once; the run is named by its identity (run.json, else the automatic
 * name from the strategy it started with: config.json's, else the log's first `config`).
 */
export async function loadReplayedRun(runDir: string, maxPoints: number): Promise<ReplayedRun> {
  const model = new RunModel(runDir, basename(runDir), { maxPoints });
  const problems: string[] = [];
  let firstStrategy: string | undefined;
  const onProblem = (p: StreamProblem) => problems.push(`${p.reason} (${RUN_FILES.events} line ${p.line})`);
  for await (const message of replay(runDir, { onProblem })) {
    if (message.type === "config") firstStrategy ??= message.config.strategy.name;
    model.ingest(message);
  }
  const startStrategy = (await configStrategy(runDir)) ?? firstStrategy;
  const identity = await readRunIdentity(runDir, startStrategy, problems);
  model.label = identity.name;
  // A log without `done` is a run that was killed or is still being written by another process.
  if (model.state === "running" || model.state === "starting") model.state = "stopped";
  return new ReplayedRun(runDir, identity, model, runDir, problems, startStrategy);
}

async function configStrategy(runDir: string): Promise<string | undefined> {
  try {
    const config = JSON.parse(await fsp.readFile(runPaths(runDir).config, "utf8")) as {
      strategy?: { name?: unknown };
    };
    return typeof config.strategy?.name === "string" ? config.strategy.name : undefined;
  } catch {
    return undefined;
  }
}
