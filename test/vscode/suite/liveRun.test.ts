// A live run driven through the extension's commands, checked where the truth is: the run folder
// (events.ndjson is the trainer's own record of every step), the trainer process, and the test API
// the extension returns from activate() under GRADCRAFT_TEST=1 (src/extension/testApi.ts).
import * as assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import * as vscode from "vscode";
import type { GradCraftTestApi } from "../../../src/extension/testApi";
import type { AckMessage, TrainerMessage } from "../../../src/protocol/messages";
import { EventLogTail } from "../eventLogTail";
import { descendants, extension, trainerProcesses, waitFor, workspaceFolder } from "./util";

const CONFIG = "tiny.gradcraft.json";

const ofType = <T extends TrainerMessage["type"]>(log: TrainerMessage[], type: T) =>
  log.filter((m): m is Extract<TrainerMessage, { type: T }> => m.type === type);

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("a live run", () => {
  let api: GradCraftTestApi;
  let runId: string | undefined;
  let eventLog: EventLogTail<TrainerMessage> | undefined;
  /** The run trained in a terminal by "Open Run replays a finished run". */
  let replayDir: string | undefined;

  const live = () => {
    if (!runId || !eventLog) throw new Error("no live run: Start Training did not produce one (see above)");
    const run = api.run(runId);
    if (!run) throw new Error(`run ${runId} is not in the registry`);
    return { run, log: eventLog };
  };

  before(async () => {
    api = (await extension().activate()) as GradCraftTestApi;
    assert.ok(api, "activate() returned no test API: GRADCRAFT_TEST=1 did not reach the extension host");
  });

  /** What the registry knows of the run: for failure messages. */
  const describeRun = () => JSON.stringify(runId ? api.run(runId) : api.runs());

  after(async () => {
    // Whatever failed above, no trainer outlives the suite.
    for (const run of api?.runs() ?? []) {
      if (["starting", "running", "paused"].includes(run.state)) {
        await vscode.commands.executeCommand("gradcraft.stop", run.id).then(undefined, () => undefined);
      }
    }
    // The run folders go to the artifacts, for a look after a failure.
    const keep = process.env.GRADCRAFT_TEST_ARTIFACTS;
    for (const run of api?.runs() ?? []) {
      if (keep && run.runDir && existsSync(run.runDir)) {
        cpSync(run.runDir, join(keep, basename(run.runDir)), { recursive: true });
      }
    }
  });

  it("Start Training from the palette, with the workspace's only config open, starts it without a question", async () => {
    const config = vscode.Uri.file(join(workspaceFolder().uri.fsPath, CONFIG));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(config));
    // No argument, as from the palette: a picker would leave the command waiting.
    const started = vscode.commands.executeCommand<string | undefined>("gradcraft.startTraining");
    const id = await Promise.race([
      started,
      new Promise<"asked">((resolve) => setTimeout(() => resolve("asked"), 30_000)),
    ]);
    if (id === "asked") {
      await vscode.commands.executeCommand("workbench.action.closeQuickOpen");
      assert.fail("Start Training asked which config although the only one was open");
    }
    assert.equal(typeof id, "string", `gradcraft.startTraining returned ${JSON.stringify(id)}, not a run id`);
    runId = id;
    await api.waitFor(() => (api.run(id!)?.step ?? 0) >= 3, 120_000, "the run's third step");
    // Runs of one config are told apart: the run is named by its strategy and a short id.
    assert.match(api.run(id!)!.label, /^gradcraft-[0-9a-z]{4}$/, "the live run has no name of its own");
    await waitFor("its dashboard tab to carry that name", () =>
      api.panelTitles().includes(`GradCraft: ${api.run(id!)!.label}`),
    );
    const run = api.run(id!)!;
    assert.equal(run.state, "running", describeRun());
    assert.ok(run.runDir && existsSync(run.runDir), `run folder ${run.runDir} does not exist`);

    const inRuns = relative(api.runsFolder(), run.runDir);
    assert.ok(
      !inRuns.startsWith(".."),
      `run folder ${run.runDir} is outside the runs folder ${api.runsFolder()}`,
    );
    assert.ok(existsSync(join(run.runDir, "config.json")), "the run folder has no config.json");
    assert.ok(run.eventsPath && existsSync(run.eventsPath), "the run folder has no events.ndjson");
    eventLog = new EventLogTail<TrainerMessage>(run.eventsPath);
    const log = eventLog.read();
    assert.equal(log[0]?.type, "hello", "the event log does not start with hello");
    assert.ok(ofType(log, "step").length >= 1, "no step in the event log");
    // The trainer is a real child process of this extension host.
    assert.ok(run.pid, "the run has no trainer pid");
    assert.ok(
      trainerProcesses().some((p) => p.pid === run.pid),
      `trainer pid ${run.pid} is not among the trainer processes; this host (${process.pid}) has: ${JSON.stringify(descendants())}; run: ${describeRun()}`,
    );
    assert.match(api.statusBarText(), /\d/, `the status bar shows no step: "${api.statusBarText()}"`);
  });

  it("Switch Strategy is acknowledged and appears in the event log at the right step", async () => {
    const { run, log: eventLog } = live();
    const from = run.strategy;
    const to =
      run.strategies.includes("pcgrad") && from !== "pcgrad"
        ? "pcgrad"
        : run.strategies.find((s) => s !== from);
    assert.ok(to, `the trainer announced no other strategy than ${from}: ${run.strategies}`);
    const ack = await vscode.commands.executeCommand<AckMessage | undefined>(
      "gradcraft.switchStrategy",
      runId,
      {
        name: to,
        params: {},
      },
    );
    assert.ok(ack, `gradcraft.switchStrategy returned no ack; run: ${describeRun()}`);
    assert.equal(ack.ok, true, `the switch was refused: ${ack.error}`);
    const at = ack.step;
    // The log holds the steps after the switch once the trainer has taken two more.
    const log = await waitFor(
      "two steps after the switch in the event log",
      () => {
        const now = eventLog.read();
        return ofType(now, "step").filter((m) => m.step > at).length >= 2 ? now : undefined;
      },
      { timeoutMs: 60_000 },
    );
    assert.ok(
      ofType(log, "ack").some((m) => m.id === ack.id && m.ok && m.step === at),
      `the event log has no ack ${ack.id} at step ${at}`,
    );
    const changed = ofType(log, "strategy-changed").filter((m) => m.reason === "command" && m.name === to);
    assert.equal(changed.length, 1, `expected one strategy-changed to ${to}, got ${JSON.stringify(changed)}`);
    assert.equal(changed[0].step, at, "strategy-changed is not at the acknowledged step");
    assert.equal(changed[0].previous?.name, from);
    for (const step of ofType(log, "step")) {
      const expected: string = step.step <= at ? from : to;
      assert.equal(step.strategy, expected, `step ${step.step} used ${step.strategy}, expected ${expected}`);
    }
    await waitFor("the registry to show the new strategy", () => api.run(runId!)?.strategy === to);
  });

  it("the strategy picker opens on the running strategy", async () => {
    const { run } = live();
    const running = run.strategy;
    // Accept whatever each picker opens on (the strategy, then "Use <its parameters>").
    const command = Promise.resolve(
      vscode.commands.executeCommand<AckMessage | undefined>("gradcraft.switchStrategy", runId),
    );
    let done = false;
    void command.finally(() => {
      done = true;
    });
    const deadline = Date.now() + 30_000;
    while (!done && Date.now() < deadline) {
      await vscode.commands.executeCommand("workbench.action.acceptSelectedQuickOpenItem");
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.ok(done, "the pickers did not close on accepting their first choice");
    const ack = await command;
    assert.ok(ack?.ok, `the switch was not acknowledged: ${JSON.stringify(ack)}`);
    const changed = await waitFor("the switch in the event log", () =>
      ofType(live().log.read(), "strategy-changed").find((m) => m.commandId === ack.id),
    );
    assert.equal(changed.name, running, `accepting the picker switched to ${changed.name}`);
  });

  it("saving a changed learning rate in the config applies it to the live run", async () => {
    const { log: eventLog } = live();
    const uri = vscode.Uri.file(join(workspaceFolder().uri.fsPath, CONFIG));
    const document = await vscode.workspace.openTextDocument(uri);
    const text = document.getText();
    const match = /"learningRate":\s*([0-9.eE+-]+)/.exec(text);
    assert.ok(match, `${CONFIG} has no learningRate`);
    const before = Number(match[1]);
    const after = before * 2;
    const start = document.positionAt(match.index + match[0].length - match[1].length);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, new vscode.Range(start, start.translate(0, match[1].length)), String(after));
    assert.ok(await vscode.workspace.applyEdit(edit), "the edit was not applied");
    const stepsBefore = ofType(eventLog.read(), "step").length;
    assert.ok(await document.save(), `the config did not save (dirty: ${document.isDirty})`);

    const changed = await waitFor(
      "a hyper-changed learningRate in the event log",
      () =>
        ofType(eventLog.read(), "hyper-changed").find((m) =>
          m.changes.some((c) => c.name === "learningRate" && c.to === after),
        ),
      { timeoutMs: 60_000 },
    );
    assert.deepEqual(
      changed.changes.find((c) => c.name === "learningRate"),
      { name: "learningRate", from: before, to: after },
    );
    const log = await waitFor(
      "a step with the new learning rate",
      () => {
        const now = eventLog.read();
        return ofType(now, "step").some((m) => m.step > changed.step) ? now : undefined;
      },
      { timeoutMs: 60_000 },
    );
    for (const step of ofType(log, "step").slice(stepsBefore)) {
      const expected = step.step <= changed.step ? before : after;
      assert.equal(step.learningRate, expected, `step ${step.step} trained with ${step.learningRate}`);
    }
    await waitFor(
      "the run to report the new learning rate",
      () => api.run(runId!)?.hyperparameters.learningRate === after,
    );
    assert.equal(api.lastApply()?.runId, runId, "the save was not applied to this run");
    // Only the learning rate changed in the file: the strategy switched to above stays.
    const switches = ofType(eventLog.read(), "strategy-changed");
    assert.equal(switches.at(-1)?.reason, "command", "saving the config changed the strategy");
    assert.equal(api.run(runId!)?.strategy, switches.at(-1)?.name);
  });

  it("the config's Apply CodeLens names the run and a current step", async () => {
    const uri = vscode.Uri.file(join(workspaceFolder().uri.fsPath, CONFIG));
    const lensStep = async () => {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        "vscode.executeCodeLensProvider",
        uri,
      );
      const title = lenses.map((l) => l.command?.title ?? "").find((t) => t.includes("Apply to running run"));
      assert.ok(title, `no Apply lens: ${lenses.map((l) => l.command?.title)}`);
      assert.ok(title.includes(live().run.label), `the lens does not name the run: ${title}`);
      return Number(/step (\d+)/.exec(title)?.[1]);
    };
    const first = await lensStep();
    await waitFor("the run to take five more steps", () => (api.run(runId!)?.step ?? 0) >= first + 5, {
      timeoutMs: 60_000,
    });
    await waitFor("the lens to follow the run's step", async () => (await lensStep()) >= first + 5, {
      timeoutMs: 10_000,
    });
  });

  it("under auto-save, a learning rate typed slowly is applied once, as its final value, with no error shown", async () => {
    const { log: eventLog } = live();
    const files = vscode.workspace.getConfiguration("files");
    await files.update("autoSaveDelay", 100, vscode.ConfigurationTarget.Global);
    await files.update("autoSave", "afterDelay", vscode.ConfigurationTarget.Global);
    try {
      const uri = vscode.Uri.file(join(workspaceFolder().uri.fsPath, CONFIG));
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document);
      const appliesBefore = api.applies().length;
      const changesBefore = ofType(eventLog.read(), "hyper-changed").length;
      const value = () => /"learningRate":\s*([^,\n}]*)/.exec(document.getText());
      const before = Number(value()?.[1]);
      const final = before * 3;
      // What a slow typist leaves for auto-save: no value (not JSON), 0 (too small), then the rate.
      for (const typed of ["", "0", String(final)]) {
        const match = value();
        assert.ok(match, `${CONFIG} has no learningRate`);
        const start = document.positionAt(match.index + match[0].length - match[1].length);
        const edit = new vscode.WorkspaceEdit();
        edit.replace(uri, new vscode.Range(start, start.translate(0, match[1].length)), typed);
        assert.ok(await vscode.workspace.applyEdit(edit), "the edit was not applied");
        await waitFor(`auto-save of "${typed}"`, () => !document.isDirty, { timeoutMs: 10_000 });
        await new Promise((resolve) => setTimeout(resolve, 300)); // a typist's pause, under the idle time
      }
      const changed = await waitFor(
        "a hyper-changed to the final learning rate",
        () =>
          ofType(eventLog.read(), "hyper-changed").find((m) =>
            m.changes.some((c) => c.name === "learningRate" && c.to === final),
          ),
        { timeoutMs: 30_000 },
      );
      assert.equal(changed.changes.find((c) => c.name === "learningRate")?.from, before);
      // The host records the apply once the trainer's ack is back, just after the log has it.
      const applied = await waitFor("the apply's report", () => {
        const now = api.applies().slice(appliesBefore);
        return now.length > 0 ? now : undefined;
      });
      assert.deepEqual(
        applied.map((a) => a.result.level),
        ["info"],
        `expected one quiet apply, got ${JSON.stringify(applied.map((a) => a.result.text))}`,
      );
      assert.equal(ofType(eventLog.read(), "hyper-changed").length, changesBefore + 1);
    } finally {
      await files.update("autoSave", undefined, vscode.ConfigurationTarget.Global);
      await files.update("autoSaveDelay", undefined, vscode.ConfigurationTarget.Global);
    }
  });

  it("Stop ends the run gracefully (done, summary, exit status) and leaves no trainer process behind", async () => {
    const { run, log: eventLog } = live();
    const pid = run.pid!;
    assert.ok(processAlive(pid), `the trainer died before Stop; run: ${describeRun()}`);
    const how = await vscode.commands.executeCommand<string | undefined>("gradcraft.stop", runId);
    // The stop command, or else SIGTERM (on which the trainer still checkpoints and writes its
    // summary and done): never SIGKILL, which loses the steps since the last checkpoint.
    assert.ok(how === "graceful" || how === "sigterm", `gradcraft.stop returned ${how}`);
    await waitFor("the trainer process to exit", () => !processAlive(pid), { timeoutMs: 30_000 });
    await waitFor(
      "the run to leave the live state",
      () => !["running", "stopping"].includes(api.run(runId!)!.state),
    );
    assert.deepEqual(api.trainerPids(), [], "the extension still tracks live trainer pids");
    assert.deepEqual(trainerProcesses(), [], "trainer processes remain");

    const ended = api.run(runId!)!;
    const last = eventLog.read().at(-1);
    assert.equal(last?.type, "done", `the event log ends with ${JSON.stringify(last)}, not done (${how})`);
    assert.equal(String(last.reason), how === "graceful" ? "stopped" : "interrupted");
    const summaryPath = join(ended.runDir!, "summary.json");
    assert.ok(existsSync(summaryPath), "the stopped run has no summary.json");
    const summary = JSON.parse(readFileSync(summaryPath, "utf8")) as { steps: number };
    assert.equal(summary.steps, last.summary.steps, "summary.json and done disagree on the steps");
    // 143: the conventional exit status after SIGTERM (128 + 15).
    assert.deepEqual(
      [ended.exitCode, ended.exitSignal],
      how === "graceful" ? [0, null] : [143, null],
      `the trainer's exit after ${how}`,
    );
  });

  it("Open Run replays a finished run from its folder (a run trained in a terminal)", async () => {
    // A run this window never saw: only its folder can tell the dashboard what happened.
    const folder = workspaceFolder().uri.fsPath;
    const tiny = JSON.parse(readFileSync(join(folder, CONFIG), "utf8"));
    const config = join(folder, "replay.gradcraft.json");
    writeFileSync(
      config,
      JSON.stringify({
        ...tiny,
        name: "replay",
        training: { ...tiny.training, maxSteps: 25, evalEvery: 10 },
      }),
    );
    const runsFolder = api.runsFolder();
    const before = new Set(existsSync(runsFolder) ? readdirSync(runsFolder) : []);
    const cli = join(extension().extensionPath, "dist", "cli.js");
    // process.execPath is Node in code-server and Electron on the desktop: run it as Node.
    const trainer = spawn(process.execPath, [cli, "train", config, "--out", runsFolder], {
      env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    trainer.stderr.on("data", (chunk) => {
      stderr = (stderr + chunk).slice(-4000);
    });
    const code = await new Promise<number | null>((resolve, reject) => {
      trainer.on("error", reject);
      trainer.on("exit", resolve);
    });
    assert.equal(code, 0, `the terminal run failed:\n${stderr}`);
    const created = readdirSync(runsFolder).filter((name) => !before.has(name) && name.endsWith("-replay"));
    assert.equal(created.length, 1, `expected one new run folder, got ${created}`);
    const dir = join(runsFolder, created[0]);
    replayDir = dir;

    await vscode.commands.executeCommand("gradcraft.refreshRuns");
    await waitFor(
      "the terminal run among the finished runs",
      () => api.finishedRuns().some((r) => r.dir === dir),
      {
        timeoutMs: 30_000,
      },
    );
    const sentBefore = api.panelTraffic().length;
    await vscode.commands.executeCommand("gradcraft.openRun", dir);
    await waitFor("a dashboard on the replayed run", () => api.dashboards().includes(dir), {
      timeoutMs: 30_000,
    });
    // The panel asked for its data (ready) and got the history read back from events.ndjson.
    await waitFor(
      "the replayed snapshot sent to the dashboard",
      () =>
        api
          .panelTraffic()
          .slice(sentBefore)
          .some((m) => m.direction === "out" && m.surface === "dashboard" && m.type === "snapshot"),
      { timeoutMs: 30_000 },
    );
    assert.ok(!api.runs().some((r) => r.runDir === dir), "the replayed run was registered as a live run");
    assert.deepEqual(trainerProcesses(), [], "opening a finished run started a trainer");
  });
  it("Compare Runs on two run folders opens one panel that gets both runs", async () => {
    const stopped = runId ? api.run(runId)?.runDir : undefined;
    assert.ok(stopped && replayDir, "needs the stopped run and the terminal run of the tests above");
    const lastStep = (dir: string) =>
      Math.max(
        ...ofType(new EventLogTail<TrainerMessage>(join(dir, "events.ndjson")).read(), "step").map(
          (m) => m.step,
        ),
      );
    // Named by the user: the name, tags and note go to the run folder, and every view follows.
    assert.equal(
      await vscode.commands.executeCommand("gradcraft.renameRun", stopped, "baseline lr x3"),
      true,
    );
    assert.equal(
      await vscode.commands.executeCommand("gradcraft.editRunTags", stopped, ["sweep", "tiny"]),
      true,
    );
    assert.equal(
      await vscode.commands.executeCommand("gradcraft.editRunNote", stopped, "lr tripled by hand"),
      true,
    );
    assert.deepEqual(JSON.parse(readFileSync(join(stopped, "run.json"), "utf8")), {
      name: "baseline lr x3",
      tags: ["sweep", "tiny"],
      note: "lr tripled by hand",
    });
    const listed = await waitFor("the Runs view to list the new name", () =>
      api.finishedRuns().find((r) => r.dir === stopped && r.identity.name === "baseline lr x3"),
    );
    assert.deepEqual(listed.identity.tags, ["sweep", "tiny"]);
    const replayName = api.finishedRuns().find((r) => r.dir === replayDir)?.identity.name;
    assert.match(replayName ?? "", /^gradcraft-[0-9a-z]{4}$/, "the terminal run has no automatic name");
    await vscode.commands.executeCommand("gradcraft.openDashboard", stopped);
    await waitFor("the dashboard tab to carry the new name", () =>
      api.panelTitles().includes("GradCraft: baseline lr x3"),
    );

    const before = api.lastCompare()?.at ?? 0;
    const ids = await vscode.commands.executeCommand<string[] | undefined>("gradcraft.compareRuns", [
      stopped,
      replayDir,
    ]);
    // Finished runs are read back from their folders: the folder is the id.
    assert.deepEqual(ids, [stopped, replayDir], "gradcraft.compareRuns did not open both folders");
    // The panel loaded and asked for its data (ready); the host answered with both runs.
    const shown = await waitFor(
      "the compare panel to receive both runs",
      () => {
        const last = api.lastCompare();
        return last && last.at > before ? last : undefined;
      },
      { timeoutMs: 30_000 },
    );
    assert.deepEqual(shown.runIds, [stopped, replayDir]);
    assert.deepEqual(shown.labels, ["baseline lr x3", replayName]);
    assert.ok(api.panelTitles().includes(`Compare: baseline lr x3 · ${replayName}`), `${api.panelTitles()}`);
    assert.deepEqual(shown.steps, [lastStep(stopped), lastStep(replayDir)], "a run's history is cut short");
    assert.deepEqual(trainerProcesses(), [], "comparing finished runs started a trainer");
  });

  it("a resumed run continues in its existing tab, with the steps before the resume", async () => {
    const stopped = runId ? api.run(runId)?.runDir : undefined;
    assert.ok(stopped, "needs the stopped run of the tests above");
    const before = lastStepOf(stopped);
    await vscode.commands.executeCommand("gradcraft.openDashboard", stopped);
    const tabs = () => api.panelTitles().filter((t) => t === "GradCraft: baseline lr x3").length;
    await waitFor("the finished run's tab", () => tabs() === 1);
    const id = await vscode.commands.executeCommand<string | undefined>("gradcraft.resumeRun", stopped);
    assert.ok(id, "Resume Run returned no run id");
    try {
      await api.waitFor(() => (api.run(id)?.step ?? 0) > before, 120_000, "a step after the resume");
      assert.equal(api.run(id)?.label, "baseline lr x3", "the resumed run lost its name");
      assert.equal(tabs(), 1, `one tab for the run, got ${JSON.stringify(api.panelTitles())}`);
      assert.ok(api.dashboards().includes(id), "the tab does not follow the resumed run");
      // The panel's model holds the run from its first step, not only the steps after the resume.
      assert.ok(
        (api.run(id)?.firstModelStep ?? Number.POSITIVE_INFINITY) <= 1,
        `${JSON.stringify(api.run(id))}`,
      );
    } finally {
      await vscode.commands.executeCommand("gradcraft.stop", id);
    }
  });
});

function lastStepOf(dir: string): number {
  return Math.max(
    ...ofType(new EventLogTail<TrainerMessage>(join(dir, "events.ndjson")).read(), "step").map((m) => m.step),
  );
}
