import { basename } from "node:path";
import * as vscode from "vscode";
import { isConfigDocument } from "../config/diagnostics";
import { applyConfigToRun, showApplyResult } from "../config/liveApply";
import { parseConfigText } from "../config/parse";
import { SaveApplier } from "../config/saveApply";
import type { CommandBody } from "../runs/connection";
import type { LiveRun } from "../runs/liveRun";
import type { Services } from "../services";
import { readSettings } from "../settings";
import { pickConfig, pickStrategy } from "./pickers";
import { liveRunFromArg, pickLiveRun, runDirFromArg } from "./pickRun";

/** Start, steer and stop runs: the commands that talk to a trainer. */
export function registerTrainingCommands(s: Services): vscode.Disposable[] {
  const { registry, manager } = s;
  const timeout = () => readSettings().commandTimeoutMs;

  const started = async (run: LiveRun | undefined): Promise<string | undefined> => {
    if (!run) return undefined;
    if (readSettings().openDashboardOnStart) await s.showRun(run, { preserveFocus: true });
    return run.id;
  };

  /** Sends one command and tells the user how it went; returns the ack for callers (tests). */
  const sendAndReport = async (
    run: LiveRun,
    body: CommandBody,
    done: (step: number, result: unknown) => string,
  ) => {
    try {
      const ack = await run.send(body, timeout());
      if (ack.ok)
        void vscode.window.setStatusBarMessage(
          `GradCraft (${run.label}): ${done(ack.step, ack.result)}`,
          5000,
        );
      else
        void vscode.window.showErrorMessage(
          `GradCraft (${run.label}): ${body.type} refused: ${ack.error ?? "no reason given"}`,
        );
      return ack;
    } catch (error) {
      void vscode.window.showErrorMessage(
        `GradCraft (${run.label}): ${body.type} failed: ${(error as Error).message}`,
      );
      return undefined;
    }
  };

  return [
    vscode.commands.registerCommand("gradcraft.startTraining", async (arg?: unknown) => {
      const uri = arg instanceof vscode.Uri ? arg : await pickConfig();
      if (uri === null) return undefined; // cancelled
      if (uri === "new") return vscode.commands.executeCommand("gradcraft.newConfig");
      return started(await manager.start(uri));
    }),

    vscode.commands.registerCommand("gradcraft.stop", async (arg?: unknown) => {
      const run = await pickLiveRun(registry, arg, "stop");
      if (!run) return undefined;
      return vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: `GradCraft: stopping ${run.label}` },
        () => manager.stop(run),
      );
    }),

    vscode.commands.registerCommand("gradcraft.pause", async (arg?: unknown) => {
      const run = await pickLiveRun(
        registry,
        arg,
        "pause",
        (r) => r.state === "running" && r.connection.canWrite,
      );
      return run && sendAndReport(run, { type: "pause" }, (step) => `paused after step ${step}`);
    }),

    vscode.commands.registerCommand("gradcraft.resume", async (arg?: unknown) => {
      const run = await pickLiveRun(
        registry,
        arg,
        "resume",
        (r) => r.state === "paused" && r.connection.canWrite,
      );
      return run && sendAndReport(run, { type: "resume" }, (step) => `resumed at step ${step}`);
    }),

    vscode.commands.registerCommand("gradcraft.checkpoint", async (arg?: unknown) => {
      const run = await pickLiveRun(registry, arg, "checkpoint", (r) => r.canCommand);
      return run && sendAndReport(run, { type: "checkpoint" }, (step) => `checkpoint at step ${step}`);
    }),

    vscode.commands.registerCommand("gradcraft.evaluate", async (arg?: unknown) => {
      const run = await pickLiveRun(registry, arg, "evaluate", (r) => r.canCommand);
      return (
        run &&
        sendAndReport(run, { type: "evaluate", split: "validation" }, (step) => `evaluated at step ${step}`)
      );
    }),

    vscode.commands.registerCommand(
      "gradcraft.switchStrategy",
      async (arg?: unknown, preset?: { name: string; params?: Record<string, unknown> }) => {
        const run = await pickLiveRun(registry, arg, "switch strategy", (r) => r.canCommand);
        if (!run) return undefined;
        // Tests and the panel can pass the choice; people pick it.
        // From a tree with several items selected the second argument is the selection: ignore it.
        const given =
          preset && !Array.isArray(preset) && typeof preset.name === "string" ? preset : undefined;
        const choice = given ?? (await pickStrategy(run));
        if (!choice) return undefined;
        const body: CommandBody = {
          type: "set-strategy",
          name: choice.name,
          params: choice.params ?? {},
          carryState: choice.name === run.strategy,
        };
        return sendAndReport(run, body, (step) => `strategy ${choice.name} from step ${step + 1}`);
      },
    ),

    vscode.commands.registerCommand("gradcraft.applyConfig", async (arg?: unknown, target?: unknown) => {
      // (configUri), (runId), (configUri, runId) or nothing: the active config and its run.
      let uri = arg instanceof vscode.Uri ? arg : undefined;
      let run = liveRunFromArg(registry, arg) ?? liveRunFromArg(registry, target);
      const editor = vscode.window.activeTextEditor;
      if (!uri && !run && editor && isConfigDocument(editor.document)) uri = editor.document.uri;
      if (uri && !run) run = registry.forConfig(uri.fsPath);
      // A config applied to a run started from elsewhere (another file, the quick preset).
      run ??= await pickLiveRun(registry, undefined, "apply the config to", (r) => r.canCommand);
      if (!run) return undefined;
      uri ??= run.configPath ? vscode.Uri.file(run.configPath) : undefined;
      if (!uri) {
        void vscode.window.showInformationMessage(
          "GradCraft: open the config to apply, then run this command again.",
        );
        return undefined;
      }
      const document = await vscode.workspace.openTextDocument(uri);
      if (document.isDirty) {
        await document.save();
        // Saving the run's own config applies it already (the save hook below).
        if (registry.forConfig(uri.fsPath) === run && readSettings(uri).applyOnSave) return undefined;
      }
      return applyAndShow(s, run, document.getText());
    }),

    vscode.commands.registerCommand("gradcraft.restartRun", async (arg?: unknown, configUri?: vscode.Uri) => {
      const run = liveRunFromArg(registry, arg);
      if (run) await manager.stop(run);
      const uri = configUri ?? (run?.configPath ? vscode.Uri.file(run.configPath) : undefined);
      return started(await manager.start(uri));
    }),

    vscode.commands.registerCommand("gradcraft.resumeRun", async (arg?: unknown) => {
      const runDir = runDirFromArg(arg);
      if (!runDir) return undefined;
      return started(await manager.start(undefined, { resume: runDir }));
    }),

    ...applyOnSave(s),
  ];
}

/**
 * Saving a config whose run is live applies what can change mid-run: an explicit save at once,
 * an auto-save once the config is valid and left alone for a moment (config/saveApply.ts).
 */
function applyOnSave(s: Services): vscode.Disposable[] {
  const runFor = (path: string) => {
    const run = s.registry.forConfig(path);
    return run?.canCommand && readSettings(vscode.Uri.file(path)).applyOnSave ? run : undefined;
  };
  const applier = new SaveApplier({
    apply: (path, text, auto) => {
      const run = runFor(path);
      if (run) void applyAndShow(s, run, text, { auto });
    },
    noteInvalid: (path, reason) => {
      const run = runFor(path);
      if (!run) return;
      s.log.info(`[${run.label}] ${basename(path)} saved, not applied: ${reason}`);
      vscode.window.setStatusBarMessage(`GradCraft: not applied to ${run.label}: fix the config first`, 5000);
    },
  });
  const reasons = new Map<string, vscode.TextDocumentSaveReason>();
  return [
    applier,
    vscode.workspace.onWillSaveTextDocument((event) => {
      if (isConfigDocument(event.document)) reasons.set(event.document.uri.fsPath, event.reason);
    }),
    vscode.workspace.onDidChangeTextDocument((event) => {
      if (event.contentChanges.length > 0 && isConfigDocument(event.document))
        applier.changed(event.document.uri.fsPath);
    }),
    vscode.workspace.onDidSaveTextDocument((document) => {
      const path = document.uri.fsPath;
      const reason = reasons.get(path);
      reasons.delete(path);
      if (!isConfigDocument(document) || !runFor(path)) return;
      const text = document.getText();
      const parsed = parseConfigText(text, basename(path));
      const kind =
        reason === undefined || reason === vscode.TextDocumentSaveReason.Manual ? "explicit" : "auto";
      applier.saved(path, kind, text, parsed.ok ? undefined : parsed.reason);
    }),
  ];
}

async function applyAndShow(s: Services, run: LiveRun, text: string, options: { auto?: boolean } = {}) {
  const result = await applyConfigToRun(run, text, readSettings().commandTimeoutMs);
  // An auto-save that changes nothing the run uses is not news.
  const diff = result.diff;
  const nothing = result.level === "info" && !diff?.strategy && !diff?.hyperparameters;
  if (options.auto && nothing) return result;
  s.log.info(`[${run.label}] apply config${options.auto ? " (auto-saved)" : ""}: ${result.text}`);
  s.onApplied(run, result);
  showApplyResult(run, result);
  return result;
}
