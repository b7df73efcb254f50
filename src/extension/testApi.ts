import { seriesName } from "../panel/snapshot";
import type { RunInfo } from "../protocol/runlog";
import { runPaths } from "../protocol/runlog";
import type { ApplyResult } from "./config/liveApply";
import type { LiveRun, LiveState, RunRegistry } from "./runs/liveRun";

/**
 * The test API: what `activate` returns when (and only when) process.env.GRADCRAFT_TEST === "1".
 * Integration tests get it with
 *   const api = (await vscode.extensions.getExtension("gradcraft.gradcraft-studio")!.activate()) as GradCraftTestApi;
 * and then wait on conditions, never on fixed sleeps:
 *   const id = await vscode.commands.executeCommand<string>("gradcraft.startTraining", configUri);
 *   await api.waitFor(() => (api.run(id)?.step ?? 0) >= 5, 60_000);
 *   readFileSync(api.run(id)!.eventsPath!)   // the run's events.ndjson
 * Command return values (for tests): startTraining/restartRun/resumeRun/attach -> run id; stop ->
 * "graceful" | "sigterm" | "sigkill" | "detached"; pause/resume/checkpoint/evaluate/switchStrategy
 * -> the trainer's ack; switchStrategy(runId, { name, params }) skips the pickers; exportRun(runDir,
 * Uri) -> written path; compareRuns([dirA, dirB]) -> run ids; newConfig(templateId, folderUri) -> Uri.
 */
export interface RunSummaryForTests {
  readonly id: string;
  readonly label: string;
  readonly kind: "spawned" | "attached";
  readonly state: LiveState;
  readonly step: number;
  readonly strategy: string;
  readonly stepsPerSecond: number;
  readonly runDir?: string;
  /** events.ndjson of the run folder, once the trainer announced it (hello). */
  readonly eventsPath?: string;
  readonly configPath?: string;
  readonly pid?: number;
  readonly exitCode?: number | null;
  readonly exitSignal?: string | null;
  readonly tasks: string[];
  /** Strategies the trainer announced (names). */
  readonly strategies: string[];
  /** The learning rate the dashboard model holds (from config and hyper-changed messages). */
  readonly hyperparameters: Record<string, number>;
  /** The first step the dashboard model's loss series holds (a resumed run keeps its history). */
  readonly firstModelStep?: number;
}

export interface PanelRecord {
  readonly direction: "in" | "out";
  readonly surface: string;
  readonly type: string;
  readonly at: number;
}

export interface GradCraftTestApi {
  /** Wall time activate() took, in ms (the goal is under 100). */
  readonly activationMs: number;
  readonly registry: RunRegistry;
  /** Every run this window knows (live and ended), oldest first. */
  runs(): RunSummaryForTests[];
  run(id: string): RunSummaryForTests | undefined;
  /** Polls `condition` every 50 ms; rejects with `message` after `timeoutMs`. */
  waitFor(condition: () => boolean, timeoutMs?: number, message?: string): Promise<void>;
  /** Run ids (live id or run folder) with an open dashboard panel. */
  dashboards(): string[];
  /** The titles of the open dashboard and compare tabs. */
  panelTitles(): string[];
  /** The run the Conflicts view shows, and whether it is visible. */
  conflictsView(): { runId?: string; visible: boolean };
  /** The status bar item's text ("" when hidden). */
  statusBarText(): string;
  /** The last messages between host and webviews (types only, newest last, at most 500). */
  panelTraffic(): PanelRecord[];
  /**
   * The runs of the last compare panel as the host sent them once the panel asked (ready): each
   * run's id, legend label and last step. Undefined until a compare panel has loaded.
   */
  lastCompare(): { runIds: string[]; labels: string[]; steps: number[]; at: number } | undefined;
  /** The last config apply (save or command) and its report. */
  lastApply(): { runId: string; result: ApplyResult } | undefined;
  /** Every config apply that was reported to the user (save or command), oldest first. */
  applies(): { runId: string; result: ApplyResult; at: number }[];
  runsFolder(): string;
  finishedRuns(): RunInfo[];
  /** Trainer pids this window spawned that are still running. */
  trainerPids(): number[];
}

export function summarize(run: LiveRun): RunSummaryForTests {
  return {
    id: run.id,
    label: run.label,
    kind: run.kind,
    state: run.state,
    step: run.step,
    strategy: run.strategy,
    stepsPerSecond: run.stepsPerSecond,
    runDir: run.runDir,
    eventsPath: run.runDir ? runPaths(run.runDir).events : undefined,
    configPath: run.configPath,
    pid: run.connection.pid,
    exitCode: run.exit?.code,
    exitSignal: run.exit?.signal,
    tasks: run.tasks,
    strategies: run.hello?.strategies.map((s) => s.name) ?? [],
    hyperparameters: { ...run.model.hyperparameters },
    firstModelStep: run.model.series.get(seriesName.lr)?.points()[0]?.x,
  };
}

export async function waitFor(
  condition: () => boolean,
  timeoutMs = 30_000,
  message = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
