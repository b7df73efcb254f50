/**
 * What every card of the panel is: an element with a render from the current scene, a destroy,
 * and optionally its exports. A new kind of card is one module implementing `Card`, placed in a
 * layout (layout.ts); nothing else needs to know its kind.
 */
import type { RunModel } from "../../src/panel/runModel";
import type { ChartMarker, ZoomGroup } from "../charts/timeChart";
import type { Commands } from "../commands";
import type { ControlButtons } from "../controlButtons";
import type { RunCut } from "../cut";
import { el } from "../dom";
import type { SeriesPoints } from "../points";
import type { Palette } from "../theme";
import type { ViewOptions, ViewState } from "../view";

export interface Card {
  readonly id: string;
  readonly element: HTMLElement;
  /** Draws the card from the runs as they are now. */
  render(scene: Scene): void;
  destroy(): void;
  /** The card as drawn, as a PNG data URL (for cards with a PNG button). */
  png?(): string;
  /** The series of a run the card's CSV button exports (for cards with one). */
  csvSeries?(run: RunModel): string[];
}

/** What a frame draws from, worked out once for all the cards it draws. */
export interface Scene {
  readonly runs: readonly RunModel[];
  readonly view: Readonly<ViewState>;
  readonly palette: Palette;
  /** Every task of the runs, in the order first named: a task's colour follows its place here. */
  readonly tasks: readonly string[];
  /**
   * Where each run stood when this redraw began (index = run): every card draws up to there, so
   * cards drawn in later frames show the same latest step as the first.
   */
  readonly cuts: readonly RunCut[];
  /** The markers of every run up to its cut (in compare mode named and numbered by their run). */
  readonly markers: readonly ChartMarker[];
  /** Where the time charts' x axes end: the furthest run's cut step (or time). */
  readonly xEnd: number;
}

/** The services a card is built with: the app's, never module-level state. */
export interface CardContext {
  readonly view: Readonly<ViewState>;
  /** The theme's colours when the card is built (a theme change builds every card again). */
  readonly palette: Palette;
  /** The runs shown now (a snapshot may replace a run's model under the same card). */
  runs(): readonly RunModel[];
  /** Changes view options: they are saved, and every card is drawn again. */
  setView(change: Partial<ViewOptions>): void;
  /** Draws one card again at the next frame (its own state changed, not a view option). */
  redraw(id: string): void;
  exportPng(id: string): void;
  exportCsv(id: string): void;
  /** The time charts' shared x range (zoom and pan move all of them). */
  readonly zoom: ZoomGroup;
  readonly points: SeriesPoints;
  readonly commands: Commands;
  readonly buttons: ControlButtons;
}

export interface ShellOptions {
  wide?: boolean;
  /** A PNG button (default on). */
  png?: boolean;
  /** A CSV button (default on). */
  csv?: boolean;
  /** Controls in the card's header, before the export buttons. */
  extra?: Node[];
}

/** A card's frame: a section titled `title`, with its controls and export buttons in the header. */
export function cardShell(
  context: CardContext,
  id: string,
  title: string,
  options: ShellOptions = {},
): HTMLElement {
  const heading = el("h2", { id: `${id}-title` }, title);
  const actions = el("div", { class: "card-actions" }, ...(options.extra ?? []));
  if (options.png !== false) {
    const png = el(
      "button",
      { class: "icon", type: "button", "aria-label": `Export ${title} as PNG`, title: "Export as PNG" },
      "PNG",
    );
    png.addEventListener("click", () => context.exportPng(id));
    actions.append(png);
  }
  if (options.csv !== false) {
    const csvButton = el(
      "button",
      {
        class: "icon",
        type: "button",
        "aria-label": `Export ${title} series as CSV`,
        title: "Export series as CSV",
      },
      "CSV",
    );
    csvButton.addEventListener("click", () => context.exportCsv(id));
    actions.append(csvButton);
  }
  return el(
    "section",
    { class: `card${options.wide ? " wide" : ""}`, "aria-labelledby": `${id}-title`, "data-card": id },
    el("header", {}, heading, actions),
  );
}

export function canvasIn(card: HTMLElement, label: string, square = false): HTMLCanvasElement {
  const canvas = el("canvas", { role: "img", "aria-label": label });
  card.append(el("div", { class: `chart-box${square ? " square" : ""}` }, canvas));
  return canvas;
}

/** The task indices of a run the user hid. */
export function hiddenIndices(run: RunModel, hiddenTasks: readonly string[]): Set<number> {
  const hidden = new Set<number>();
  run.tasks.forEach((task, t) => {
    if (hiddenTasks.includes(task)) hidden.add(t);
  });
  return hidden;
}
