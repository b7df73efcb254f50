import * as vscode from "vscode";
import type { LiveRun, RunRegistry } from "../runs/liveRun";

/** While a run is live: "$(pulse) step 1200 · gradcraft · 3.1 steps/s"; a click opens its dashboard. */
export class RunStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    "gradcraft.run",
    vscode.StatusBarAlignment.Left,
    50,
  );
  private readonly subscription: { dispose(): void };
  private timer?: NodeJS.Timeout;

  constructor(private readonly registry: RunRegistry) {
    this.item.name = "GradCraft Run";
    this.subscription = registry.onDidChange(() => this.schedule());
    this.update();
  }

  /** The text shown (a test hook reads it). */
  get text(): string {
    return this.item.text;
  }

  private schedule(): void {
    // Many steps a second: a status bar update every 250 ms is plenty.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.update();
    }, 250);
  }

  update(): void {
    const live = this.registry.live();
    const run: LiveRun | undefined = live[live.length - 1];
    if (!run) {
      this.item.hide();
      return;
    }
    const icon =
      run.state === "paused" ? "$(debug-pause)" : run.state === "starting" ? "$(loading~spin)" : "$(pulse)";
    const rate = run.stepsPerSecond;
    const parts = [`step ${run.step}`];
    if (run.strategy) parts.push(run.strategy);
    if (rate > 0) parts.push(`${rate < 10 ? rate.toFixed(2) : rate.toFixed(1)} steps/s`);
    if (run.state === "paused") parts.push("paused");
    const more = live.length > 1 ? ` (+${live.length - 1})` : "";
    this.item.text = `${icon} ${parts.join(" · ")}${more}`;
    this.item.tooltip = `GradCraft: ${run.label}${run.hello ? ` on ${run.hello.backend.name}` : ""}. Click to open its dashboard.`;
    this.item.command = { command: "gradcraft.openDashboard", title: "Open Dashboard", arguments: [run.id] };
    this.item.show();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.subscription.dispose();
    this.item.dispose();
  }
}
