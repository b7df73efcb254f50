// The "trainer processes" stage of `npm test`: the shipped CLI (dist/cli.js) as real processes —
// faults injected into training runs (kill -9, signals, damaged checkpoints, a lost host) and
// every command that writes to stdout read through a slow pipe. Builds the bundle first, so the
// processes under test are what ships.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");
const build = spawnSync(process.execPath, ["scripts/build.mjs"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(1);

const filter = process.argv.slice(2);
const files = readdirSync(join(root, "test", "process"))
  .filter((name) => name.endsWith(".test.ts"))
  .filter((name) => filter.length === 0 || filter.some((part) => name.includes(part)))
  .map((name) => join("test", "process", name));
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=1", "--test-reporter=spec", ...files],
  { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
