/**
 * The strategy switcher and the hyperparameter form, built from the JSON Schemas the trainer
 * announced (hello). The forms follow the run (a switch made elsewhere, a config saved) until the
 * user edits them; their buttons show the command's state like the header's.
 */

import { el, select } from "../dom";
import { buildFields, HYPERPARAMETER_SCHEMA, type ObjectSchema } from "../forms";
import { type Card, type CardContext, cardShell } from "./card";

export class ControlsCard implements Card {
  readonly id = "controls";
  readonly element: HTMLElement;
  /** The user edited a form since it last followed the run. */
  private touched = false;
  private readonly strategySelect: HTMLSelectElement;
  private readonly summary = el("p", { class: "strategy-summary muted" });
  private readonly fieldsHolder = el("div", {});
  private fields = buildFields(undefined);
  private readonly hyperHolder = el("div", {});
  private hyper = buildFields(undefined);
  /** What the forms last followed. */
  private strategyKey: string;
  private hyperKey: string;

  constructor(
    private readonly context: CardContext,
    private readonly compact: boolean,
  ) {
    const run = context.runs()[0];
    this.element = cardShell(context, this.id, compact ? "Strategy" : "Strategy and hyperparameters", {
      csv: false,
      png: false,
    });
    this.element.classList.add("controls-card");
    this.element.addEventListener("input", () => {
      this.touched = true;
    });
    const strategyId = "strategy-select";
    const choices = run?.strategies.length
      ? run.strategies
      : run?.strategy
        ? [{ name: run.strategy.name }]
        : [];
    this.strategySelect = select(
      strategyId,
      choices.map((s) => [s.name, s.title ? `${s.title} (${s.name})` : s.name]),
      run?.strategy?.name ?? choices[0]?.name ?? "",
      () => this.rebuildFields(),
    );
    this.rebuildFields();
    const switchControl = context.buttons.add("set-strategy", () => this.switchStrategy());
    this.element.append(
      el("div", { class: "form-row" }, el("label", { for: strategyId }, "Strategy"), this.strategySelect),
      this.summary,
      this.fieldsHolder,
      el("div", { class: "form-row" }, switchControl.button, switchControl.status),
    );
    if (!compact) {
      this.rebuildHyper();
      const apply = context.buttons.add("set-hyperparameters", () => this.applyHyperparameters());
      this.element.append(
        el("h2", {}, "Hyperparameters"),
        this.hyperHolder,
        el("div", { class: "form-row" }, apply.button, apply.status),
      );
    }
    this.strategyKey = JSON.stringify(run?.strategy);
    this.hyperKey = JSON.stringify(run?.hyperparameters);
  }

  render(): void {
    const current = this.context.runs()[0];
    if (!current || this.touched || this.element.contains(document.activeElement)) return;
    const nextStrategy = JSON.stringify(current.strategy);
    if (nextStrategy !== this.strategyKey && current.strategy) {
      this.strategyKey = nextStrategy;
      this.strategySelect.value = current.strategy.name;
      this.rebuildFields();
    }
    const nextHyper = JSON.stringify(current.hyperparameters);
    if (!this.compact && nextHyper !== this.hyperKey) {
      this.hyperKey = nextHyper;
      this.rebuildHyper();
    }
  }

  destroy(): void {}

  private switchStrategy(): void {
    const params = this.fields.read();
    if (params === null) {
      this.context.commands.refuse("set-strategy", "Fix the highlighted parameters first.");
      return;
    }
    this.touched = false;
    this.context.commands.send("set-strategy", {
      type: "set-strategy",
      name: this.strategySelect.value,
      params,
    });
  }

  private applyHyperparameters(): void {
    const values = this.hyper.read();
    const { commands } = this.context;
    if (values === null) commands.refuse("set-hyperparameters", "Fix the highlighted values first.");
    else if (Object.keys(values).length === 0) commands.refuse("set-hyperparameters", "Nothing changed.");
    else {
      this.touched = false;
      commands.send("set-hyperparameters", { type: "set-hyperparameters", ...values });
    }
  }

  /** The parameter fields of the strategy selected: its parameters in force, else its defaults. */
  private rebuildFields(): void {
    const current = this.context.runs()[0];
    const name = this.strategySelect.value;
    const info = current?.strategies.find((s) => s.name === name);
    this.summary.textContent = info?.summary ?? "";
    const values = current?.strategy?.name === name ? current.strategy.params : (info?.defaults ?? {});
    this.fields = buildFields(info?.paramsSchema as ObjectSchema | undefined, values, { idPrefix: "param" });
    this.fieldsHolder.replaceChildren(this.fields.element);
  }

  private rebuildHyper(): void {
    this.hyper = buildFields(HYPERPARAMETER_SCHEMA, this.context.runs()[0]?.hyperparameters ?? {}, {
      onlyChanged: true,
      idPrefix: "hyper",
    });
    this.hyperHolder.replaceChildren(this.hyper.element);
  }
}
