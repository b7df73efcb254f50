import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import * as esbuild from "esbuild";
import { findStrategy, strategies } from "../../../src/core/strategies/index";
import { checkConfig } from "../../../src/extension/config/checks";
import { renderTemplate, TEMPLATES } from "../../../src/extension/config/templates";
import { contentSecurityPolicy, renderWebviewHtml } from "../../../src/extension/panel/html";
import { TrainingConfig } from "../../../src/protocol/config";

const root = join(__dirname, "../../..");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));

describe("the extension host bundle", () => {
  it("holds no TensorFlow.js, trainer code, or webgpu, and stays small", async () => {
    const result = await esbuild.build({
      entryPoints: [join(root, "src/extension/extension.ts")],
      bundle: true,
      platform: "node",
      format: "cjs",
      external: ["vscode"],
      minify: true,
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const inputs = Object.keys(result.metafile.inputs);
    const forbidden = inputs.filter((path) =>
      /@tensorflow|src\/trainer\/|node_modules\/webgpu|src\/cli\//.test(path),
    );
    assert.deepEqual(forbidden, [], "the extension host must never load tfjs or the trainer");
    const bytes = result.outputFiles[0].contents.length;
    // zod with every locale is most of it; build.mjs drops the locales (about 320 KB shipped).
    assert.ok(bytes < 700_000, `extension bundle is ${bytes} bytes`);
  });
});

describe("package.json contributions", () => {
  const commands: Array<{ command: string; category: string }> = pkg.contributes.commands;

  it("every command is in the GradCraft category with a stable gradcraft.* id, and each is registered in the source", () => {
    const sources = readdirSync(join(root, "src/extension/commands"))
      .map((f) => readFileSync(join(root, "src/extension/commands", f), "utf8"))
      .join("\n");
    for (const { command, category } of commands) {
      assert.match(command, /^gradcraft\.[a-zA-Z]+$/);
      assert.equal(category, "GradCraft");
      assert.ok(sources.includes(`"${command}"`), `${command} is contributed but never registered`);
    }
  });

  it("menus and when-clauses only name contributed commands and context keys we set", () => {
    const ids = new Set(commands.map((c) => c.command));
    const extension = readFileSync(join(root, "src/extension/extension.ts"), "utf8");
    for (const entries of Object.values(pkg.contributes.menus) as Array<
      Array<{ command: string; when?: string }>
    >) {
      for (const entry of entries) {
        assert.ok(ids.has(entry.command), `menu names unknown command ${entry.command}`);
        for (const key of entry.when?.replace(/view == \S+/g, "").match(/gradcraft\.[a-zA-Z]+/g) ?? [])
          assert.ok(extension.includes(`"${key}"`), `when-clause key ${key} is never set`);
      }
    }
  });

  it("activates only on its own things, declares limited trust support, and an engine no newer than the tested VS Code", () => {
    for (const event of pkg.activationEvents) assert.match(event, /gradcraft/);
    assert.equal(pkg.capabilities.untrustedWorkspaces.supported, "limited");
    const [major, minor] = pkg.engines.vscode.replace(/^\^/, "").split(".").map(Number);
    assert.ok(major === 1 && minor <= 139, `engines.vscode ${pkg.engines.vscode} exceeds 1.139`);
    assert.equal(pkg.contributes.jsonValidation[0].url, "./schemas/gradcraft.schema.json");
  });
});

describe("webview content security", () => {
  it("scripts run only with this document's nonce; nothing loads from the network", () => {
    const html = renderWebviewHtml({
      cspSource: "https://abc.vscode-cdn.net",
      scriptUri: "https://abc.vscode-cdn.net/ext/dist/webview.js",
      surface: "dashboard",
      title: 'run <"x">',
      nonce: "N0nce",
    });
    const csp = contentSecurityPolicy("https://abc.vscode-cdn.net", "N0nce");
    assert.ok(html.includes(csp.replace(/'/g, "'")));
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-N0nce'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-eval|\*/);
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0], /nonce="N0nce"/);
    assert.ok(
      html.includes("run &lt;&quot;x&quot;&gt;") || html.includes('run &lt;"x"&gt;'),
      "the title is escaped",
    );
  });

  it("each render gets a fresh nonce", () => {
    const render = () =>
      renderWebviewHtml({ cspSource: "c", scriptUri: "s", surface: "conflicts", title: "t" }).match(
        /nonce-([^']+)'/,
      )![1];
    assert.notEqual(render(), render());
  });
});

describe("config templates", () => {
  for (const template of TEMPLATES) {
    it(`"${template.id}" is a valid config whose strategy parameters its strategy accepts`, async () => {
      const config = TrainingConfig.parse(JSON.parse(renderTemplate(template)));
      const strategy = findStrategy(config.strategy.name);
      assert.ok(strategy, `unknown strategy ${config.strategy.name}; known ${strategies.map((s) => s.name)}`);
      assert.ok(strategy.params.safeParse(config.strategy.params).success);
      assert.match(template.fileName, /\.gradcraft\.json$/);
      if (config.data.source === "synthetic") {
        const issues = await checkConfig(renderTemplate(template), join(root, template.fileName));
        assert.deepEqual(
          issues.filter((i) => i.severity === "error"),
          [],
        );
      }
    });
  }
});
