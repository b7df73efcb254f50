/**
 * The shareable report's runs read from their folders (docs/dashboard.md, "Report"), for the
 * extension host and the CLI alike: each event log replayed into a run model through the same
 * code as a live run's messages, named by its identity, with its folder's config, tags and note.
 * Node only (the report's page, reportHtml.ts, is written around what this returns).
 */
import { promises as fsp } from "node:fs";
import { basename } from "node:path";
import type { StreamProblem } from "../protocol/codec";
import { type RunIdentity, readRunIdentity, readStoredRunIdentity } from "../protocol/runIdentity";
import { RUN_FILES, replay, runPaths } from "../protocol/runlog";
import { compareSnapshots } from "./compareSnapshots";
import type { ReportData, ReportRun } from "./reportData";
import { RunModel } from "./runModel";

/** A finished run as its folder holds it. */
export interface ReplayedRunData {
  readonly model: RunModel;
  readonly identity: RunIdentity;
  /** The strategy the run started with (config.json's, else the log's first config). */
  readonly startStrategy: string | undefined;
  readonly problems: string[];
}

/**
 * Replays a run folder's event log into a run model named by the run's identity (run.json, else
 * the automatic name from the strategy it started with). A log without `done` is a run that was
 * killed or is still being written by another process: it is shown as stopped.
 */
export async function replayRunFolder(runDir: string, maxPoints: number): Promise<ReplayedRunData> {
  const model = new RunModel(runDir, basename(runDir), { maxPoints });
  const problems: string[] = [];
  let firstStrategy: string | undefined;
  const onProblem = (p: StreamProblem) => problems.push(`${p.reason} (${RUN_FILES.events} line ${p.line})`);
  for await (const message of replay(runDir, { onProblem })) {
    if (message.type === "config") firstStrategy ??= message.config.strategy.name;
    model.ingest(message);
  }
  const config = (await readRunConfig(runDir)) as { strategy?: { name?: unknown } } | undefined;
  const startStrategy = typeof config?.strategy?.name === "string" ? config.strategy.name : firstStrategy;
  const identity = await readRunIdentity(runDir, startStrategy, problems);
  model.label = identity.name;
  if (model.state === "running" || model.state === "starting") model.state = "stopped";
  return { model, identity, startStrategy, problems };
}

/** The run folder's config.json (the resolved config it started with); undefined when unreadable. */
export async function readRunConfig(runDir: string): Promise<unknown> {
  try {
    return JSON.parse(await fsp.readFile(runPaths(runDir).config, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * A report's data: the runs as the dashboard shows them now (a live run as it stands: the report
 * says at which step it was cut), each with its folder's config, tags and note.
 */
export async function reportOf(
  runs: readonly {
    label: string;
    runDir?: string;
    model: { toSnapshot(): ReturnType<RunModel["toSnapshot"]> };
  }[],
  generator: string,
  now: Date = new Date(),
): Promise<ReportData> {
  const snapshots = compareSnapshots(runs);
  const reportRuns = await Promise.all(
    runs.map(async (run, i): Promise<ReportRun> => {
      if (!run.runDir) return { snapshot: snapshots[i] };
      const [config, stored] = await Promise.all([
        readRunConfig(run.runDir),
        readStoredRunIdentity(run.runDir).catch(() => ({ tags: undefined, note: undefined })),
      ]);
      return {
        snapshot: snapshots[i],
        config,
        folder: basename(run.runDir),
        tags: stored.tags,
        note: stored.note,
      };
    }),
  );
  return { createdAt: now.toISOString(), generator, runs: reportRuns };
}
