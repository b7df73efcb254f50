/**
 * A terminal where `gradcraft` works. The CLI ships inside the extension (dist/cli.js), which a
 * user who installed the .vsix cannot find: a small launcher script in the extension's storage
 * runs it with the Node the extension uses for trainers, and the extension's environment-variable
 * collection puts that folder first on PATH in the terminals VS Code opens from now on.
 */
export interface CliLauncher {
  readonly fileName: string;
  readonly text: string;
}

/** The launcher for `platform`: a POSIX shell script, or a .cmd on Windows. */
export function cliLauncher(
  node: { command: string; electronAsNode: boolean },
  cliPath: string,
  platform: NodeJS.Platform = process.platform,
): CliLauncher {
  if (platform === "win32") {
    const lines = ["@echo off"];
    if (node.electronAsNode) lines.push("set ELECTRON_RUN_AS_NODE=1");
    lines.push(`"${node.command}" "${cliPath}" %*`);
    return { fileName: "gradcraft.cmd", text: `${lines.join("\r\n")}\r\n` };
  }
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const env = node.electronAsNode ? "ELECTRON_RUN_AS_NODE=1 " : "";
  return {
    fileName: "gradcraft",
    text: `#!/bin/sh\n# The gradcraft CLI bundled with GradCraft Studio (written by the extension).\n${env}exec ${quote(node.command)} ${quote(cliPath)} "$@"\n`,
  };
}
