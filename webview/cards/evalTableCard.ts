/**
 * The evaluation table: per task, the latest AUC, GAUC and log loss on the chosen split with the
 * run's best below each. In compare mode one row per run under each task, the best run marked
 * and each later run's difference from the first (compare.ts holds the rules).
 */
import type { RunModel } from "../../src/panel/runModel";
import { EVAL_METRICS, seriesName } from "../../src/panel/snapshot";
import { GAUC_NOT_APPLICABLE } from "../../src/protocol/gauc";
import { compareEval, type EvalCell, runColor } from "../compare";
import { el, lineSample, select } from "../dom";
import type { Palette } from "../theme";
import { type Card, type CardContext, cardShell, type Scene } from "./card";

const METRIC_TITLES: Record<string, string> = { auc: "AUC", gauc: "GAUC", logloss: "log loss" };

export class EvalTableCard implements Card {
  readonly id = "eval-table";
  readonly element: HTMLElement;
  private readonly body = el("div", {});
  /** What the table shows now: live runs redraw ten times a second, the table only changes with an evaluation. */
  private shown: { models: readonly RunModel[]; key: string; palette: Palette } | null = null;

  constructor(private readonly context: CardContext) {
    const splitSelect = select(
      "eval-split",
      [
        ["validation", "validation"],
        ["test", "test"],
        ["train", "train"],
      ],
      context.view.evalSplit,
      (value) => context.setView({ evalSplit: value }),
    );
    splitSelect.setAttribute("aria-label", "Evaluation split");
    this.element = cardShell(context, this.id, "Evaluation: latest and best", {
      wide: context.runs().length > 1,
      png: false,
      extra: [splitSelect],
    });
    this.element.append(this.body);
  }

  csvSeries(run: RunModel): string[] {
    const split = this.context.view.evalSplit;
    return EVAL_METRICS.flatMap((metric) => [
      ...run.tasks.map((task) => seriesName.evalMetric(split, metric, task)),
      seriesName.evalMean(split, metric),
    ]);
  }

  render(scene: Scene): void {
    const { runs, view, palette } = scene;
    const run = runs[0];
    if (!run) return;
    // Rebuilt only when an evaluation or a view option changed (keeping a selection or hover in it meanwhile).
    const key = `${runs.map((r) => `${r.evalsAdded}:${r.tasks.join(",")}`).join("|")}|${view.evalSplit}|${view.hiddenTasks.join(",")}`;
    const shown = this.shown;
    const same =
      shown?.key === key &&
      shown.palette === palette &&
      shown.models.length === runs.length &&
      shown.models.every((m, i) => m === runs[i]);
    if (same) return;
    this.shown = { models: [...runs], key, palette };
    if (runs.length > 1) this.renderCompare(runs, view.evalSplit, view.hiddenTasks, palette);
    else this.renderRun(run, view.evalSplit, view.hiddenTasks);
  }

  destroy(): void {}

  private renderRun(run: RunModel, split: string, hiddenTasks: readonly string[]): void {
    const head = el(
      "tr",
      {},
      el("th", { scope: "col" }, "task"),
      ...EVAL_METRICS.map((m) => el("th", { scope: "col" }, METRIC_TITLES[m])),
    );
    const cell = (metric: string, name: string) => {
      if (metric === "gauc" && !run.gaucApplicable) return notApplicable();
      const latest = run.latestEval[name];
      const best = run.best[name];
      if (latest === undefined) return el("td", {}, "–");
      return el(
        "td",
        {},
        formatMetric(latest),
        el(
          "span",
          { class: "best", title: best ? `best at step ${best.step}` : "" },
          best ? `best ${formatMetric(best.value)} @${best.step}` : "",
        ),
      );
    };
    const rows = run.tasks
      .filter((task) => !hiddenTasks.includes(task))
      .map((task) =>
        el(
          "tr",
          {},
          el("th", { scope: "row" }, task),
          ...EVAL_METRICS.map((m) => cell(m, seriesName.evalMetric(split, m, task))),
        ),
      );
    const mean = el(
      "tr",
      { class: "mean" },
      el("th", { scope: "row" }, "mean"),
      ...EVAL_METRICS.map((m) => cell(m, seriesName.evalMean(split, m))),
    );
    const hasAny = Object.keys(run.latestEval).some((k) => k.startsWith(`eval/${split}/`));
    if (!hasAny) {
      this.body.replaceChildren(el("p", { class: "muted" }, `No ${split} evaluation yet.`));
      return;
    }
    this.body.replaceChildren(
      el(
        "table",
        {},
        el("caption", { class: "visually-hidden" }, `Evaluation on ${split}`),
        el("thead", {}, head),
        el("tbody", {}, ...rows, mean),
      ),
      ...gaucNote([run]),
    );
  }

  /**
   * Compare mode: under each task one row per run (named in its colour), each metric's
   * latest figure with the run's best below it; the best run per task and metric is marked. A run
   * without the task, or not evaluated yet, says so in its cells.
   */
  private renderCompare(
    runs: readonly RunModel[],
    split: string,
    hiddenTasks: readonly string[],
    palette: Palette,
  ): void {
    const table = compareEval(runs, split, hiddenTasks);
    if (!table.hasAny) {
      this.body.replaceChildren(el("p", { class: "muted" }, `No ${split} evaluation in any run yet.`));
      return;
    }
    const baseline = runs[0].label;
    const cell = (metric: string, c: EvalCell, model: RunModel) => {
      const run = model.label;
      if (c.state === "no-task")
        return el("td", { class: "missing", title: `${run} has no such task` }, "not in this run");
      if (metric === "gauc" && !model.gaucApplicable) return notApplicable();
      if (c.state === "no-eval" || c.latest === undefined)
        return el("td", { class: "missing", title: `${run} has no ${split} evaluation` }, "–");
      const delta = c.delta
        ? el(
            "span",
            {
              class: `delta ${c.delta.better ? "better" : "worse"}`,
              title: `${c.delta.better ? "better" : "not better"} than ${baseline}`,
            },
            ` Δ ${c.delta.value >= 0 ? "+" : "−"}${formatMetric(Math.abs(c.delta.value))}`,
          )
        : "";
      const best = c.best
        ? el(
            "span",
            { class: "best", title: `${run}'s best, at step ${c.best.step}` },
            `best ${formatMetric(c.best.value)} @${c.best.step}`,
            delta,
          )
        : "";
      const td = el("td", { class: c.winner ? "winner" : "" }, formatMetric(c.latest), best);
      if (c.winner) {
        td.prepend(
          el(
            "span",
            { class: "winner-mark", "aria-hidden": "true", title: "best of the compared runs" },
            "★ ",
          ),
        );
        td.append(el("span", { class: "visually-hidden" }, " (best of the compared runs)"));
      }
      return td;
    };
    const rows = table.groups.flatMap((group) =>
      group.rows.map((row, i) => {
        const run = runs[row.run];
        const tr = el("tr", {
          class: `${group.task === null ? "mean" : ""}${i === 0 ? " group-start" : ""}`.trim(),
          "data-run": String(row.run),
        });
        if (i === 0)
          tr.append(
            el("th", { scope: "rowgroup", rowspan: String(group.rows.length) }, group.task ?? "mean"),
          );
        tr.append(
          el("th", { scope: "row", class: "run-name" }, lineSample(runColor(palette, row.run)), run.label),
          ...EVAL_METRICS.map((m) => cell(m, row.cells[m], run)),
        );
        return tr;
      }),
    );
    const head = el(
      "tr",
      {},
      el("th", { scope: "col" }, "task"),
      el("th", { scope: "col" }, "run"),
      ...EVAL_METRICS.map((m) => el("th", { scope: "col" }, METRIC_TITLES[m])),
    );
    this.body.replaceChildren(
      el(
        "table",
        { class: "compare-eval" },
        el("caption", { class: "visually-hidden" }, `Evaluation on ${split}, ${runs.length} runs`),
        el("thead", {}, head),
        el("tbody", {}, ...rows),
      ),
      el(
        "p",
        { class: "muted note" },
        table.sameTasks
          ? `★ best of the runs (by each run's best evaluation; higher AUC and GAUC, lower log loss). Δ: against ${baseline}.`
          : `★ best of the runs per task; Δ: against ${baseline}. The runs have different tasks, so their means are not ranked.`,
      ),
      ...gaucNote(runs),
    );
  }
}

function formatMetric(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : "–";
}

/** A GAUC cell of a run whose data has no user column: "n/a", with why on hover. */
function notApplicable(): HTMLElement {
  return el("td", { class: "missing not-applicable", title: GAUC_NOT_APPLICABLE }, "n/a");
}

/** Why some GAUC is "n/a", naming the runs when several are shown (null: every run has GAUC). */
export function gaucNoteText(runs: readonly RunModel[]): string | null {
  const without = runs.filter((run) => !run.gaucApplicable);
  if (without.length === 0) return null;
  const who = runs.length > 1 ? `${without.map((run) => run.label).join(", ")}: ` : "";
  return `${who}${GAUC_NOT_APPLICABLE}`;
}

/** The note under a table with "n/a" GAUC cells. */
function gaucNote(runs: readonly RunModel[]): HTMLElement[] {
  const text = gaucNoteText(runs);
  return text === null ? [] : [el("p", { class: "muted gauc-note" }, text)];
}
