import { basename } from "node:path";
import * as vscode from "vscode";
import type { StrategyInfo } from "../../protocol/messages";
import type { LiveRun } from "../runs/liveRun";
import { configChoice, isTaskParam, strategyChoices, taskChoices } from "./choices";
import { formatParam, isOptionalParam, paramEntries, parseParam } from "./paramInput";

/**
 * A config of the workspace, "new" for the template flow, undefined for the quick run, null if
 * cancelled. With the workspace's only config open, that one, without a question.
 */
export async function pickConfig(): Promise<vscode.Uri | "new" | undefined | null> {
  if (!vscode.workspace.workspaceFolders?.length) return undefined; // no workspace: quick run
  const active = vscode.window.activeTextEditor?.document;
  const found = await vscode.workspace.findFiles(
    "**/*.gradcraft.json",
    "**/{node_modules,.gradcraft}/**",
    200,
  );
  const activePath = active?.uri.scheme === "file" ? active.uri.fsPath : undefined;
  const choice = configChoice(
    found.map((uri) => uri.fsPath),
    activePath,
  );
  if ("start" in choice) return vscode.Uri.file(choice.start);
  type Item = vscode.QuickPickItem & { value: vscode.Uri | "new" | undefined };
  const items: Item[] = choice.ask.map((path) => {
    const uri = vscode.Uri.file(path);
    return {
      label: `$(file) ${basename(path)}`,
      description: vscode.workspace.asRelativePath(uri),
      value: uri,
    };
  });
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

/** One item picked from a list that opens on `active`; undefined when dismissed. */
function pickStartingAt<T extends vscode.QuickPickItem>(
  items: T[],
  active: T | undefined,
  options: { title: string; placeholder?: string },
): Promise<T | undefined> {
  return new Promise((resolve) => {
    const pick = vscode.window.createQuickPick<T>();
    pick.title = options.title;
    pick.placeholder = options.placeholder;
    pick.matchOnDescription = true;
    pick.matchOnDetail = true;
    pick.items = items;
    if (active) pick.activeItems = [active];
    let chosen: T | undefined;
    pick.onDidAccept(() => {
      chosen = pick.selectedItems[0] ?? pick.activeItems[0];
      pick.hide();
    });
    pick.onDidHide(() => {
      pick.dispose();
      resolve(chosen);
    });
    pick.show();
  });
}

/**
 * The strategy from the trainer's hello (the list opens on the running one), then (optionally)
 * its parameters, validated as typed; a parameter naming a task offers the run's task names.
 */
export async function pickStrategy(
  run: LiveRun,
): Promise<{ name: string; params: Record<string, unknown> } | undefined> {
  const strategies = run.hello?.strategies ?? [];
  if (strategies.length === 0) {
    void vscode.window.showWarningMessage("GradCraft: the trainer has not announced its strategies yet.");
    return undefined;
  }
  const current = run.model.strategy;
  const { items, active } = strategyChoices(strategies, run.strategy);
  const picked = await pickStartingAt(items, items[active], {
    title: `GradCraft: strategy for ${run.label}`,
  });
  if (!picked) return undefined;
  const info: StrategyInfo = picked.info;
  const start = { ...info.defaults, ...(current?.name === info.name ? current.params : {}) };
  const entries = paramEntries(info.paramsSchema);
  if (entries.length === 0) return { name: info.name, params: {} };
  const shown = (key: string, value: unknown) =>
    entries.some(([k, schema]) => k === key && isTaskParam(schema)) && typeof value === "number"
      ? (run.tasks[value] ?? formatParam(value))
      : formatParam(value);
  const summary =
    entries
      .filter(([key]) => start[key] !== undefined)
      .map(([key]) => `${key}=${shown(key, start[key])}`)
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
    if (isTaskParam(schema) && run.tasks.length > 0) {
      const choices = taskChoices(run.tasks, start[key]);
      const choice = await pickStartingAt(
        choices,
        choices.find((c) => c.picked),
        { title: `${info.title}: ${key}`, placeholder: schema.description },
      );
      if (!choice) return undefined;
      value = choice.index;
    } else if (schema.enum || schema.type === "boolean") {
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
