// `npm run studio`: the extension in a real VS Code in your browser, without installing anything
// into your own editor. Starts code-server (provisioned into .cache/ like the tests do) on
// loopback with the extension loaded from this folder and a copy of the sample workspace, prints
// the address, and stays up until Ctrl-C, then ends code-server's whole process group.
//
//   npm run studio [-- --port 8080] [-- --folder path/to/workspace]
import { cpSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ensureCodeServer, ensureNode24, exitCodeFor } from "../test/provision.mjs";
import {
  buildExtension,
  installTeardownHandlers,
  root,
  sampleWorkspace,
  startCodeServer,
  stopAllServers,
  workbenchUrl,
} from "../test/vscode/harness.mjs";

const { values } = parseArgs({
  options: { port: { type: "string" }, folder: { type: "string" } },
});
const port = values.port ? Number(values.port) : undefined;
if (port !== undefined && !(Number.isInteger(port) && port > 0 && port < 65536)) {
  console.error(`--port must be a TCP port number (1-65535), got "${values.port}"`);
  process.exit(2);
}

try {
  await ensureNode24();
  await ensureCodeServer();
} catch (error) {
  process.exit(exitCodeFor(error) === 77 ? 1 : 1);
}
buildExtension();

// The tracked sample stays pristine: the studio works in a copy that survives restarts.
let folder = values.folder ? resolve(values.folder) : join(root, ".cache", "studio", "workspace");
if (values.folder && !existsSync(folder)) {
  console.error(`--folder ${folder} does not exist`);
  process.exit(2);
}
if (!values.folder && !existsSync(folder)) cpSync(sampleWorkspace, folder, { recursive: true });
folder = resolve(folder);

installTeardownHandlers();
const server = await startCodeServer({
  name: "studio",
  port,
  logFile: join(root, ".cache", "studio", "code-server.log"),
});
console.log(
  `\nGradCraft Studio is up (code-server, VS Code in the browser):\n\n  ${workbenchUrl(server, { folder })}\n`,
);
console.log(`workspace: ${folder}`);
console.log("log:       .cache/studio/code-server.log");
console.log("Ctrl-C stops it.");

// Stay up until Ctrl-C (the teardown handlers end the process group) or until code-server dies.
const alive = () => {
  try {
    process.kill(server.pid, 0);
    return true;
  } catch {
    return false;
  }
};
const timer = setInterval(async () => {
  if (alive()) return;
  clearInterval(timer);
  console.error("code-server exited; see .cache/studio/code-server.log");
  await stopAllServers();
  process.exit(1);
}, 1000);
