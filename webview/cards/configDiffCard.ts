/**
 * Compare mode: what differs between the compared runs' configs. One column per run (named in
 * its colour), one row per setting; settings that differ are marked, and under the table each
 * run's changes made while it ran (the reason its "now" may differ from its start).
 */
import { configDiff, runColor } from "../compare";
import { el, lineSample } from "../dom";
import { type Card, type CardContext, cardShell, type Scene } from "./card";

export class ConfigDiffCard implements Card {
  readonly id = "config-diff";
  readonly element: HTMLElement;
  private readonly body = el("div", { class: "config-diff" });
  private key = "";

  constructor(context: CardContext) {
    this.element = cardShell(context, this.id, "Config: what differs", {
      wide: true,
      png: false,
      csv: false,
    });
    this.element.append(this.body);
  }

  render(scene: Scene): void {
    const { runs, palette } = scene;
    const diff = configDiff(runs);
    const key = JSON.stringify(diff) + runs.map((r) => r.label).join("|");
    if (key === this.key) return;
    this.key = key;
    const head = el(
      "tr",
      {},
      el("th", { scope: "col" }, "setting (now)"),
      ...runs.map((r, i) => el("th", { scope: "col" }, lineSample(runColor(palette, i)), r.label)),
    );
    const rows = diff.rows.map((row) =>
      el(
        "tr",
        { class: row.differs ? "differs" : "", "data-setting": row.name },
        el("th", { scope: "row" }, row.differs ? `≠ ${row.name}` : row.name),
        ...row.values.map((v) => el("td", {}, v)),
      ),
    );
    const changes = el(
      "tr",
      { "data-setting": "changes" },
      el("th", { scope: "row" }, "changed while running"),
      ...diff.changes.map((list) => el("td", {}, list.length > 0 ? list.join("; ") : "none")),
    );
    this.body.replaceChildren(el("table", {}, el("thead", {}, head), el("tbody", {}, ...rows, changes)));
  }

  destroy(): void {}
}
