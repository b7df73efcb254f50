/**
 * The insights card: what the run's figures say (which pairs conflict and how often, how unequal
 * the gradient norms are, which tasks starve) and the switch they point to, one click away. The
 * text comes from src/panel/insights.ts on the redraw's cut, so it agrees with the heatmap drawn
 * beside it; docs/dashboard.md ("Insights") explains each figure and threshold.
 */

import { formatNumber } from "../../src/panel/format";
import { type Insights, MIN_STEPS, ratioText, runInsights } from "../../src/panel/insights";
import { isLive } from "../commands";
import { el } from "../dom";
import { type Card, type CardContext, cardShell, type Scene } from "./card";

/** Conflicting pairs listed (the rest are in the heatmap). */
const PAIRS_SHOWN = 3;

const percent = (share: number) => `${Math.round(share * 100)} %`;

export class InsightsCard implements Card {
  readonly id = "insights";
  readonly element: HTMLElement;
  private readonly window = el("p", { class: "muted", "data-insight": "window" });
  private readonly pairs = el("li", { "data-insight": "pairs" });
  private readonly norms = el("li", { "data-insight": "norms" });
  private readonly starving = el("li", { "data-insight": "starving" });
  private readonly advice = el("p", { class: "insight-advice", "data-insight": "suggestion" });
  /** Why Apply cannot be used (a finished run has no trainer to switch). */
  private readonly applyNote = el("span", { class: "muted", "data-insight": "apply-note" });
  private readonly apply: HTMLButtonElement;
  /** The switch the last render suggested: what Apply sends. */
  private suggestion: Insights["suggestion"] = null;

  constructor(private readonly context: CardContext) {
    this.element = cardShell(context, this.id, "Insights", { png: false, csv: false });
    this.element.classList.add("insights-card");
    const control = context.buttons.add("apply-suggestion", () => this.applySuggestion());
    this.apply = control.button;
    this.element.append(
      this.window,
      el("ul", { class: "insights" }, this.pairs, this.norms, this.starving),
      this.advice,
      el("div", { class: "form-row" }, this.apply, control.status, this.applyNote),
    );
  }

  render(scene: Scene): void {
    const run = scene.runs[0];
    if (!run) return;
    const cut = scene.cuts[0];
    const insights = runInsights(run, cut);
    this.suggestion = insights.suggestion;
    const { steps, span, needed } = insights;
    const live = isLive(run);
    if (needed > 0)
      this.window.textContent = live
        ? `Needs ${needed} more steps: ${steps} of the ${MIN_STEPS} the figures need so far.`
        : `Too few steps to read: ${steps} with gradients, ${MIN_STEPS} needed.`;
    else
      this.window.textContent =
        span > steps
          ? `Over steps ${cut.step - span + 1}–${cut.step} (${steps} of them seen).`
          : `Over the last ${steps} steps (${cut.step - steps + 1}–${cut.step}).`;
    this.pairs.textContent = pairsText(insights);
    this.norms.textContent = normsText(insights);
    this.starving.textContent = starvingText(insights);
    const { suggestion } = insights;
    this.advice.replaceChildren(
      ...(suggestion
        ? [
            el("strong", {}, `Suggested: ${suggestion.name}${paramsText(suggestion.params)}. `),
            suggestion.reason,
          ]
        : [`No switch suggested: ${insights.noSuggestion}.`]),
    );
    this.advice.classList.toggle("muted", !suggestion);
    // Too few steps: the line above already says how many more; nothing to add here.
    this.advice.hidden = needed > 0;
    this.apply.hidden = !suggestion;
    this.apply.title = suggestion
      ? `Switch the run to ${suggestion.name}${paramsText(suggestion.params)}`
      : "";
    this.applyNote.textContent =
      suggestion && !live ? "The run is not live: there is no trainer to switch." : "";
  }

  destroy(): void {}

  private applySuggestion(): void {
    const suggestion = this.suggestion;
    if (!suggestion) return;
    this.context.commands.send("apply-suggestion", {
      type: "set-strategy",
      name: suggestion.name,
      params: suggestion.params,
    });
  }
}

function pairsText({ pairs, steps }: Insights): string {
  const conflicting = pairs.filter((p) => p.share > 0).slice(0, PAIRS_SHOWN);
  if (steps === 0) return "Conflicts: no cosine matrices yet.";
  if (conflicting.length === 0) return "Conflicts: no pair of tasks conflicts.";
  return `Conflicts (share of steps): ${conflicting.map((p) => `${p.a} ↔ ${p.b} ${percent(p.share)}`).join(", ")}.`;
}

function normsText({ norms }: Insights): string {
  if (!norms) return "Gradient norms: not enough data.";
  const gone = norms.vanished.length
    ? ` Vanished (under a millionth of the largest, left out): ${norms.vanished.map((t) => `${t} (${formatNumber(norms.mean[t])})`).join(", ")}.`
    : "";
  return `Gradient norms ${ratioText(norms.ratio)}× apart: ${norms.largest} largest (${formatNumber(norms.mean[norms.largest])}), ${norms.smallest} smallest (${formatNumber(norms.mean[norms.smallest])}).${gone}`;
}

function starvingText({ starving }: Insights): string {
  if (starving.length === 0)
    return "Starving: none (no task with a small part of the update and a flat validation AUC).";
  const each = starving.map(
    (s) =>
      `${s.task} (${percent(s.updateShare)} of the update, validation AUC ${s.aucChange >= 0 ? "+" : ""}${formatNumber(s.aucChange)} since step ${s.aucSince})`,
  );
  return `Starving: ${each.join(", ")}.`;
}

function paramsText(params: Record<string, unknown>): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return "";
  return ` (${entries.map(([k, v]) => `${k === "tau" ? "τ" : k} = ${typeof v === "number" ? formatNumber(v) : JSON.stringify(v)}`).join(", ")})`;
}
