/**
 * The runs page app: it keeps what the host last sent (rows, the hyperparameter view's data) and
 * the user's choices (sort, filter, metric, selection, axes, saved in the webview state), and
 * draws its two cards again when either changes. Actions go to the host, which runs the Runs
 * view's own commands.
 */
import type { HyperData } from "../../src/panel/hyperView";
import type { RunRow } from "../../src/panel/runRows";
import type { HostToRunsPage, RunAction, RunsPageToHost, RunsSection } from "../../src/panel/runsMessages";
import css from "../styles.css";
import { type Palette, readPalette } from "../theme";
import type { RunsCard, RunsCardContext, RunsViewState } from "./card";
import { el, type VsCodeApi } from "./dom";
import { chartDefaults, HyperCard } from "./hyperCard";
import runsCss from "./runs.css";
import { TableCard } from "./tableCard";

const EMPTY_HYPER: HyperData = { points: [], parameters: [], metrics: [], notes: [] };

export class RunsApp {
  private rows: readonly RunRow[] = [];
  private hyper: HyperData = EMPTY_HYPER;
  private palette: Palette;
  private readonly view: RunsViewState;
  private readonly cards: RunsCard[];
  private readonly folder = el("span", { class: "muted" });
  private readonly notice = el("span", { class: "notice", role: "status" });
  private frame = 0;

  constructor(
    private readonly vscode: VsCodeApi,
    private readonly nonce: string,
  ) {
    this.view = restoreView(vscode.getState());
    this.palette = readPalette();
    const context: RunsCardContext = {
      setView: (change) => {
        Object.assign(this.view, change);
        this.vscode.setState(this.view);
        this.request();
      },
      act: (action, ids) => this.act(action, ids),
    };
    this.cards = [new TableCard(context), new HyperCard(context)];
  }

  start(): void {
    for (const text of [css, runsCss]) {
      const style = document.createElement("style");
      if (this.nonce) style.nonce = this.nonce;
      style.textContent = text;
      document.head.append(style);
    }
    chartDefaults(this.palette);
    const refresh = el("button", { type: "button", class: "secondary" }, "Refresh");
    refresh.addEventListener("click", () => this.post({ type: "refresh" }));
    const header = el("header", { class: "bar" }, el("h1", {}, "Runs"), this.folder, refresh, this.notice);
    document.body.append(
      el(
        "div",
        { id: "app" },
        header,
        el("main", { class: "grid runs-grid" }, ...this.cards.map((c) => c.element)),
      ),
    );
    // VS Code swaps the body's theme classes (and the variables) when the user changes theme.
    new MutationObserver(() => {
      this.palette = readPalette();
      chartDefaults(this.palette);
      this.request();
    }).observe(document.body, { attributes: true, attributeFilter: ["class"] });
    window.addEventListener("message", (event: MessageEvent) => {
      const data = event.data as HostToRunsPage | undefined;
      if (data && typeof data === "object" && typeof data.type === "string") this.handle(data);
    });
    this.post({ type: "ready" });
  }

  handle(message: HostToRunsPage): void {
    switch (message.type) {
      case "runs":
        this.rows = message.rows;
        this.hyper = message.hyper;
        this.folder.textContent = message.runsFolder;
        this.request();
        break;
      case "focus":
        this.focus(message.section);
        break;
      case "notice":
        this.notice.textContent = message.text;
        this.notice.classList.toggle("error", message.level === "error");
        break;
    }
  }

  private act(action: RunAction, ids: string[]): void {
    if (ids.length === 0) return;
    this.notice.textContent = "";
    this.post({ type: "run-action", action, ids });
  }

  private focus(section: RunsSection): void {
    const card = this.cards[section === "hyper" ? 1 : 0];
    if (section === "table") window.scrollTo({ top: 0 });
    else card.element.scrollIntoView({ block: "start" });
    card.element.querySelector<HTMLElement>("select, input")?.focus({ preventScroll: true });
  }

  /** One redraw per animation frame, however many changes come before it. */
  private request(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      const state = { rows: this.rows, hyper: this.hyper, palette: this.palette, view: this.view };
      for (const card of this.cards) card.render(state);
    });
  }

  private post(message: RunsPageToHost): void {
    this.vscode.postMessage(message);
  }
}

/** The saved choices, each checked (a state from an older version may lack or mistype any). */
function restoreView(saved: unknown): RunsViewState {
  const s = (saved && typeof saved === "object" ? saved : {}) as Partial<
    Record<keyof RunsViewState, unknown>
  >;
  const sort = s.sort as { column?: unknown; descending?: unknown } | undefined;
  return {
    sort:
      sort && typeof sort.column === "string" && typeof sort.descending === "boolean"
        ? { column: sort.column, descending: sort.descending }
        : { column: "started", descending: true },
    query: typeof s.query === "string" ? s.query : "",
    metric: s.metric === "gauc" || s.metric === "logloss" ? s.metric : "auc",
    selected: Array.isArray(s.selected)
      ? s.selected.filter((id): id is string => typeof id === "string")
      : [],
    hyperX: typeof s.hyperX === "string" ? s.hyperX : "strategy",
    hyperY: typeof s.hyperY === "string" ? s.hyperY : "avAuc",
  };
}
