// Editing a config in the real editor: what completion inserts (VS Code's own JSON service, fed
// the schema the extension contributes), in a config that names a preset.
import * as assert from "node:assert/strict";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as vscode from "vscode";
import { extension, waitFor, workspaceFolder } from "./util";

const label = (item: vscode.CompletionItem) =>
  typeof item.label === "string" ? item.label : item.label.label;
/** The text an item inserts, its snippet placeholders (`${1:512}`) replaced by their values. */
const inserted = (item: vscode.CompletionItem) =>
  (item.insertText instanceof vscode.SnippetString
    ? item.insertText.value
    : String(item.insertText ?? label(item))
  ).replace(/\$\{\d+:([^}]*)\}/g, "$1");

async function completions(
  uri: vscode.Uri,
  at: vscode.Position,
  wanted: string,
): Promise<vscode.CompletionItem[]> {
  // The JSON service starts and loads the schema on first use: ask until it answers with it.
  return waitFor(`completion offering "${wanted}" at ${at.line}:${at.character}`, async () => {
    const list = await vscode.commands.executeCommand<vscode.CompletionList>(
      "vscode.executeCompletionItemProvider",
      uri,
      at,
    );
    return list.items.some((item) => label(item) === wanted) ? list.items : undefined;
  });
}

describe("editing a config", () => {
  const folder = () => join(workspaceFolder().uri.fsPath, "editing");

  before(async () => {
    await extension().activate();
    mkdirSync(folder(), { recursive: true });
  });

  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    rmSync(folder(), { recursive: true, force: true });
  });

  it("completes a Quick config's fields with the preset's values, and a section with an empty object", async () => {
    const file = join(folder(), "completion.gradcraft.json");
    writeFileSync(file, '{\n  "preset": "quick",\n  \n  "training": {\n    \n  }\n}\n');
    const document = await vscode.workspace.openTextDocument(file);
    await vscode.window.showTextDocument(document);

    const training = await completions(document.uri, new vscode.Position(4, 4), "batchSize");
    const insert = (name: string) => {
      const item = training.find((i) => label(i) === name);
      assert.ok(item, `no completion for ${name}: ${training.map(label).join(", ")}`);
      return inserted(item);
    };
    // The quick preset's values (src/trainer/presets.ts), not the schema defaults 2048 / 10 / 1e-3 / 200 / 10.
    assert.match(insert("batchSize"), /: 512\b/);
    assert.match(insert("epochs"), /: 3\b/);
    assert.match(insert("learningRate"), /: 0\.003\b/);
    assert.match(insert("evalEvery"), /: 40\b/);
    assert.match(insert("patience"), /: 4\b/);

    const root = await completions(document.uri, new vscode.Position(2, 2), "model");
    const model = root.find((i) => label(i) === "model");
    assert.ok(model);
    assert.match(inserted(model), /^"model": ?\{\s*(\$1|\$\{1\})?\s*\}/, `model inserts ${inserted(model)}`);
  });
});

describe("the gradcraft CLI in a terminal", () => {
  it("Open Terminal with the gradcraft CLI opens a terminal where gradcraft runs", async () => {
    await extension().activate();
    const out = join(workspaceFolder().uri.fsPath, "gradcraft-version.txt");
    rmSync(out, { force: true });
    const terminal = await vscode.commands.executeCommand<vscode.Terminal>("gradcraft.openTerminal");
    assert.ok(terminal, "the command opened no terminal");
    try {
      // Typed into the shell as a user would: found on PATH, run with the extension's Node.
      terminal.sendText(`gradcraft --version > '${out}' 2>&1`, true);
      const text = await waitFor(
        "gradcraft --version to write its output",
        () => {
          try {
            const written = readFileSync(out, "utf8");
            return written.trim() ? written : undefined;
          } catch {
            return undefined;
          }
        },
        { timeoutMs: 60_000, intervalMs: 250 },
      );
      assert.match(text, /^\d+\.\d+\.\d+/, `gradcraft --version said: ${text}`);
    } finally {
      terminal.dispose();
      rmSync(out, { force: true });
    }
  });
});
