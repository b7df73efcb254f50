/**
 * The run's command buttons, wherever they sit (the header's Pause to Stop, the controls card's
 * Switch and Apply): each shows whether its command is waiting for the trainer, what became of
 * the last one, and whether the run takes it now. The app owns one set and redraws it every frame
 * and whenever a command's state changes.
 */
import type { RunModel } from "../src/panel/runModel";
import { type Commands, type ControlKey, isLive } from "./commands";
import { el } from "./dom";

const LABELS: Record<ControlKey, [idle: string, busy: string]> = {
  pause: ["Pause", "Pausing…"],
  resume: ["Resume", "Resuming…"],
  stop: ["Stop", "Stopping…"],
  checkpoint: ["Checkpoint", "Checkpointing…"],
  evaluate: ["Evaluate", "Evaluating…"],
  "set-strategy": ["Switch", "Switching…"],
  "set-hyperparameters": ["Apply", "Applying…"],
  "apply-suggestion": ["Apply suggestion", "Switching…"],
};

/** How long a button that asks for a second press stays armed. */
const CONFIRM_MS = 4000;

export interface ControlButton {
  readonly button: HTMLButtonElement;
  /** Where the command's state and result are written. */
  readonly status: HTMLElement;
}

export interface ControlButtonOptions {
  className?: string;
  /** The label of a button that must be pressed twice (Stop ends the run): no modal dialog. */
  confirm?: string;
}

export class ControlButtons {
  private readonly shown = new Map<ControlKey, ControlButton>();

  constructor(
    private readonly commands: Commands,
    private readonly run: () => RunModel | undefined,
  ) {}

  add(control: ControlKey, onClick: () => void, options: ControlButtonOptions = {}): ControlButton {
    const attributes: Record<string, string> = { type: "button", "data-control": control };
    if (options.className) attributes.class = options.className;
    const button = el("button", attributes, LABELS[control][0]);
    const status = el("span", { class: "status", role: "status", "data-status": control });
    button.addEventListener(
      "click",
      options.confirm ? this.pressTwice(button, options.confirm, onClick) : onClick,
    );
    this.shown.set(control, { button, status });
    return { button, status };
  }

  /** Forgets every button (the page is built again). */
  clear(): void {
    this.shown.clear();
  }

  render(): void {
    const run = this.run();
    if (!run) return;
    const live = isLive(run);
    for (const [control, { button, status }] of this.shown) {
      const pending = this.commands.isPending(control);
      const [idle, busy] = LABELS[control];
      if (button.dataset.armed !== "true") button.textContent = pending ? busy : idle;
      button.setAttribute("aria-busy", String(pending));
      let enabled = live && !pending;
      if (control === "pause") enabled &&= run.state !== "paused";
      if (control === "resume") enabled &&= run.state === "paused";
      button.disabled = !enabled;
      const result = this.commands.result(control);
      status.textContent = result?.text ?? "";
      status.className = `status ${result?.level ?? ""}`;
    }
  }

  private pressTwice(button: HTMLButtonElement, confirmLabel: string, onConfirmed: () => void): () => void {
    let armedUntil = 0;
    return () => {
      if (Date.now() < armedUntil) {
        armedUntil = 0;
        button.dataset.armed = "false";
        onConfirmed();
        return;
      }
      armedUntil = Date.now() + CONFIRM_MS;
      button.dataset.armed = "true";
      button.textContent = confirmLabel;
      setTimeout(() => {
        if (Date.now() >= armedUntil) {
          button.dataset.armed = "false";
          this.render();
        }
      }, CONFIRM_MS + 100);
    };
  }
}
