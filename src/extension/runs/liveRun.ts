import { RunModel } from "../../panel/runModel";
import type { TrainingConfig } from "../../protocol/config";
import { Emitter } from "../../protocol/emitter";
import type {
  AckMessage,
  DoneMessage,
  HelloMessage,
  ProgressMessage,
  TrainerMessage,
} from "../../protocol/messages";
import { type RunIdentity, readRunIdentity, runIdentity } from "../../protocol/runIdentity";
import type { CommandBody, ExitInfo, RunConnection, StopInProgress } from "./connection";
import type { StopOutcome, StopTimeouts } from "./stopProcess";

/**
 * One run the extension is connected to (spawned or attached): its link, its state for the
 * status bar and the Runs view, and its panel model (the bounded, downsampled history the
 * dashboard draws). Free of vscode so its state machine is unit-testable.
 */
export type LiveState = "starting" | "running" | "paused" | "stopping" | "finished" | "failed" | "detached";

export interface LiveRunOptions {
  readonly id: string;
  /** What the run is called until its folder is known (the config's name); then its identity's. */
  readonly label: string;
  readonly connection: RunConnection;
  /** The config file the run was started from (absent for the quick preset or an attach). */
  readonly configPath?: string;
  /** The config file as parsed when the run started (or when last applied): the base of diffs. */
  readonly configSnapshot?: TrainingConfig;
  /** Points per series kept for the dashboard. */
  readonly maxPoints: number;
  /**
   * A resumed run: its folder (known before the trainer says hello) and the panel model rebuilt
   * from the folder's log, so the run's views keep every step before the resume.
   */
  readonly resumed?: { runDir: string; model: RunModel };
}

const RATE_WINDOW = 20;

export class LiveRun {
  readonly id: string;
  /** The config's name (shared by every run of that config). */
  readonly configName: string;
  /** What every view calls the run (runIdentity.ts); known once the trainer names its folder. */
  identity?: RunIdentity;
  readonly connection: RunConnection;
  readonly configPath?: string;
  configSnapshot?: TrainingConfig;
  readonly model: RunModel;
  state: LiveState = "starting";
  hello?: HelloMessage;
  /** The trainer's resolved config (presets and defaults applied), from its `config` message. */
  resolvedConfig?: TrainingConfig;
  progress?: ProgressMessage;
  done?: DoneMessage;
  exit?: ExitInfo;
  /** Fatal error message from the trainer, if any. */
  fatalError?: string;
  step = 0;
  strategy = "";
  readonly startedAt = Date.now();
  private readonly recent: Array<{ step: number; wallMs: number }> = [];
  private readonly changed = new Emitter<LiveRun>();
  private readonly messages = new Emitter<TrainerMessage>();
  private readonly exited = new Emitter<ExitInfo>();
  private readonly sent = new Emitter<CommandBody>();
  /** Someone in this window asked the run to stop (Stop, the panel's Stop, closing the window). */
  stopRequested = false;
  /** Fires on state, step or strategy changes (throttling is the observer's job). */
  readonly onDidChange = this.changed.event;
  /** Every validated message, in order. */
  readonly onDidMessage = this.messages.event;
  readonly onDidExit = this.exited.event;
  /** Every command this window sends the trainer, as it goes. */
  readonly onDidSend = this.sent.event;

  constructor(options: LiveRunOptions) {
    this.id = options.id;
    this.configName = options.label;
    this.connection = options.connection;
    this.configPath = options.configPath;
    this.configSnapshot = options.configSnapshot;
    this.resumedDir = options.resumed?.runDir;
    this.model =
      options.resumed?.model ?? new RunModel(options.id, options.label, { maxPoints: options.maxPoints });
    // A replayed history ends "stopped"; the trainer's hello makes it running again.
    if (options.resumed) this.model.state = "starting";
    this.connection.onMessage = (message) => this.receive(message);
    this.connection.onExit = (info) => this.handleExit(info);
    // A resumed run keeps its name from the start: run.json is read while the trainer starts, so
    // the automatic name never replaces the user's between the trainer's first messages and the read.
    if (this.resumedDir) void this.reloadIdentity().catch(() => undefined);
  }

  /** The run's name wherever it is shown: its identity's, else (before hello) the config's. */
  get label(): string {
    return this.identity?.name ?? this.configName;
  }

  /**
   * Sets the identity (read from the run folder, or after a rename): the panels' model and every
   * observer follow.
   */
  setIdentity(identity: RunIdentity): void {
    const same = this.identity !== undefined && JSON.stringify(this.identity) === JSON.stringify(identity);
    if (same) return;
    this.identity = identity;
    this.model.label = identity.name;
    this.changed.fire(this);
  }

  /** Re-reads `run.json` (after a rename here or elsewhere); a no-op before the folder is known. */
  async reloadIdentity(): Promise<void> {
    const runDir = this.runDir;
    if (!runDir) return;
    this.setIdentity(await readRunIdentity(runDir, this.startStrategy));
  }

  /** The strategy the run started with: the first part of its automatic name. */
  private startStrategy?: string;

  get kind(): "spawned" | "attached" {
    return this.connection.kind;
  }

  get runDir(): string | undefined {
    return this.hello?.runDir ?? this.resumedDir;
  }

  private readonly resumedDir?: string;

  get tasks(): string[] {
    return this.hello?.tasks ?? [];
  }

  /** True while commands can reach the trainer. */
  get isLive(): boolean {
    return (
      this.state === "starting" ||
      this.state === "running" ||
      this.state === "paused" ||
      this.state === "stopping"
    );
  }

  get canCommand(): boolean {
    return this.isLive && this.state !== "stopping" && this.connection.canWrite;
  }

  /** Steps per second over the last few step messages (trainer wall clock, so pauses in the host do not count). */
  get stepsPerSecond(): number {
    if (this.recent.length < 2) return 0;
    const first = this.recent[0];
    const last = this.recent[this.recent.length - 1];
    const ms = last.wallMs - first.wallMs;
    return ms > 0 ? ((last.step - first.step) * 1000) / ms : 0;
  }

  send(command: CommandBody, timeoutMs?: number): Promise<AckMessage> {
    if (!this.isLive) return Promise.reject(new Error(`run ${this.label} is not live (${this.state})`));
    if (!this.connection.canWrite)
      return Promise.reject(
        new Error(`run ${this.label} is attached read-only: another client holds the commands`),
      );
    if (command.type === "stop") this.stopRequested = true;
    this.sent.fire(command);
    return this.connection.send(command, timeoutMs);
  }

  /**
   * Stop as the dashboard's button asks it of a run this window started: the stop command (`ack`
   * is its answer), then SIGTERM and SIGKILL if the trainer does not end (stopProcess.ts).
   * Undefined for an attached run, whose Stop is the plain command.
   */
  beginStop(timeouts: StopTimeouts): StopInProgress | undefined {
    if (!this.isLive || !this.connection.stop) return undefined;
    this.stopRequested = true;
    this.setState("stopping");
    return this.connection.stop(timeouts);
  }

  /** Spawned runs stop (graceful, then forced); attached runs are detached, never stopped. */
  async close(timeouts: StopTimeouts): Promise<StopOutcome | "detached"> {
    const outcome = await (this.beginStop(timeouts)?.ended ?? this.connection.close(timeouts));
    if (outcome === "detached" && this.isLive) this.setState("detached");
    return outcome;
  }

  /** Feeds a message (from the link, or a test). */
  receive(message: TrainerMessage): void {
    this.model.ingest(message);
    switch (message.type) {
      case "hello":
        this.hello = message;
        if (this.state === "starting") this.setState("running");
        break;
      case "config":
        this.resolvedConfig = message.config;
        this.strategy ||= message.config.strategy.name;
        this.startStrategy ??= message.config.strategy.name;
        if (this.runDir) {
          // The automatic name at once; the stored one (a resumed or attached run) when read.
          if (!this.identity) this.setIdentity(runIdentity(this.runDir, this.startStrategy));
          void this.reloadIdentity().catch(() => undefined);
        }
        break;
      case "step":
        this.step = message.step;
        this.strategy = message.strategy;
        this.progress = undefined;
        this.recent.push({ step: message.step, wallMs: message.wallMs });
        if (this.recent.length > RATE_WINDOW) this.recent.shift();
        if (this.state === "starting") this.state = "running";
        this.changed.fire(this);
        break;
      case "strategy-changed":
        this.strategy = message.name;
        this.changed.fire(this);
        break;
      case "paused":
        this.setState("paused");
        break;
      case "resumed":
        // A pause's wall time must not drag the rate down.
        this.recent.length = 0;
        this.setState("running");
        break;
      case "progress":
        this.progress = message;
        this.changed.fire(this);
        break;
      case "error":
        if (message.fatal) this.fatalError = message.message;
        break;
      case "done":
        this.done = message;
        break;
      default:
        break;
    }
    this.messages.fire(message);
  }

  private handleExit(info: ExitInfo): void {
    this.exit = info;
    if (this.state === "detached") return;
    if (this.kind === "attached" && this.done === undefined) {
      // The socket closed before the run ended: we lost sight of it, it did not fail.
      this.setState("detached");
      this.exited.fire(info);
      return;
    }
    const failed =
      info.spawnError !== undefined ||
      this.done?.reason === "failed" ||
      (this.done === undefined && (info.code !== 0 || info.signal !== null) && this.state !== "stopping");
    this.setState(failed ? "failed" : "finished");
    this.exited.fire(info);
  }

  private setState(state: LiveState): void {
    if (this.state === state) return;
    this.state = state;
    this.changed.fire(this);
  }

  dispose(): void {
    this.changed.dispose();
    this.messages.dispose();
    this.exited.dispose();
    this.sent.dispose();
  }
}

/** Every run the extension knows live, with one change event the UI observes. */
export class RunRegistry {
  private readonly runs = new Map<string, LiveRun>();
  private readonly changed = new Emitter<LiveRun | undefined>();
  private readonly subscriptions = new Map<string, Array<{ dispose(): void }>>();
  readonly onDidChange = this.changed.event;

  add(run: LiveRun): void {
    this.runs.set(run.id, run);
    this.subscriptions.set(run.id, [run.onDidChange(() => this.changed.fire(run))]);
    this.changed.fire(run);
  }

  remove(id: string): void {
    const run = this.runs.get(id);
    if (!run) return;
    for (const s of this.subscriptions.get(id) ?? []) s.dispose();
    this.subscriptions.delete(id);
    this.runs.delete(id);
    this.changed.fire(undefined);
  }

  get(id: string): LiveRun | undefined {
    return this.runs.get(id);
  }

  all(): LiveRun[] {
    return [...this.runs.values()];
  }

  live(): LiveRun[] {
    return this.all().filter((r) => r.isLive);
  }

  /** The live run started from this config file, if any. */
  forConfig(configPath: string): LiveRun | undefined {
    return this.live().find((r) => r.configPath !== undefined && samePath(r.configPath, configPath));
  }

  /** The live run writing into this run folder, if any. */
  forRunDir(runDir: string): LiveRun | undefined {
    return this.live().find((r) => r.runDir !== undefined && samePath(r.runDir, runDir));
  }

  dispose(): void {
    for (const id of [...this.runs.keys()]) this.remove(id);
    this.changed.dispose();
  }
}

function samePath(a: string, b: string): boolean {
  const norm = (p: string) => p.replace(/[\\/]+$/, "");
  return process.platform === "win32" ? norm(a).toLowerCase() === norm(b).toLowerCase() : norm(a) === norm(b);
}
