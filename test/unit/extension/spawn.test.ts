import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, it } from "node:test";
import { resolveRunsFolder } from "../../../src/extension/runs/runsFolder";
import { planTrainerSpawn, type TrainerSettings } from "../../../src/extension/runs/spawn";
import { describeStop, stopProcess, stopTimeouts } from "../../../src/extension/runs/stopProcess";

const defaults: TrainerSettings = {
  nodePath: "",
  command: [],
  backend: "config",
  listen: false,
  extraArgs: [],
  python: "",
};
const host = {
  execPath: "/opt/editor/code",
  cliPath: "/ext/dist/cli.js",
  cwd: "/ws",
  env: { PATH: "/usr/bin", ELECTRON_RUN_AS_NODE: undefined, NODE_OPTIONS: "--inspect" },
};

describe("trainer spawn plan", () => {
  it("runs the bundled trainer with the editor's runtime as Node, no shell", () => {
    const plan = planTrainerSpawn(
      { configPath: "/ws/a b.gradcraft.json", runsFolder: "/ws/.gradcraft/runs" },
      defaults,
      host,
    );
    assert.equal(plan.command, "/opt/editor/code");
    assert.deepEqual(plan.args, [
      "/ext/dist/cli.js",
      "train",
      "/ws/a b.gradcraft.json",
      "--protocol",
      "stdio",
      "--out",
      "/ws/.gradcraft/runs",
    ]);
    assert.equal(plan.env.ELECTRON_RUN_AS_NODE, "1");
    assert.equal(plan.env.NODE_OPTIONS, undefined, "the host's debugger flags must not reach the trainer");
    assert.equal(plan.shell, false);
  });

  it("without a config it trains the embedded quick preset", () => {
    const plan = planTrainerSpawn({ runsFolder: "/r" }, defaults, host);
    assert.deepEqual(plan.args.slice(1), [
      "train",
      "--preset",
      "quick",
      "--protocol",
      "stdio",
      "--out",
      "/r",
    ]);
  });

  it("a resumed run brings its own config; backend and listen are passed on", () => {
    const plan = planTrainerSpawn(
      { runsFolder: "/r", resume: "/r/old" },
      { ...defaults, backend: "wasm", listen: true, nodePath: "/usr/bin/node" },
      host,
    );
    assert.equal(plan.command, "/usr/bin/node");
    assert.deepEqual(plan.args.slice(1), [
      "train",
      "--protocol",
      "stdio",
      "--out",
      "/r",
      "--backend",
      "wasm",
      "--resume",
      "/r/old",
      "--listen",
    ]);
    assert.equal(plan.env.ELECTRON_RUN_AS_NODE, undefined, "a real Node needs no Electron switch");
  });

  it("a custom trainer command gets its placeholders substituted, or the standard arguments appended", () => {
    const withPlaceholders = planTrainerSpawn(
      { configPath: "/ws/c.json", runsFolder: "/r" },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the setting's placeholders, not JS templates.
      { ...defaults, command: ["python3", "train.py", "--cfg=${config}", "--out", "${runsFolder}"] },
      host,
    );
    assert.equal(withPlaceholders.command, "python3");
    assert.deepEqual(withPlaceholders.args, ["train.py", "--cfg=/ws/c.json", "--out", "/r"]);
    const appended = planTrainerSpawn(
      { configPath: "/ws/c.json", runsFolder: "/r" },
      { ...defaults, command: ["mytrainer"] },
      host,
    );
    assert.deepEqual(appended.args, ["train", "/ws/c.json", "--protocol", "stdio", "--out", "/r"]);
  });
});

describe("a config that names its own trainer (a PyTorch script)", () => {
  const request = {
    configPath: "/ws/ex/minimal.gradcraft.json",
    runsFolder: "/ws/.gradcraft/runs",
    trainerCommand: ["python3", "minimal.py", "--steps", "10"],
  };

  it("runs its command as written, without the built-in trainer's arguments, and says how in GRADCRAFT_*", () => {
    const plan = planTrainerSpawn(request, defaults, host);
    assert.equal(plan.command, "python3");
    assert.deepEqual(plan.args, ["minimal.py", "--steps", "10"]);
    assert.equal(plan.shell, false);
    assert.equal(plan.env.GRADCRAFT_PROTOCOL, "stdio");
    assert.equal(plan.env.GRADCRAFT_CONFIG, "/ws/ex/minimal.gradcraft.json");
    assert.equal(plan.env.GRADCRAFT_RUNS_FOLDER, "/ws/.gradcraft/runs");
    assert.equal(plan.env.GRADCRAFT_LISTEN, undefined);
    assert.equal(plan.env.ELECTRON_RUN_AS_NODE, undefined, "a Python trainer is not Electron's business");
  });

  it("a program named python, python3 or the python placeholder is the interpreter setting, when set", () => {
    const settings = { ...defaults, python: "/usr/bin/python3", listen: true };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's placeholder, not a JS template.
    for (const program of ["python", "python3", "${python}"]) {
      const plan = planTrainerSpawn({ ...request, trainerCommand: [program, "t.py"] }, settings, host);
      assert.equal(plan.command, "/usr/bin/python3", program);
      assert.equal(plan.env.GRADCRAFT_LISTEN, "1");
    }
    // Another program is left alone; placeholders in the arguments are substituted.
    const other = planTrainerSpawn(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's placeholders, not JS templates.
      { ...request, trainerCommand: ["torchrun", "--nproc_per_node=2", "t.py", "--cfg", "${config}"] },
      settings,
      host,
    );
    assert.equal(other.command, "torchrun");
    assert.deepEqual(other.args, ["--nproc_per_node=2", "t.py", "--cfg", "/ws/ex/minimal.gradcraft.json"]);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the config's placeholder, not a JS template.
    const unset = planTrainerSpawn({ ...request, trainerCommand: ["${python}", "t.py"] }, defaults, host);
    assert.equal(unset.command, "python3", "without the setting, the placeholder is python3 from PATH");
  });

  it("wins over the trainer command setting, which is for trainers with the built-in command line", () => {
    const plan = planTrainerSpawn(request, { ...defaults, command: ["mytrainer"] }, host);
    assert.equal(plan.command, "python3");
    assert.deepEqual(plan.args, ["minimal.py", "--steps", "10"]);
  });
});

describe("stopping a spawned trainer", () => {
  const node = process.execPath;

  it("a trainer that obeys the stop command exits gracefully", async () => {
    const child = spawn(
      node,
      ["-e", "process.stdin.on('data', () => process.exit(0)); setInterval(() => {}, 1000)"],
      {
        stdio: ["pipe", "ignore", "ignore"],
      },
    );
    const outcome = await stopProcess(child, () => child.stdin!.write("stop\n"), {
      graceMs: 5000,
      termMs: 2000,
    });
    assert.equal(outcome, "graceful");
  });

  it("a trainer that ignores stop gets SIGTERM", async () => {
    const child = spawn(node, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    const outcome = await stopProcess(child, () => undefined, { graceMs: 200, termMs: 5000 });
    assert.equal(outcome, "sigterm");
    assert.equal(child.signalCode, "SIGTERM");
  });

  it("a trainer that ignores SIGTERM is killed, leaving no process behind", async () => {
    const child = spawn(
      node,
      ["-e", "process.on('SIGTERM', () => {}); console.log('ready'); setInterval(() => {}, 1000)"],
      {
        stdio: ["ignore", "pipe", "ignore"],
      },
    );
    await new Promise((resolve) => child.stdout!.once("data", resolve)); // the SIGTERM handler is installed
    const outcome = await stopProcess(child, undefined, { graceMs: 100, termMs: 300 });
    assert.equal(outcome, "sigkill");
    assert.equal(child.signalCode, "SIGKILL");
    assert.throws(() => process.kill(child.pid!, 0), /ESRCH/);
  });

  it("an exited trainer is left alone", async () => {
    const child = spawn(node, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => child.once("exit", resolve));
    assert.equal(
      await stopProcess(child, () => assert.fail("no stop to an exited process"), {
        graceMs: 10,
        termMs: 10,
      }),
      "already-exited",
    );
  });
});

describe("the Stop command's escalation", () => {
  it("after SIGTERM a trainer has time to write its checkpoint and summary and exit on its own", async () => {
    // A trainer that ignores the stop command and, on SIGTERM, needs 4 s to finish its step and
    // write the last checkpoint before it exits 0 (what `gradcraft train` does).
    const child = spawn(
      process.execPath,
      [
        "-e",
        "process.on('SIGTERM', () => setTimeout(() => process.exit(0), 4000)); console.log('ready'); setInterval(() => {}, 1000)",
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    await new Promise((resolve) => child.stdout!.once("data", resolve));
    const timeouts = stopTimeouts(200);
    assert.ok(timeouts.termMs >= 10_000, `only ${timeouts.termMs} ms between SIGTERM and SIGKILL`);
    assert.equal(await stopProcess(child, () => undefined, timeouts), "sigterm");
    assert.deepEqual(
      [child.exitCode, child.signalCode],
      [0, null],
      "the trainer was killed, not left to finish",
    );
  });

  it("the Output channel says which way the trainer ended, and what that means for the run", () => {
    const timeouts = { graceMs: 20_000, termMs: 15_000 };
    const exited = { code: 0, signal: null };
    assert.match(
      describeStop("graceful", timeouts, exited, "stopped"),
      /stop command: done \(stopped\), exit code 0/,
    );
    const termed = describeStop("sigterm", timeouts, { code: 143, signal: null }, "interrupted");
    assert.match(
      termed,
      /within 20 s of the stop command: sent SIGTERM; it ended with done \(interrupted\), exit code 143/,
    );
    const killed = describeStop("sigkill", timeouts, { code: null, signal: "SIGKILL" }, undefined);
    assert.match(
      killed,
      /nor 15 s after SIGTERM: killed with SIGKILL \(no done message\); steps after its last checkpoint are lost/,
    );
  });
});

describe("the runs folder", () => {
  it("defaults to .gradcraft/runs in the workspace, like the CLI", () => {
    assert.equal(resolveRunsFolder("", "/ws", "/storage"), "/ws/.gradcraft/runs");
  });
  it("without a workspace lives in the extension's storage", () => {
    assert.equal(resolveRunsFolder("", undefined, "/storage"), "/storage/runs");
  });
  it("a relative setting resolves from the workspace, an absolute one is kept", () => {
    assert.equal(resolveRunsFolder(" out/runs ", "/ws", "/storage"), "/ws/out/runs");
    assert.equal(resolveRunsFolder("/data/runs", "/ws", "/storage"), "/data/runs");
  });
});
