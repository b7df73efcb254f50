/**
 * The report's own card (docs/dashboard.md, "Report"), first in its grid: when the report was
 * made and by which version, and per run where it stood (finished, or the step a live run was
 * cut at), its config as it started, and the timeline of what changed while it ran (strategy
 * switches, hyperparameter edits). Drawn once: a report's runs never move.
 */

import { type ReportData, type ReportRun, wasLive } from "../../src/panel/reportData";
import type { RunModel } from "../../src/panel/runModel";
import { runColor } from "../compare";
import { el, lineSample } from "../dom";
import { type Card, type CardContext, cardShell, type Scene } from "./card";

/** Array values longer than this are cut in the config table (the full text is the cell's title). */
const MAX_VALUE_CHARS = 160;

export class ReportCard implements Card {
  readonly id = "report";
  readonly element: HTMLElement;
  private readonly body = el("div", { class: "report-body" });
  private drawn = false;

  constructor(
    context: CardContext,
    private readonly report: ReportData,
  ) {
    this.element = cardShell(context, this.id, "Report", { wide: true, png: false, csv: false });
    this.element.append(this.body);
  }

  render(scene: Scene): void {
    if (this.drawn) return;
    this.drawn = true;
    const made = new Date(this.report.createdAt);
    const madeText = Number.isNaN(made.getTime()) ? this.report.createdAt : made.toLocaleString();
    this.body.replaceChildren(
      el(
        "p",
        { class: "report-made", "data-made": this.report.createdAt },
        "Made ",
        el("time", { datetime: this.report.createdAt, title: this.report.createdAt }, madeText),
        ` by ${this.report.generator}. A static copy: nothing here reaches a trainer or the network.`,
      ),
      el(
        "div",
        { class: "report-runs" },
        ...this.report.runs.map((run, i) =>
          runSection(run, scene.runs[i], scene.runs.length > 1 ? runColor(scene.palette, i) : null),
        ),
      ),
    );
  }

  destroy(): void {}
}

function runSection(run: ReportRun, model: RunModel | undefined, color: string | null): HTMLElement {
  const s = run.snapshot;
  const where = wasLive(run)
    ? `Cut at step ${s.step} while the run was ${s.state}: it went on after this report.`
    : `${s.state === "done" ? "Finished" : "Ended"} at step ${s.step} (${s.stateDetail ?? s.state}).`;
  const facts = [
    run.folder ? `folder ${run.folder}` : "",
    run.tags?.length ? `tags ${run.tags.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join(" · ");
  return el(
    "section",
    { class: "report-run", "data-run": s.runId },
    el("h3", {}, ...(color ? [lineSample(color)] : []), s.label),
    el("p", { class: "report-where", "data-live": String(wasLive(run)) }, where),
    ...(facts ? [el("p", { class: "muted" }, facts)] : []),
    ...(run.note ? [el("p", { class: "report-note" }, run.note)] : []),
    el("h4", {}, "Timeline"),
    timeline(run, model),
    el("h4", {}, "Config"),
    configTable(run),
  );
}

/** The run's start, each strategy switch and hyperparameter change with its step, then its end. */
function timeline(run: ReportRun, model: RunModel | undefined): HTMLElement {
  const s = run.snapshot;
  const start = startStrategy(run);
  const items: [number, string, string][] = [
    [0, "start", start ? `started with ${start}` : "started"],
    ...(model?.markers ?? s.markers)
      .filter((m) => m.kind === "strategy" || m.kind === "hyperparameters")
      .map((m): [number, string, string] => [m.step, m.kind, m.label]),
    [s.step, "end", wasLive(run) ? "report cut here (still running)" : `ended: ${s.stateDetail ?? s.state}`],
  ];
  return el(
    "ol",
    { class: "report-timeline" },
    ...items.map(([step, kind, text]) =>
      el("li", { "data-kind": kind }, el("span", { class: "timeline-step" }, `step ${step}`), ` ${text}`),
    ),
  );
}

/**
 * "gradcraft (tau=0.5)": the strategy the config started the run with; without a config, the one
 * in force if it never switched (else it is not known: the run model keeps the current one).
 */
function startStrategy(run: ReportRun): string | null {
  const config = run.config as
    | { strategy?: { name?: unknown; params?: Record<string, unknown> } }
    | undefined;
  const switched = run.snapshot.markers.some((m) => m.kind === "strategy");
  const strategy =
    config?.strategy?.name !== undefined ? config.strategy : switched ? null : run.snapshot.strategy;
  return strategy && typeof strategy.name === "string"
    ? strategyText(strategy.name, strategy.params ?? {})
    : null;
}

function strategyText(name: string, params: Record<string, unknown>): string {
  const text = Object.entries(params).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return text.length > 0 ? `${name} (${text.join(", ")})` : name;
}

/** Every setting of the config, one row per leaf (`training.learningRate  0.001`). */
function configTable(run: ReportRun): HTMLElement {
  const rows =
    run.config !== undefined
      ? leaves(run.config, "")
      : [
          [
            "strategy (now)",
            run.snapshot.strategy
              ? strategyText(run.snapshot.strategy.name, run.snapshot.strategy.params)
              : "–",
          ],
          ...Object.entries(run.snapshot.hyperparameters).map(([k, v]): [string, string] => [k, String(v)]),
        ];
  if (rows.length === 0) return el("p", { class: "muted" }, "The run left no config.");
  // Rows flow into as many columns as the card is wide (theme.css): a config is long and narrow.
  return el(
    "div",
    { class: "report-config", role: "table", "aria-label": "Config" },
    ...rows.map(([path, value]) => {
      const long = value.length > MAX_VALUE_CHARS;
      return el(
        "div",
        { class: "setting", role: "row", "data-setting": path },
        el("span", { class: "key", role: "rowheader" }, path),
        el(
          "span",
          { class: "value", role: "cell", ...(long ? { title: value } : {}) },
          long ? `${value.slice(0, MAX_VALUE_CHARS)}…` : value,
        ),
      );
    }),
  );
}

function leaves(value: unknown, path: string): [string, string][] {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0) return path ? [[path, "{}"]] : [];
    return entries.flatMap(([key, v]) => leaves(v, path ? `${path}.${key}` : key));
  }
  if (Array.isArray(value) && value.some((v) => v !== null && typeof v === "object"))
    return value.flatMap((v, i) => leaves(v, `${path}[${i}]`));
  const text = Array.isArray(value) ? value.map((v) => String(v)).join(", ") : String(value);
  return [[path, text]];
}
