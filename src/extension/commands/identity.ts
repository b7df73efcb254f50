import * as vscode from "vscode";
import { readRunIdentity, updateRunIdentity } from "../../protocol/runIdentity";
import { readRunInfo } from "../../protocol/runlog";
import type { Services } from "../services";
import { liveRunFromArg, runDirFromArg } from "./pickRun";

/**
 * Rename, tag and annotate a run. What the user gives is stored in the run folder's run.json
 * (src/protocol/runIdentity.ts); every view that names the run then follows: the Runs view, the
 * run's dashboard tab, the Conflicts view, compare, exports and notifications.
 * Each command takes a Runs view item, a live run's id or a run folder; tests pass the new value
 * as the second argument, people type it.
 */
export function registerIdentityCommands(s: Services): vscode.Disposable[] {
  /** The run folder the argument names, with the identity it has now. */
  const target = async (arg: unknown) => {
    const live = liveRunFromArg(s.registry, arg);
    const runDir = live?.runDir ?? runDirFromArg(arg);
    if (!runDir) {
      void vscode.window.showInformationMessage("GradCraft: pick a run in the Runs view first.");
      return undefined;
    }
    const identity =
      live?.identity ?? (await readRunInfo(runDir))?.identity ?? (await readRunIdentity(runDir, null));
    return { runDir, identity };
  };

  const update = async (runDir: string, patch: Parameters<typeof updateRunIdentity>[1]) => {
    try {
      await updateRunIdentity(runDir, patch);
    } catch (error) {
      void vscode.window.showErrorMessage(`GradCraft: cannot update ${runDir}: ${(error as Error).message}`);
      return false;
    }
    await s.identityChanged(runDir);
    return true;
  };

  return [
    vscode.commands.registerCommand("gradcraft.renameRun", async (arg?: unknown, given?: unknown) => {
      const run = await target(arg);
      if (!run) return false;
      const name =
        typeof given === "string"
          ? given
          : await vscode.window.showInputBox({
              title: "GradCraft: rename run",
              prompt: "Empty: back to the automatic name (strategy and short id).",
              value: run.identity.automatic ? "" : run.identity.name,
              placeHolder: run.identity.name,
              validateInput: (text) => (text.trim().length > 120 ? "at most 120 characters" : undefined),
            });
      if (name === undefined) return false;
      return update(run.runDir, { name: name.trim() === "" ? null : name });
    }),

    vscode.commands.registerCommand("gradcraft.editRunTags", async (arg?: unknown, given?: unknown) => {
      const run = await target(arg);
      if (!run) return false;
      const text = Array.isArray(given)
        ? given.join(",")
        : await vscode.window.showInputBox({
            title: `GradCraft: tags of ${run.identity.name}`,
            prompt: "Comma-separated, e.g. baseline, lr-sweep. Empty: no tags.",
            value: run.identity.tags.join(", "),
            validateInput: (input) =>
              splitTags(input).some((t) => t.length > 40) ? "a tag has at most 40 characters" : undefined,
          });
      if (text === undefined) return false;
      return update(run.runDir, { tags: splitTags(text) });
    }),

    vscode.commands.registerCommand("gradcraft.editRunNote", async (arg?: unknown, given?: unknown) => {
      const run = await target(arg);
      if (!run) return false;
      const note =
        typeof given === "string"
          ? given
          : await vscode.window.showInputBox({
              title: `GradCraft: note on ${run.identity.name}`,
              prompt: "What this run is for, what you changed. Empty: no note.",
              value: run.identity.note,
            });
      if (note === undefined) return false;
      return update(run.runDir, { note });
    }),
  ];
}

/** "baseline, lr-sweep ,, #x" -> ["baseline", "lr-sweep", "x"] */
export function splitTags(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((t) => t.trim().replace(/^#/, ""))
    .filter(Boolean);
}
