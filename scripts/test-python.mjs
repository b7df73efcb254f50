// Runs the Python package's pytest suites (python/tests) with Debian's interpreter, named by its
// full path (the bare `python3` on PATH may be another interpreter without torch). The test
// provisioning installs python3-torch, numpy and pytest as root; missing ones are a failure under
// CI=true and "not run" (exit 77, with what to install) elsewhere. Extra arguments go to pytest.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ensurePythonTorch, exitCodeFor } from "../test/provision.mjs";

const root = join(import.meta.dirname, "..");

let python;
try {
  python = await ensurePythonTorch();
} catch (error) {
  console.error(error.message);
  process.exit(exitCodeFor(error));
}
const versions = spawnSync(
  python,
  [
    "-c",
    "import sys, torch, numpy, pytest; print(sys.version.split()[0], torch.__version__, numpy.__version__, pytest.__version__)",
  ],
  { encoding: "utf8" },
).stdout.trim();
const [version, torch, numpy, pytest] = versions.split(" ");
console.log(`[python] ${python}: Python ${version}, torch ${torch}, numpy ${numpy}, pytest ${pytest}`);
const result = spawnSync(
  python,
  ["-m", "pytest", "-q", "-p", "no:cacheprovider", "python/tests", ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: "inherit",
  },
);
process.exit(result.status ?? 1);
