/**
 * The runs table: one row per run, columns from src/panel/runsTable.ts, sorted and filtered by
 * the same pure functions the unit tests check. Header buttons sort (again: the other way), the
 * filter box narrows, checkboxes select rows for the actions (the Runs view's own commands, run
 * by the host).
 */
import type { RunRow } from "../../src/panel/runRows";
import type { RunAction } from "../../src/panel/runsMessages";
import {
  bestInColumns,
  filterRows,
  formatValue,
  METRIC_LABELS,
  METRICS,
  type Metric,
  type RunsColumn,
  runsColumns,
  sharedHyper,
  sortRows,
} from "../../src/panel/runsTable";
import { GAUC_NOT_APPLICABLE, gaucText } from "../../src/protocol/gauc";
import { type RunsCard, type RunsCardContext, type RunsState, runsCardShell } from "./card";
import { el, select } from "./dom";

const ACTIONS: { action: RunAction; label: string; enabled: (n: number) => boolean; danger?: boolean }[] = [
  { action: "open", label: "Open", enabled: (n) => n === 1 },
  { action: "compare", label: "Compare", enabled: (n) => n >= 2 },
  { action: "export", label: "Export CSV", enabled: (n) => n === 1 },
  { action: "delete", label: "Delete", enabled: (n) => n >= 1, danger: true },
];

export class TableCard implements RunsCard {
  readonly id = "runs-table";
  readonly element: HTMLElement;
  private readonly filter: HTMLInputElement;
  private readonly metric: HTMLSelectElement;
  private readonly count = el("span", { class: "muted", "aria-live": "polite" });
  private readonly buttons = new Map<RunAction, HTMLButtonElement>();
  private readonly scroller = el("div", { class: "runs-scroller" });
  /** The hyperparameters every run shares, stated once above the table. */
  private readonly shared = el("p", { class: "muted shared" });
  private shown: readonly RunRow[] = [];
  private selected = new Set<string>();

  constructor(private readonly context: RunsCardContext) {
    this.filter = el("input", {
      type: "search",
      id: "runs-filter",
      "aria-label": "Filter runs",
      placeholder: "Filter: text, tag:…, strategy:…, status:…, -exclude",
    });
    this.filter.addEventListener("input", () => context.setView({ query: this.filter.value }));
    this.metric = select(
      "runs-metric",
      METRICS.map((m) => [m, METRIC_LABELS[m]]),
      "auc",
      (value) => context.setView({ metric: value as Metric }),
    );
    this.metric.setAttribute("aria-label", "Metric shown per task");
    const actions = ACTIONS.map(({ action, label, danger }) => {
      const button = el(
        "button",
        { type: "button", class: danger ? "secondary" : "", "data-action": action },
        label,
      );
      button.addEventListener("click", () => this.context.act(action, [...this.selected]));
      this.buttons.set(action, button);
      return button;
    });
    this.element = runsCardShell(this.id, "Runs");
    this.element.append(
      el(
        "div",
        { class: "form-row runs-toolbar" },
        this.filter,
        el("label", {}, "Metric ", this.metric),
        this.count,
        ...actions,
      ),
      this.shared,
      this.scroller,
    );
  }

  render(state: RunsState): void {
    const { view } = state;
    if (document.activeElement !== this.filter) this.filter.value = view.query;
    this.metric.value = view.metric;
    const known = new Set(state.rows.map((r) => r.id));
    this.selected = new Set(view.selected.filter((id) => known.has(id)));
    const columns = runsColumns(state.rows, view.metric);
    const shared = Object.entries(sharedHyper(state.rows));
    this.shared.textContent =
      shared.length > 0
        ? `Same in every run: ${shared.map(([k, v]) => `${k} ${formatValue(v)}`).join(" · ")}`
        : "";
    this.shown = sortRows(filterRows(state.rows, view.query), columns, view.sort);
    const best = bestInColumns(this.shown, columns);
    this.count.textContent = `${this.shown.length} of ${state.rows.length} runs · ${this.selected.size} selected`;
    for (const { action, enabled } of ACTIONS) {
      const button = this.buttons.get(action);
      if (button) button.disabled = !enabled(this.selected.size);
    }
    const table = el("table", { class: "runs", "aria-label": "Runs" });
    table.append(this.head(columns, state), this.body(columns, best));
    this.scroller.replaceChildren(
      state.rows.length === 0
        ? el("p", { class: "empty" }, "No runs in this folder yet: train one, and it is listed here.")
        : table,
    );
  }

  private head(columns: readonly RunsColumn[], state: RunsState): HTMLTableSectionElement {
    const groups = el("tr", { class: "groups" }, el("th", {}));
    for (const column of columns) {
      const last = groups.lastElementChild as HTMLTableCellElement;
      if (last.dataset.group === column.group) last.colSpan += 1;
      else groups.append(el("th", { scope: "colgroup", "data-group": column.group }, column.group));
    }
    const all = el("input", { type: "checkbox", "aria-label": "Select every run shown" });
    all.checked = this.shown.length > 0 && this.shown.every((r) => this.selected.has(r.id));
    all.addEventListener("change", () => {
      const ids = new Set(this.selected);
      for (const row of this.shown) all.checked ? ids.add(row.id) : ids.delete(row.id);
      this.context.setView({ selected: [...ids] });
    });
    const labels = el("tr", {}, el("th", {}, all));
    const { sort } = state.view;
    for (const column of columns) {
      const sorted = sort.column === column.key;
      const button = el(
        "button",
        {
          type: "button",
          class: "sort",
          "data-column": column.key,
          title: `Sort by ${column.group}: ${column.label}`,
        },
        column.label,
        sorted ? (sort.descending ? " ▼" : " ▲") : "",
      );
      button.addEventListener("click", () =>
        this.context.setView({
          sort: {
            column: column.key,
            descending: sorted ? !sort.descending : column.better !== "lower" && !!column.better,
          },
        }),
      );
      const th = el("th", { scope: "col", "data-column": column.key }, button);
      if (sorted) th.setAttribute("aria-sort", sort.descending ? "descending" : "ascending");
      labels.append(th);
    }
    return el("thead", {}, groups, labels);
  }

  private body(columns: readonly RunsColumn[], best: Map<string, Set<string>>): HTMLTableSectionElement {
    const body = el("tbody");
    for (const row of this.shown) {
      const box = el("input", { type: "checkbox", "aria-label": `Select ${row.name}` });
      box.checked = this.selected.has(row.id);
      box.addEventListener("change", () => {
        const ids = new Set(this.selected);
        box.checked ? ids.add(row.id) : ids.delete(row.id);
        this.context.setView({ selected: [...ids] });
      });
      const tr = el("tr", { "data-run": row.id }, el("td", {}, box));
      if (box.checked) tr.classList.add("selected");
      for (const column of columns) tr.append(cell(row, column, best.get(column.key)?.has(row.id) ?? false));
      tr.addEventListener("dblclick", () => this.context.act("open", [row.id]));
      body.append(tr);
    }
    return body;
  }

  destroy(): void {
    this.element.remove();
  }
}

function cell(row: RunRow, column: RunsColumn, best: boolean): HTMLTableCellElement {
  const value = column.value(row);
  const td = el("td", { "data-column": column.key });
  if (column.key === "name") {
    td.append(el("b", {}, row.name));
    for (const tag of row.tags) td.append(" ", el("span", { class: "tag" }, `#${tag}`));
    if (row.note) td.append(el("span", { class: "note muted" }, row.note));
    td.title = [
      row.folder,
      row.name !== row.configName ? `config: ${row.configName}` : "",
      ...row.problems.map((p) => `⚠ ${p}`),
    ]
      .filter(Boolean)
      .join("\n");
    return td;
  }
  if (column.key === "status") {
    td.textContent = String(value);
    td.dataset.status = String(value);
    return td;
  }
  if (column.key === "started") {
    td.textContent = row.startedAt ? localTime(row.startedAt) : "–";
    return td;
  }
  if (column.key === "strategy") {
    td.textContent = String(value);
    td.title = row.strategies
      .map(
        (s) =>
          `${s.name} from step ${s.step}${Object.keys(s.params).length ? ` (${paramList(s.params)})` : ""}`,
      )
      .join("\n");
    return td;
  }
  if (column.key === "changes" || column.key.startsWith("hyper.")) {
    const name = column.key.slice("hyper.".length);
    const changes = column.key === "changes" ? row.changes : row.changes.filter((c) => c.name === name);
    td.textContent = value === null ? "–" : formatValue(value);
    if (changes.length > 0) {
      // The value the run started with, then every change: "0.01 → 0.005 @4".
      if (column.key !== "changes")
        td.textContent = `${formatValue(changes[0].from)} → ${formatValue(value)}`;
      td.classList.add("changed");
      td.title = changes
        .map((c) => `step ${c.step}: ${c.name} ${formatValue(c.from)} → ${formatValue(c.to)}`)
        .join("\n");
    }
    return td;
  }
  if (column.better) {
    const split = column.key.startsWith("test.") ? row.test : row.validation;
    const gauc = column.key.split(".")[1] === "gauc" ? split?.metrics : undefined;
    td.textContent = gaucText(gauc, value as number | null, (x) =>
      typeof x === "number" ? x.toFixed(4) : "–",
    );
    if (best) {
      td.classList.add("best");
      td.prepend("★ ");
    }
    if (split)
      td.title = `${column.group} · ${column.label}${split.step !== null ? ` (step ${split.step})` : ""}`;
    if (gauc?.gaucApplicable === false) td.title = GAUC_NOT_APPLICABLE;
    return td;
  }
  td.textContent = value === null ? "–" : formatValue(value);
  return td;
}

function paramList(params: Readonly<Record<string, unknown>>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${formatValue(v)}`)
    .join(", ");
}

/** "2026-12-03 15:45" in the viewer's time zone. */
function localTime(iso: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${pad(at.getHours())}:${pad(at.getMinutes())}`;
}
