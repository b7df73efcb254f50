import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { describe, it } from "node:test";
import { cliLauncher } from "../../../src/extension/cliLauncher";

const pkg = JSON.parse(readFileSync(join(__dirname, "../../../package.json"), "utf8"));

describe("a terminal where gradcraft works", () => {
  it("runs the bundled CLI by the name gradcraft, every argument passed as typed", {
    skip: process.platform === "win32" ? "a POSIX shell script" : false,
  }, () => {
    // Paths with a space, a quote and a dollar: what users' home folders can hold.
    const dir = mkdtempSync(join(tmpdir(), "gradcraft it's $HOME "));
    const cli = join(dir, "cli.js");
    writeFileSync(
      cli,
      "console.log(JSON.stringify({ args: process.argv.slice(2), electron: process.env.ELECTRON_RUN_AS_NODE }));\n",
    );
    const bin = join(dir, "bin");
    mkdirSync(bin);
    const launcher = cliLauncher({ command: process.execPath, electronAsNode: true }, cli, "linux");
    assert.equal(launcher.fileName, "gradcraft");
    writeFileSync(join(bin, launcher.fileName), launcher.text);
    chmodSync(join(bin, launcher.fileName), 0o755);
    const run = spawnSync("sh", ["-c", "gradcraft train \"my config.json\" --listen '$x'"], {
      env: { ...process.env, PATH: `${bin}${delimiter}${process.env.PATH}` },
      encoding: "utf8",
    });
    assert.equal(run.status, 0, run.stderr);
    assert.deepEqual(JSON.parse(run.stdout), {
      args: ["train", "my config.json", "--listen", "$x"],
      electron: "1",
    });
  });

  it("writes a .cmd on Windows, and leaves ELECTRON_RUN_AS_NODE out for a Node of the user's", () => {
    const cmd = cliLauncher(
      { command: "C:\\Program Files\\Code\\Code.exe", electronAsNode: true },
      "C:\\ext\\dist\\cli.js",
      "win32",
    );
    assert.equal(cmd.fileName, "gradcraft.cmd");
    assert.equal(
      cmd.text,
      '@echo off\r\nset ELECTRON_RUN_AS_NODE=1\r\n"C:\\Program Files\\Code\\Code.exe" "C:\\ext\\dist\\cli.js" %*\r\n',
    );
    assert.doesNotMatch(
      cliLauncher({ command: "/usr/bin/node", electronAsNode: false }, "/x/cli.js", "linux").text,
      /ELECTRON/,
    );
  });

  it("is offered by a command the Runs view's welcome names, in text with no literal backticks", () => {
    assert.ok(
      pkg.contributes.commands.some((c: { command: string }) => c.command === "gradcraft.openTerminal"),
    );
    const welcome: string = pkg.contributes.viewsWelcome.find(
      (v: { view: string }) => v.view === "gradcraft.runs",
    ).contents;
    assert.match(welcome, /\(command:gradcraft\.openTerminal\)/);
    // Welcome views render links, not code spans: a backtick shows as a backtick.
    for (const view of pkg.contributes.viewsWelcome) assert.doesNotMatch(view.contents, /`/, view.view);
    for (const command of pkg.contributes.commands) assert.doesNotMatch(command.title, /`/, command.command);
  });
});
