import * as vscode from "vscode";
import type { RunsTablePanel } from "../runs/runsTablePanel";

/** Open Runs Table and Open Hyperparameter View (the palette and the Runs view's title). */
export function registerRunsTableCommands(panel: RunsTablePanel): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand("gradcraft.openRunsTable", () => panel.show("table")),
    vscode.commands.registerCommand("gradcraft.openHyperparameterView", () => panel.show("hyper")),
  ];
}
