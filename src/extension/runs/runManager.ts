import { existsSync, mkdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import * as vscode from "vscode";
import type { TrainingConfig } from "../../protocol/config";
import type { AckMessage } from "../../protocol/messages";
import { parseConfigFile } from "../config/parse";
import { readSettings, runsFolder } from "../settings";
import { ensureTrusted } from "../trust";
import { AttachedConnection, SpawnedConnection } from "./connection";
import { loadReplayedRun } from "./library";
import { LiveRun, type RunRegistry } from "./liveRun";
import { type NarrativeLine, RunNarrative } from "./runNarrative";
import { NonFiniteSteps, type RunNotice, runEndNotice } from "./runNotices";
import { planTrainerSpawn } from "./spawn";
import { describeStop, stopTimeouts } from "./stopProcess";

/**
 * Starts, attaches to and ends trainers. Spawned trainers run without a shell (runs/spawn.ts);
 * their stderr goes to the log channel; a trainer that fails raises one notification. Every
 * spawned trainer is stopped on deactivation (graceful, then forced); attached ones are detached.
 */
export class RunManager implements vscode.Disposable {
  private counter = 0;
  private readonly spawned = new Set<SpawnedConnection>();
  private readonly killOnExit = () => {
    // Last resort when the extension host goes down without deactivate: no orphan trainers.
    for (const connection of this.spawned) connection.process.kill("SIGKILL");
  };

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly registry: RunRegistry,
    private readonly log: vscode.LogOutputChannel,
    private readonly onStarted: (run: LiveRun) => void,
  ) {
    process.once("exit", this.killOnExit);
  }

  /** Starts a run on a config file (or, without one, the embedded quick preset). */
  async start(configUri?: vscode.Uri, options: { resume?: string } = {}): Promise<LiveRun | undefined> {
    if (!ensureTrusted("start a trainer", "training runs a program on this workspace's files")) {
      this.log.warn("not starting a trainer: the workspace is in Restricted Mode");
      return undefined;
    }
    const settings = readSettings(configUri);
    let configSnapshot: TrainingConfig | undefined;
    let label = "quick";
    if (configUri) {
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === configUri.toString());
      if (document?.isDirty) await document.save();
      const parsed = parseConfigFile(configUri.fsPath);
      if (!parsed.ok) {
        this.log.warn(`not starting ${configUri.fsPath}: ${parsed.reason}`);
        const open = "Open Config";
        void vscode.window
          .showErrorMessage(`GradCraft: ${basename(configUri.fsPath)}: ${parsed.reason}`, open)
          .then((c) => {
            if (c === open) void vscode.window.showTextDocument(configUri);
          });
        return undefined;
      }
      configSnapshot = parsed.config;
      label =
        parsed.config.name !== "run"
          ? parsed.config.name
          : basename(configUri.fsPath).replace(/\.gradcraft\.json$/, "");
    }
    const cliPath = this.context.asAbsolutePath(join("dist", "cli.js"));
    const trainerCommand = configSnapshot?.trainer?.command;
    if (!trainerCommand && settings.trainer.command.length === 0 && !existsSync(cliPath)) {
      this.log.error(`not starting a trainer: the bundled trainer ${cliPath} is missing`);
      void vscode.window.showErrorMessage(
        `GradCraft: the bundled trainer is missing (${cliPath}); run "npm run build".`,
      );
      return undefined;
    }
    const root = runsFolder(this.context, settings);
    mkdirSync(root, { recursive: true });
    const plan = planTrainerSpawn(
      { configPath: configUri?.fsPath, runsFolder: root, resume: options.resume, trainerCommand },
      settings.trainer,
      {
        execPath: process.execPath,
        cliPath,
        cwd: configUri
          ? dirname(configUri.fsPath)
          : (vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? root),
        env: process.env,
      },
    );
    this.log.info(`starting trainer: ${[plan.command, ...plan.args].map(quoteForLog).join(" ")}`);
    const connection = new SpawnedConnection(plan);
    this.spawned.add(connection);
    // A resumed run's views keep what it did before: its log so far, replayed into its model.
    const history = options.resume
      ? await loadReplayedRun(options.resume, settings.maxPointsPerSeries).catch(() => undefined)
      : undefined;
    const run = new LiveRun({
      id: `live-${++this.counter}`,
      label: history?.label ?? label,
      connection,
      configPath: configUri?.fsPath,
      configSnapshot,
      maxPoints: settings.maxPointsPerSeries,
      resumed: history && options.resume ? { runDir: options.resume, model: history.model } : undefined,
    });
    this.wire(run);
    connection.onStderr = (line) => this.log.info(`[${run.label}] ${line}`);
    run.onDidExit((info) => {
      this.spawned.delete(connection);
      const how = info.spawnError
        ? `could not start: ${info.spawnError}`
        : `exited (code ${info.code}, signal ${info.signal ?? "none"})`;
      this.log.info(`[${run.label}] trainer ${how}`);
    });
    this.registry.add(run);
    this.showPreparation(run);
    this.onStarted(run);
    return run;
  }

  /** Attaches to a trainer serving its link in `runDir` (started with --listen). */
  async attach(runDir: string): Promise<LiveRun | undefined> {
    const existing = this.registry.forRunDir(runDir);
    if (existing) return existing;
    if (
      !ensureTrusted(
        "attach to a trainer",
        "attaching sends a run's token to the address its link.json names",
      )
    ) {
      this.log.warn(`not attaching to ${runDir}: the workspace is in Restricted Mode`);
      return undefined;
    }
    const settings = readSettings();
    let connection: AttachedConnection;
    try {
      connection = await AttachedConnection.connect(runDir, settings.attachAllowedHosts);
    } catch (error) {
      this.log.warn(`not attaching to ${runDir}: ${(error as Error).message}`);
      void vscode.window.showErrorMessage(
        `GradCraft: cannot attach to ${basename(runDir)}: ${(error as Error).message}`,
      );
      return undefined;
    }
    const run = new LiveRun({
      id: `attached-${++this.counter}`,
      label: basename(runDir),
      connection,
      maxPoints: settings.maxPointsPerSeries,
    });
    this.wire(run);
    connection.start();
    if (!connection.canWrite)
      void vscode.window.showInformationMessage(
        `GradCraft: attached to ${run.label} read-only: another client holds the commands.`,
      );
    this.registry.add(run);
    this.onStarted(run);
    return run;
  }

  /** Stops a spawned run (stop command, then SIGTERM, then SIGKILL), detaches an attached one. */
  async stop(run: LiveRun): Promise<string> {
    const timeouts = stopTimeouts(readSettings().stopTimeoutMs);
    this.log.info(
      `[${run.label}] ${run.kind === "attached" ? "→ detach requested" : `→ stop requested: the trainer has ${timeouts.graceMs / 1000} s to finish, then SIGTERM`}`,
    );
    const outcome = await run.close(timeouts);
    this.log.info(
      `[${run.label}] ${outcome === "detached" ? "detached; the trainer goes on" : describeStop(outcome, timeouts, run.exit, run.done?.reason)}`,
    );
    return outcome;
  }

  /**
   * The dashboard's Stop of a run this window started: as the palette's Stop (the stop command,
   * then SIGTERM, then SIGKILL, each in the log), answering with the stop command's ack.
   * Undefined for an attached run: its Stop is the plain command.
   */
  stopFromPanel(run: LiveRun): Promise<AckMessage> | undefined {
    const timeouts = stopTimeouts(readSettings().stopTimeoutMs);
    const stopping = run.beginStop(timeouts);
    if (!stopping) return undefined;
    this.log.info(
      `[${run.label}] → stop requested from the dashboard: the trainer has ${timeouts.graceMs / 1000} s to finish, then SIGTERM`,
    );
    void stopping.ended.then((outcome) =>
      this.log.info(`[${run.label}] ${describeStop(outcome, timeouts, run.exit, run.done?.reason)}`),
    );
    return stopping.ack;
  }

  /** Deactivation: the host gives us a few seconds, so the graceful phase is short. */
  async stopAll(): Promise<void> {
    await Promise.all(
      this.registry.live().map((run) => run.close({ graceMs: 2500, termMs: 1500 }).catch(() => undefined)),
    );
  }

  /** The run's story in the Output channel, and the notifications it earns (runNarrative.ts, runNotices.ts). */
  private wire(run: LiveRun): void {
    const narrative = new RunNarrative();
    const nonFinite = new NonFiniteSteps();
    const write = (level: NarrativeLine["level"], text: string) => this.log[level](`[${run.label}] ${text}`);
    run.connection.onProblem = (reason) => write("warn", `link: ${reason}`);
    run.onDidSend((command) => write("info", narrative.request(command)));
    run.onDidMessage((message) => {
      const line = narrative.line(message);
      if (line) {
        const detail = message.type === "error" && message.detail ? `\n${message.detail}` : "";
        write(line.level, `${line.text}${detail}`);
      }
      if (message.type === "error") this.notify(run, nonFinite.skipped(message, run.label));
    });
    run.onDidExit(() => {
      const failure = run.state === "failed" ? this.failureReason(run) : undefined;
      this.notify(
        run,
        runEndNotice(
          { label: run.label, done: run.done, failure, stopRequested: run.stopRequested },
          narrative,
        ),
      );
    });
  }

  /** Shows a notice with the run's two ways in: its dashboard and the log. */
  private notify(run: LiveRun, notice: RunNotice | null): void {
    if (!notice) return;
    const openDashboard = "Open Dashboard";
    const showLog = "Show Log";
    const actions = run.runDir ? [openDashboard, showLog] : [showLog];
    const show =
      notice.level === "error"
        ? vscode.window.showErrorMessage
        : notice.level === "warning"
          ? vscode.window.showWarningMessage
          : vscode.window.showInformationMessage;
    void show(notice.message, ...actions).then((choice) => {
      if (choice === showLog) this.log.show(true);
      else if (choice === openDashboard && run.runDir)
        void vscode.commands.executeCommand("gradcraft.openDashboard", run.runDir);
    });
  }

  /** Long preparations (vocabularies, first compile) show as a notification until the first step. */
  private showPreparation(run: LiveRun): void {
    void vscode.window.withProgress(
      {
        location: vscode.ProgressLocation.Notification,
        title: `GradCraft: preparing ${run.label}`,
        cancellable: true,
      },
      (progress, token) =>
        new Promise<void>((resolve) => {
          let reported = 0;
          const subscriptions: Array<{ dispose(): void }> = [];
          const finish = () => {
            for (const s of subscriptions) s.dispose();
            resolve();
          };
          token.onCancellationRequested(() => {
            void this.stop(run);
            finish();
          });
          subscriptions.push(
            run.onDidMessage((message) => {
              if (message.type === "progress") {
                const fraction = message.fraction ?? undefined;
                const increment = fraction !== undefined ? Math.max(0, fraction * 100 - reported) : undefined;
                if (fraction !== undefined) reported = fraction * 100;
                progress.report({
                  message: `${message.phase}${message.detail ? `: ${message.detail}` : ""}`,
                  increment,
                });
              } else if (message.type === "hello") {
                progress.report({ message: `on ${message.backend.name}` });
              } else if (message.type === "step" || message.type === "done") {
                finish();
              }
            }),
            run.onDidExit(() => finish()),
          );
        }),
    );
  }

  private failureReason(run: LiveRun): string {
    return (
      run.connection.refusal ??
      run.exit?.spawnError ??
      run.fatalError ??
      run.exit?.stderrTail.filter((l) => l.trim()).slice(-1)[0] ??
      `exit code ${run.exit?.code}`
    );
  }

  /**
   * Disposal normally follows deactivate (which already stopped every run gracefully); if not,
   * stop them now. The process 'exit' hook stays as the last resort for whatever is left.
   */
  dispose(): void {
    void this.stopAll();
  }
}

function quoteForLog(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}
