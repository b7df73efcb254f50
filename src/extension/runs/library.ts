import { promises as fsp } from "node:fs";
import { basename } from "node:path";
import { RunModel } from "../../panel/runModel";
import type { StreamProblem } from "../../protocol/codec";
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
    readonly label: string,
    readonly model: RunModel,
    readonly runDir: string,
    readonly problems: string[],
  ) {}
}

/**
 * The event log is read once: its `config` message names the run (as in the Runs view); a log
 * without one falls back to config.json, then to the folder's name.
 */
export async function loadReplayedRun(runDir: string, maxPoints: number): Promise<ReplayedRun> {
  const model = new RunModel(runDir, basename(runDir), { maxPoints });
  const problems: string[] = [];
  let configName: string | undefined;
  const onProblem = (p: StreamProblem) => problems.push(`${p.reason} (${RUN_FILES.events} line ${p.line})`);
  for await (const message of replay(runDir, { onProblem })) {
    if (message.type === "config") configName = message.config.name;
    model.ingest(message);
  }
  model.label = configName ?? (await configFileName(runDir)) ?? basename(runDir);
  // A log without `done` is a run that was killed or is still being written by another process.
  if (model.state === "running" || model.state === "starting") model.state = "stopped";
  return new ReplayedRun(runDir, model.label, model, runDir, problems);
}

async function configFileName(runDir: string): Promise<string | undefined> {
  try {
    const config = JSON.parse(await fsp.readFile(runPaths(runDir).config, "utf8")) as { name?: unknown };
    return typeof config.name === "string" ? config.name : undefined;
  } catch {
    return undefined;
  }
}
