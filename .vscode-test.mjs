// The conventional desktop path for contributors: @vscode/test-cli runs the same mocha suites as
// `npm test` (test/vscode/suite/**, compiled to out/test/suite/) in a VS Code that
// @vscode/test-electron downloads. `npm run test:desktop` builds and runs it.
//
// Why the packages are not devDependencies: both declare engines.node >= 22 (the project runs on
// Node 20), and downloading VS Code is impossible on the CI machines, where `npm test` runs the
// suites in code-server instead (test/vscode/run.mjs). The npm script fetches pinned versions with
// npx on demand. On a desktop with Node >= 22:
//   npm run test:desktop
// or by hand:
//   npm run build && node test/vscode/run.mjs --build-only
//   npx --package=@vscode/test-cli@0.0.15 --package=@vscode/test-electron@3.1.0 vscode-test
import { cpSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// Runs write their folders into the workspace: give the tests a throwaway copy of the sample.
const workspace = join(mkdtempSync(join(tmpdir(), "gradcraft-desktop-")), "workspace");
cpSync(join(import.meta.dirname, "test", "vscode", "workspace"), workspace, { recursive: true });

// A plain object: defineConfig() from @vscode/test-cli is an identity function, and importing it
// here would need the package installed in the project.
export default [
  {
    label: "integration",
    files: "out/test/suite/**/*.test.js",
    workspaceFolder: workspace,
    launchArgs: ["--disable-extensions", "--disable-workspace-trust"],
    env: { GRADCRAFT_TEST: "1", GRADCRAFT_TEST_WORKSPACE: workspace, GRADCRAFT_TEST_TRUST: "trusted" },
    // Suites tagged @untrusted-window need a second window with workspace trust on and a folder
    // without configs: `npm test` runs them in code-server (test/vscode/run.mjs).
    mocha: { ui: "bdd", timeout: 120_000, grep: "@untrusted-window", invert: true },
  },
];
