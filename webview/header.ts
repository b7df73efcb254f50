/**
 * The panel's header: the run's title, its facts (state, step, epoch, strategy, speed; in compare
 * mode one line per run), the notice line (where an export went, or why it did not) and the run
 * controls. Redrawn every frame, cheaply: the facts are rebuilt only when they changed.
 */
import type { WebviewToHost } from "../src/panel/messages";
import type { RunModel } from "../src/panel/runModel";
import type { Commands } from "./commands";
import { runColor } from "./compare";
import type { ControlButtons } from "./controlButtons";
import { el, lineSample } from "./dom";
import type { Palette } from "./theme";
import type { ViewState } from "./view";

export interface Notice {
  text: string;
  level: string;
}

export interface HeaderContext {
  readonly view: Readonly<ViewState>;
  runs(): readonly RunModel[];
  /** The theme's colours now (compare mode names each run in its colour). */
  palette(): Palette;
  notice(): Notice | null;
  readonly commands: Commands;
  readonly buttons: ControlButtons;
  post(message: WebviewToHost): void;
  /** A report: no run controls (nothing there reaches a trainer). */
  readonly readOnly?: boolean;
}

export class Header {
  readonly element = el("header", { class: "bar" });
  // Not a live region: the step count changes many times a second and would flood a screen reader.
  private readonly facts = el("div", { class: "facts" });
  private factsKey = "";

  constructor(private readonly context: HeaderContext) {}

  /** Builds the header for the runs shown now (empty without a run). */
  build(): void {
    this.element.replaceChildren();
    const { view, commands, buttons } = this.context;
    const runs = this.context.runs();
    const run = runs[0];
    if (!run) return;
    const notice = this.context.notice();
    const title = el("h1", {}, runs.length > 1 ? `Comparing ${runs.length} runs` : run.label);
    const noticeLine = el(
      "span",
      { class: `notice ${notice?.level ?? ""}`, role: "status", id: "notice" },
      notice?.text ?? "",
    );
    const controls = el("div", { class: "controls", role: "group", "aria-label": "Run controls" });
    if (runs.length === 1 && !this.context.readOnly) {
      const control = (button: { button: HTMLButtonElement; status: HTMLElement }) =>
        el("span", { class: "control" }, button.button, button.status);
      const secondary = { className: "secondary" };
      controls.append(
        control(buttons.add("pause", () => commands.send("pause", { type: "pause" }), secondary)),
        control(buttons.add("resume", () => commands.send("resume", { type: "resume" }), secondary)),
        control(
          buttons.add("checkpoint", () => commands.send("checkpoint", { type: "checkpoint" }), secondary),
        ),
        control(
          buttons.add(
            "evaluate",
            () => commands.send("evaluate", { type: "evaluate", split: "validation" }),
            secondary,
          ),
        ),
        control(
          buttons.add("stop", () => commands.send("stop", { type: "stop" }), {
            className: "secondary danger",
            confirm: "Confirm stop",
          }),
        ),
      );
    }
    if (view.surface === "conflicts") {
      const open = el(
        "button",
        { type: "button", class: "secondary", "data-control": "open-dashboard" },
        "Open Dashboard",
      );
      open.addEventListener("click", () =>
        this.context.post({ type: "open-dashboard", runId: this.context.runs()[0]?.runId }),
      );
      controls.append(open);
    }
    this.element.append(title, this.facts, noticeLine, controls);
    this.render();
  }

  render(): void {
    const runs = this.context.runs();
    const run = runs[0];
    if (!run) return;
    if (runs.length > 1) this.renderCompareFacts(runs);
    else this.renderFacts(run);
    this.context.buttons.render();
    const noticeLine = this.element.querySelector("#notice");
    if (noticeLine) {
      const notice = this.context.notice();
      noticeLine.textContent = notice?.text ?? "";
      noticeLine.className = `notice ${notice?.level ?? ""}`;
    }
  }

  private renderFacts(run: RunModel): void {
    const { surface } = this.context.view;
    const { stepsPerSecond, stepTimeMs } = run.throughput();
    const key = `${run.state}|${run.step}|${run.strategy?.name}|${stepsPerSecond}|${stepTimeMs}|${surface}`;
    if (key === this.factsKey) return;
    this.factsKey = key;
    const fact = (label: string, value: string) =>
      el("span", { class: "fact" }, `${label} `, el("b", {}, value));
    this.facts.replaceChildren(
      el("span", { class: "badge", "data-state": run.state, title: run.stateDetail ?? "" }, run.state),
      fact("step", String(run.step)),
      fact("epoch", run.epoch.toFixed(2)),
      fact("strategy", run.strategy?.name ?? "–"),
      fact(
        "steps/s",
        Number.isFinite(stepsPerSecond) ? stepsPerSecond.toFixed(stepsPerSecond < 10 ? 2 : 0) : "–",
      ),
      ...(surface === "dashboard"
        ? [
            fact("step time", Number.isFinite(stepTimeMs) ? `${stepTimeMs.toFixed(0)} ms` : "–"),
            fact("backend", run.backend ?? "–"),
          ]
        : []),
    );
  }

  /** Compare mode: each run's state, steps and the strategies it ran, named in its colour. */
  private renderCompareFacts(runs: readonly RunModel[]): void {
    const key = runs.map((r) => `${r.label}|${r.state}|${r.step}|${r.markers.length}`).join(";");
    if (key === this.factsKey) return;
    this.factsKey = key;
    this.facts.replaceChildren(
      ...runs.map((r, i) => {
        const switches = r.markers.filter((m) => m.kind === "strategy").length;
        const ran = `${r.strategy?.name ?? "–"}${switches ? ` (${switches} switch${switches > 1 ? "es" : ""})` : ""}`;
        return el(
          "span",
          { class: "fact run-fact", "data-run": String(i) },
          lineSample(runColor(this.context.palette(), i)),
          el("b", {}, r.label),
          ` ${r.state}, step ${r.step}, ${ran}`,
        );
      }),
    );
  }
}
