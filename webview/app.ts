/**
 * The panel app: it owns the runs shown (mirrors of the host's run models), the view state and
 * the cards, and reads what the host posts. The host sends a snapshot on (re)open and, at most
 * every 50 ms, a patch of what changed (bounded, whatever the trainer's speed); the app applies
 * it at once and leaves drawing to the scheduler: once per animation frame, only the cards on
 * screen, charts at most every LIVE_REDRAW_MS while live.
 */
import type { HostToWebview, Surface, WebviewToHost } from "../src/panel/messages";
import type { ReportData } from "../src/panel/reportData";
import { RunModel } from "../src/panel/runModel";
import type { CardContext, Scene } from "./cards/card";
import { CardDeck, watchVisibility } from "./cards/deck";
import { shortLabel } from "./charts/markerLane";
import { applyThemeDefaults, registerCharts } from "./charts/setup";
import { type ChartMarker, ZoomGroup } from "./charts/timeChart";
import { Commands, isLive } from "./commands";
import { taskUnion } from "./compare";
import { ControlButtons } from "./controlButtons";
import { cutRun, markersAt, type RunCut } from "./cut";
import { el } from "./dom";
import { Exporter } from "./export";
import { Header, type Notice } from "./header";
import { conflictsCards, dashboardCards } from "./layout";
import { SeriesPoints } from "./points";
import { Scheduler } from "./scheduler";
import css from "./styles.css";
import { type Palette, readPalette } from "./theme";
import { buildToolbar } from "./toolbar";
import { restoreView, type ViewOptions, type ViewState } from "./view";

/** What VS Code gives a webview script (acquireVsCodeApi). */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

export class DashboardApp {
  readonly view: ViewState;
  /** The runs shown: one, or several in compare mode (the first is the baseline). */
  runs: RunModel[] = [];
  readonly deck: CardDeck;
  readonly scheduler: Scheduler;
  private palette: Palette;
  private notice: Notice | null = null;
  /** The runs, tasks and surface the page was built for: another set builds it again. */
  private layoutKey = "";
  private readonly commands: Commands;
  private readonly buttons: ControlButtons;
  private readonly zoom = new ZoomGroup();
  private readonly points = new SeriesPoints();
  private readonly exporter: Exporter;
  private readonly header: Header;
  private readonly toolbar = el("section", { class: "toolbar", "aria-label": "View options" });
  private readonly grid = el("main", { class: "grid" });
  /** The run's controls beside the charts, in view while they scroll (empty: none, compare mode). */
  private readonly side = el("aside", { class: "side", "aria-label": "Strategy and hyperparameters" });
  /** Where each run stood when the cards' redraw began: every card of it draws up to there (cut.ts). */
  private cut: { runs: readonly RunModel[]; cuts: RunCut[] } = { runs: [], cuts: [] };

  constructor(
    private readonly vscode: VsCodeApi,
    /**
     * The host's CSP nonce, which also admits the stylesheet the app injects; the page's surface;
     * in a report (webview/report/), its data: the page is then read-only.
     */
    private readonly page: { nonce: string; surface?: Surface; report?: ReportData },
  ) {
    this.view = restoreView(vscode.getState(), page.surface);
    this.palette = readPalette();
    this.deck = new CardDeck(watchVisibility(), () => this.scheduler.request());
    this.scheduler = new Scheduler(
      {
        paint: (hasTime) => {
          this.header.render();
          return this.deck.drawStale(this.scene(), hasTime);
        },
        invalidate: () => {
          this.cut = { runs: this.runs, cuts: this.runs.map(cutRun) };
          this.deck.invalidate();
        },
      },
      {
        now: () => performance.now(),
        nextFrame: (callback) => requestAnimationFrame(callback),
        after: (callback, ms) => setTimeout(callback, ms),
      },
    );
    this.commands = new Commands({
      record: this.view,
      runId: () => this.runs[0]?.runId,
      post: (message) => this.post(message),
      persist: () => this.persist(),
      now: () => Date.now(),
      changed: () => this.header.render(),
    });
    this.buttons = new ControlButtons(this.commands, () => this.runs[0]);
    this.exporter = new Exporter({
      runs: () => this.runs,
      card: (id) => this.deck.get(id),
      post: (message) => this.post(message),
    });
    this.header = new Header({
      view: this.view,
      runs: () => this.runs,
      palette: () => this.palette,
      notice: () => this.notice,
      commands: this.commands,
      buttons: this.buttons,
      post: (message) => this.post(message),
      readOnly: page.report !== undefined,
    });
  }

  start(): void {
    const style = document.createElement("style");
    if (this.page.nonce) style.nonce = this.page.nonce;
    style.textContent = css;
    document.head.append(style);
    registerCharts();
    applyThemeDefaults(this.palette, fontFamily());
    document.body.append(
      el(
        "div",
        { id: "app" },
        this.header.element,
        this.toolbar,
        el("div", { class: "columns" }, this.grid, this.side),
      ),
    );
    // The side column sticks just under the header, whose height changes as its facts wrap.
    new ResizeObserver(() => {
      document.body.style.setProperty("--bar-height", `${this.header.element.offsetHeight}px`);
    }).observe(this.header.element);
    this.build();
    // VS Code swaps the body's theme classes (and the variables) when the user changes theme.
    let themeClasses = themeClassKey();
    new MutationObserver(() => {
      const next = themeClassKey();
      if (next === themeClasses) return; // our own surface-* class changes
      themeClasses = next;
      this.retheme();
    }).observe(document.body, { attributes: true, attributeFilter: ["class"] });
    window.addEventListener("message", (event: MessageEvent) => {
      const data = event.data as HostToWebview | undefined;
      if (data && typeof data === "object" && typeof data.type === "string") this.handle(data);
    });
    // Commands still pending from before a reload keep their state; their acks may still come.
    this.post({ type: "ready", surface: this.view.surface });
  }

  /** What a frame draws from: the runs up to where they stood when the redraw began. */
  scene(): Scene {
    const { runs, view } = this;
    if (this.cut.runs !== runs) this.cut = { runs, cuts: runs.map(cutRun) };
    const { cuts } = this.cut;
    return {
      runs,
      view,
      palette: this.palette,
      tasks: taskUnion(runs),
      cuts,
      markers: allMarkers(runs, cuts),
      xEnd: Math.max(0, ...cuts.map((c) => (view.xMode === "step" ? c.step : c.elapsed / 1000))),
    };
  }

  handle(message: HostToWebview): void {
    switch (message.type) {
      case "snapshot": {
        if (message.surface) this.view.surface = message.surface;
        if (message.runDir) this.view.runDir = message.runDir;
        this.runs = [RunModel.fromSnapshot(message.run)];
        if (isLive(this.runs[0])) this.commands.expireStale();
        else this.commands.forget();
        if (message.settings) this.applySettings(message.settings);
        this.persist();
        this.ensureLayout();
        this.confirmApplied();
        this.scheduler.invalidate();
        break;
      }
      case "compare":
        this.runs = message.runs.map((r) => RunModel.fromSnapshot(r));
        if (message.settings) this.applySettings(message.settings);
        this.layoutKey = "";
        this.ensureLayout();
        this.scheduler.invalidate();
        break;
      case "delta": {
        const run = this.runs.find((r) => r.runId === message.runId);
        // A delta for a run not shown (compare mode) is still taken: the host sends the next.
        if (run) this.applyDelta(run, message);
        else this.confirmApplied();
        break;
      }
      case "ack":
        this.commands.resolve(message);
        break;
      case "settings":
        this.applySettings(message.settings);
        this.scheduler.invalidate();
        break;
      case "notice":
        this.notice = { text: message.text, level: message.level };
        this.header.render();
        break;
    }
  }

  /**
   * One delta: the host's changes since the previous one, applied at once (its size follows the
   * buckets touched, not the steps behind it); the redraw waits for the next frame, however many
   * deltas come before it. A mirror that cannot take the patch asks for a snapshot.
   */
  private applyDelta(run: RunModel, message: Extract<HostToWebview, { type: "delta" }>): void {
    const started = performance.now();
    const tasksBefore = run.tasks.length;
    const strategiesBefore = run.strategies.length;
    try {
      run.applyPatch(message.patch);
    } catch {
      this.post({ type: "ready", surface: this.view.surface });
      return;
    }
    for (const ack of message.acks) this.commands.resolve(ack);
    this.scheduler.ingested(performance.now() - started);
    if (run.tasks.length !== tasksBefore || run.strategies.length !== strategiesBefore) this.ensureLayout();
    this.confirmApplied();
    this.scheduler.live();
  }

  /**
   * Tells the host the snapshot or delta is in: it holds the next one until then, so a busy panel
   * never has a queue of deltas gone stale to work through, whatever the trainer's speed. Said
   * once the data is in, not once drawn: the next frame draws the newest data either way.
   */
  private confirmApplied(): void {
    this.post({ type: "applied" });
  }

  private applySettings(settings: { maxPoints?: number; heatmapWindowMax?: number }): void {
    const next: { maxPoints?: number; heatmapWindowMax?: number } = {};
    if (settings.maxPoints) next.maxPoints = settings.maxPoints;
    if (settings.heatmapWindowMax) next.heatmapWindowMax = settings.heatmapWindowMax;
    for (const run of this.runs) run.applySettings(next);
  }

  private setView(change: Partial<ViewOptions>): void {
    Object.assign(this.view, change);
    this.persist();
    this.scheduler.invalidate();
  }

  private ensureLayout(): void {
    const { surface } = this.view;
    const key = `${surface}|${this.runs.map((r) => `${r.runId}:${r.tasks.join(",")}:${r.strategies.length}`).join(";")}`;
    if (key === this.layoutKey) return;
    this.layoutKey = key;
    this.build();
    if (this.runs[0]) this.scheduler.invalidate();
  }

  /** Builds the page for the runs and surface shown now. */
  private build(): void {
    this.deck.clear();
    const { surface } = this.view;
    const body = document.body.classList;
    for (const name of [...body])
      if (name.startsWith("surface-") && name !== `surface-${surface}`) body.remove(name);
    if (!body.contains(`surface-${surface}`)) body.add(`surface-${surface}`);
    this.buttons.clear();
    this.header.build();
    this.toolbar.replaceChildren();
    this.grid.replaceChildren();
    this.side.replaceChildren();
    this.side.hidden = true;
    if (!this.runs[0]) {
      this.grid.append(
        el("p", { class: "empty muted" }, "Waiting for a run… Start training or open a finished run."),
      );
      return;
    }
    if (surface === "dashboard")
      buildToolbar(this.toolbar, {
        view: this.view,
        palette: this.palette,
        zoom: this.zoom,
        runs: () => this.runs,
        setView: (change) => this.setView(change),
        exportAll: () => this.exporter.csv(null),
        exportReport: this.page.report ? undefined : () => this.post({ type: "export-report" }),
      });
    const context = this.cardContext();
    const layout =
      surface === "conflicts" ? conflictsCards(context) : dashboardCards(context, this.page.report);
    for (const [cards, holder] of [
      [layout.grid, this.grid],
      [layout.side, this.side],
    ] as const)
      for (const card of cards) {
        holder.append(card.element);
        this.deck.add(card);
      }
    this.side.hidden = layout.side.length === 0;
    this.header.render();
  }

  /** What the cards of this build are made with. */
  private cardContext(): CardContext {
    return {
      view: this.view,
      palette: this.palette,
      runs: () => this.runs,
      setView: (change) => this.setView(change),
      redraw: (id) => {
        this.deck.markStale(id);
        this.scheduler.request();
      },
      exportPng: (id) => this.exporter.png(id),
      exportCsv: (id) => this.exporter.csv(id),
      zoom: this.zoom,
      points: this.points,
      commands: this.commands,
      buttons: this.buttons,
    };
  }

  private retheme(): void {
    this.palette = readPalette();
    applyThemeDefaults(this.palette, fontFamily());
    // Swatches in the toolbar carry task colours too: the whole page is built again.
    this.layoutKey = "";
    this.ensureLayout();
    this.scheduler.invalidate();
  }

  private post(message: WebviewToHost): void {
    this.vscode.postMessage(message);
  }

  private persist(): void {
    this.vscode.setState(this.view);
  }
}

/** Every run's markers up to its cut; in compare mode each carries its run's index and name. */
function allMarkers(runs: readonly RunModel[], cuts: readonly RunCut[]): ChartMarker[] {
  if (runs.length <= 1) return runs[0] ? markersAt(runs[0].markers, cuts[0]) : [];
  return runs.flatMap((run, r) =>
    markersAt(run.markers, cuts[r]).map((m) => ({
      ...m,
      run: r,
      label: `${run.label}: ${m.label}`,
      short: shortLabel(m),
    })),
  );
}

function fontFamily(): string {
  return getComputedStyle(document.body).getPropertyValue("--vscode-font-family").trim() || "sans-serif";
}

function themeClassKey(): string {
  return [...document.body.classList]
    .filter((c) => c.startsWith("vscode-"))
    .sort()
    .join(" ");
}
