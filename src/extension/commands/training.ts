import { basename } from "node:path";
import * as vscode from "vscode";
import type { StrategyInfo } from "../../protocol/messages";
import { isConfigDocument } from "../config/diagnostics";
import { applyConfigToRun, showApplyResult } from "../config/liveApply";
import type { CommandBody } from "../runs/connection";
import type { LiveRun } from "../runs/liveRun";
import type { Services } from "../services";
import { readSettings } from "../settings";
import { formatParam, isOptionalParam, paramEntries, parseParam } from "./paramInput";
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

    // Saving a config whose run is live applies what can change mid-run.
    vscode.workspace.onDidSaveTextDocument((document) => {
      if (!isConfigDocument(document) || !readSettings(document.uri).applyOnSave) return;
      const run = registry.forConfig(document.uri.fsPath);
      if (run?.canCommand) void applyAndShow(s, run, document.getText());
    }),
  ];
}

async function applyAndShow(s: Services, run: LiveRun, text: string) {
  const result = await applyConfigToRun(run, text, readSettings().commandTimeoutMs);
  s.log.info(`[${run.label}] apply config: ${result.text}`);
  s.onApplied(run, result);
  showApplyResult(run, result);
  return result;
}

/** A config of the workspace, "new" for the template flow, undefined for the quick run, null if cancelled. */
async function pickConfig(): Promise<vscode.Uri | "new" | undefined | null> {
  if (!vscode.workspace.workspaceFolders?.length) return undefined; // no workspace: quick run
  const active = vscode.window.activeTextEditor?.document;
  const files = await vscode.workspace.findFiles(
    "**/*.gradcraft.json",
    "**/{node_modules,.gradcraft}/**",
    200,
  );
  files.sort((a, b) =>
    a.toString() === active?.uri.toString()
      ? -1
      : b.toString() === active?.uri.toString()
        ? 1
        : a.fsPath.localeCompare(b.fsPath),
  );
  type Item = vscode.QuickPickItem & { value: vscode.Uri | "new" | undefined };
  const items: Item[] = files.map((uri) => ({
    label: `$(file) ${basename(uri.fsPath)}`,
    description: vscode.workspace.asRelativePath(uri),
    value: uri,
  }));
  if (items.length > 0) items.push({ label: "", kind: vscode.QuickPickItemKind.Separator, value: undefined });
  items.push(
    { label: "$(add) New config from a template...", value: "new" },
    {
      label: "$(zap) Quick run on synthetic data",
      description: "no config file: the embedded quick preset",
      value: undefined,
    },
  );
  const picked = await vscode.window.showQuickPick(items, {
    title: "GradCraft: Start Training",
    placeHolder: "Pick a training config",
  });
  return picked ? picked.value : null;
}

/** The strategy from the trainer's hello, then (optionally) its parameters, validated as typed. */
async function pickStrategy(
  run: LiveRun,
): Promise<{ name: string; params: Record<string, unknown> } | undefined> {
  const strategies = run.hello?.strategies ?? [];
  if (strategies.length === 0) {
    void vscode.window.showWarningMessage("GradCraft: the trainer has not announced its strategies yet.");
    return undefined;
  }
  const current = run.model.strategy;
  const picked = await vscode.window.showQuickPick(
    strategies.map((info) => ({
      label: info.title,
      description: info.name === run.strategy ? `${info.name} (running)` : info.name,
      detail: info.summary,
      info,
    })),
    { title: `GradCraft: strategy for ${run.label}`, matchOnDescription: true, matchOnDetail: true },
  );
  if (!picked) return undefined;
  const info: StrategyInfo = picked.info;
  const start = { ...info.defaults, ...(current?.name === info.name ? current.params : {}) };
  const entries = paramEntries(info.paramsSchema);
  if (entries.length === 0) return { name: info.name, params: {} };
  const summary =
    entries
      .filter(([key]) => start[key] !== undefined)
      .map(([key]) => `${key}=${formatParam(start[key])}`)
      .join(", ") || "the defaults";
  const mode = await vscode.window.showQuickPick(
    [
      { label: `$(check) Use ${summary}`, edit: false },
      { label: "$(edit) Edit parameters...", edit: true },
    ],
    { title: `GradCraft: ${info.title} parameters` },
  );
  if (!mode) return undefined;
  if (!mode.edit) return { name: info.name, params: start };
  const params: Record<string, unknown> = {};
  for (const [key, schema] of entries) {
    const optional = isOptionalParam(info.paramsSchema, key, schema);
    let value: unknown;
    if (schema.enum || schema.type === "boolean") {
      const options = schema.enum ?? [true, false];
      const choice = await vscode.window.showQuickPick(
        options.map((option) => ({ label: formatParam(option), option, picked: option === start[key] })),
        { title: `${info.title}: ${key}`, placeHolder: schema.description },
      );
      if (!choice) return undefined;
      value = choice.option;
    } else {
      const text = await vscode.window.showInputBox({
        title: `${info.title}: ${key}`,
        prompt: schema.description,
        value: formatParam(start[key]),
        validateInput: (input) => {
          const result = parseParam(key, schema, input, optional);
          return result.ok ? undefined : result.message;
        },
      });
      if (text === undefined) return undefined;
      const result = parseParam(key, schema, text, optional);
      if (!result.ok) return undefined;
      value = result.value;
    }
    if (value !== undefined) params[key] = value;
  }
  return { name: info.name, params };
}
