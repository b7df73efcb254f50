// A run's end as the workbench shows it: the notification (and its buttons), and what deleting a
// run does to the views that show it (its dashboard tab, the compare tab, the Conflicts view).
// The notification and the delete confirmation are answered by replacing the window's message
// functions for the test: the extension calls the same `vscode.window` the suite sees.
import * as assert from "node:assert/strict";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import type { GradCraftTestApi } from "../../../src/extension/testApi";
import { automaticRunName } from "../../../src/protocol/runIdentity";
import { extension, trainerProcesses, waitFor, workspaceFolder } from "./util";

type Show = (message: string, ...items: unknown[]) => Thenable<unknown>;
type ShowName = "showInformationMessage" | "showWarningMessage" | "showErrorMessage";

/** Answers `name`'s messages with `answer` (undefined: like dismissing it) until restored. */
function answerMessages(
  name: ShowName,
  answer: (message: string, items: string[]) => Promise<string | undefined>,
) {
  const window = vscode.window as unknown as Record<ShowName, Show>;
  const original = window[name];
  const seen: Array<{ message: string; items: string[] }> = [];
  window[name] = (message, ...rest) => {
    const items = rest.filter((i): i is string => typeof i === "string");
    seen.push({ message, items });
    return answer(message, items);
  };
  return {
    seen,
    restore: () => {
      window[name] = original;
    },
  };
}

/** The labels of the editor tabs that hold GradCraft webviews. */
function gradcraftTabs(): string[] {
  return vscode.window.tabGroups.all
    .flatMap((group) => group.tabs)
    .filter((tab) => tab.input instanceof vscode.TabInputWebview && tab.input.viewType.includes("gradcraft"))
    .map((tab) => tab.label);
}

/** A notification about the run of the first test: it names the run, `GradCraft: "gradcraft-k3f9" ...`. */
const NAMED = /^GradCraft: "gradcraft-[0-9a-z]{4}"/;

describe("a run's end in the workbench", () => {
  let api: GradCraftTestApi;
  /** The run folder of the completed run of the first test. */
  let finished: string | undefined;

  before(async () => {
    api = (await extension().activate()) as GradCraftTestApi;
  });

  it("a completed run notifies with Open Dashboard and Show Log; Open Dashboard opens its dashboard", async () => {
    const folder = workspaceFolder().uri.fsPath;
    const tiny = JSON.parse(readFileSync(join(folder, "tiny.gradcraft.json"), "utf8"));
    const config = join(folder, "ends.gradcraft.json");
    writeFileSync(
      config,
      JSON.stringify({ ...tiny, name: "ends", training: { ...tiny.training, maxSteps: 15, evalEvery: 5 } }),
    );
    let clicked = false;
    const notices = answerMessages("showInformationMessage", async (message, items) => {
      // The run is named by its identity (its strategy and a short id), not its config's name.
      if (!NAMED.test(message) || !items.includes("Open Dashboard")) return undefined;
      // The dashboard opened at the start is closed first: the button has to open it again.
      await vscode.commands.executeCommand("workbench.action.closeAllEditors");
      clicked = true;
      return "Open Dashboard";
    });
    try {
      const id = await vscode.commands.executeCommand<string>(
        "gradcraft.startTraining",
        vscode.Uri.file(config),
      );
      assert.equal(typeof id, "string", "Start Training returned no run id");
      await waitFor("the run to end", () => api.run(id)?.state === "finished", { timeoutMs: 180_000 });
      await waitFor("the end's notification, answered with Open Dashboard", () => clicked, {
        timeoutMs: 10_000,
      });
      const name = api.run(id)?.label ?? "?";
      const notice = notices.seen.find((n) => n.message.startsWith(`GradCraft: "${name}"`));
      assert.ok(notice, `no notification for the run's end; seen: ${JSON.stringify(notices.seen)}`);
      assert.match(
        notice.message,
        /^GradCraft: "gradcraft-[0-9a-z]{4}" completed 15 steps\. Validation mean AUC \d\.\d{4}/,
      );
      assert.deepEqual(notice.items, ["Open Dashboard", "Show Log"]);
      finished = api.run(id)?.runDir;
      assert.ok(finished, "the run has no folder");
      await waitFor("the dashboard opened by the notification's button", () =>
        gradcraftTabs().includes(`GradCraft: ${name}`),
      );
    } finally {
      notices.restore();
    }
    assert.deepEqual(trainerProcesses(), [], "a trainer outlived its run");
  });

  it("deleting a run closes its dashboard, takes it out of the compare tab, and the Conflicts view lets go of it", async () => {
    assert.ok(finished, "needs the completed run of the test above");
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    // Three finished runs: the completed one and two copies of its folder.
    const [a, b, c] = ["a", "b", "c"].map((suffix) => {
      const dir = `${finished}-${suffix}`;
      cpSync(finished!, dir, { recursive: true });
      return dir;
    });
    await vscode.commands.executeCommand("gradcraft.refreshRuns");
    await vscode.commands.executeCommand("gradcraft.openRun", a);
    await waitFor("a's dashboard", () => api.dashboards().includes(a));
    assert.equal(api.conflictsView().runId, a, "the Conflicts view does not follow the opened run");
    const before = api.lastCompare()?.at ?? 0;
    await vscode.commands.executeCommand("gradcraft.compareRuns", [a, b, c]);
    await waitFor("the compare panel with three runs", () => (api.lastCompare()?.at ?? 0) > before);
    const [na, nb, nc] = [a, b, c].map((dir) => automaticRunName("gradcraft", dir));
    assert.deepEqual(gradcraftTabs().sort(), [`Compare: ${na} · ${nb} · ${nc}`, `GradCraft: ${na}`]);

    const confirm = answerMessages("showWarningMessage", async (_message, items) =>
      items.includes("Delete") ? "Delete" : undefined,
    );
    try {
      const refreshed = api.lastCompare()?.at ?? 0;
      assert.equal(await vscode.commands.executeCommand("gradcraft.deleteRun", a), true, "a was not deleted");
      assert.ok(!existsSync(a), "a's folder is still there");
      await waitFor("a's dashboard tab to close", () => !gradcraftTabs().includes(`GradCraft: ${na}`));
      assert.ok(!api.dashboards().includes(a), "a dashboard still shows the deleted run");
      assert.equal(api.conflictsView().runId, undefined, "the Conflicts view still shows the deleted run");
      const compare = await waitFor("the compare tab to get the two runs left", () => {
        const last = api.lastCompare();
        return last && last.at > refreshed ? last : undefined;
      });
      assert.deepEqual(compare.runIds, [b, c]);
      assert.deepEqual(gradcraftTabs(), [`Compare: ${nb} · ${nc}`]);

      assert.equal(await vscode.commands.executeCommand("gradcraft.deleteRun", b), true, "b was not deleted");
      await waitFor("the compare tab to close with one run left", () => gradcraftTabs().length === 0);
    } finally {
      confirm.restore();
    }
    assert.ok(existsSync(c), "a run that was not deleted is gone");
  });
});
