import { existsSync } from "node:fs";
import * as vscode from "vscode";
import { renderTemplate, TEMPLATES } from "../config/templates";

/** New Training Config: a template, written into the workspace (or an untitled editor without one). */
export function registerConfigCommands(): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand(
      "gradcraft.newConfig",
      async (templateId?: string, folderArg?: vscode.Uri) => {
        const template =
          TEMPLATES.find((t) => t.id === templateId) ??
          (
            await vscode.window.showQuickPick(
              TEMPLATES.map((t) => ({ label: t.label, detail: t.detail, template: t })),
              { title: "GradCraft: New Training Config", placeHolder: "Start from..." },
            )
          )?.template;
        if (!template) return undefined;
        const content = renderTemplate(template);
        const folder = folderArg ?? vscode.workspace.workspaceFolders?.[0]?.uri;
        if (!folder) {
          const document = await vscode.workspace.openTextDocument({ language: "jsonc", content });
          await vscode.window.showTextDocument(document);
          void vscode.window.showInformationMessage(
            "GradCraft: save this file with a name ending in .gradcraft.json to get completion and checks.",
          );
          return document.uri;
        }
        const name = await vscode.window.showInputBox({
          title: "GradCraft: config file name",
          value: freeName(folder, template.fileName),
          validateInput: (value) => {
            if (!/^[^\\/:*?"<>|]+\.gradcraft\.json$/.test(value))
              return "The name must end in .gradcraft.json (no folders).";
            if (existsSync(vscode.Uri.joinPath(folder, value).fsPath)) return "A file with that name exists.";
            return undefined;
          },
        });
        if (!name) return undefined;
        const uri = vscode.Uri.joinPath(folder, name);
        await vscode.workspace.fs.writeFile(uri, Buffer.from(content, "utf8"));
        await vscode.window.showTextDocument(uri);
        return uri;
      },
    ),
  ];
}

function freeName(folder: vscode.Uri, fileName: string): string {
  const stem = fileName.replace(/\.gradcraft\.json$/, "");
  for (let i = 1; ; i++) {
    const candidate = i === 1 ? fileName : `${stem}-${i}.gradcraft.json`;
    if (!existsSync(vscode.Uri.joinPath(folder, candidate).fsPath)) return candidate;
  }
}
