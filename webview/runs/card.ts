/**
 * A card of the runs page, drawn from the page's state (rows, not run models). It has the
 * dashboard's card frame and classes (webview/styles.css), so both apps look alike.
 */
import type { HyperData } from "../../src/panel/hyperView";
import type { RunRow } from "../../src/panel/runRows";
import type { RunAction } from "../../src/panel/runsMessages";
import type { Metric, SortKey } from "../../src/panel/runsTable";
import type { Palette } from "../theme";
import { el } from "./dom";

export interface RunsCard {
  readonly id: string;
  readonly element: HTMLElement;
  render(state: RunsState): void;
  destroy(): void;
}

/** What the page shows: the host's data and the user's choices (kept across reloads). */
export interface RunsState {
  readonly rows: readonly RunRow[];
  readonly hyper: HyperData;
  readonly palette: Palette;
  readonly view: RunsViewState;
}

export interface RunsViewState {
  sort: SortKey;
  query: string;
  metric: Metric;
  selected: string[];
  hyperX: string;
  hyperY: string;
}

/** What a card may ask of the app. */
export interface RunsCardContext {
  setView(change: Partial<RunsViewState>): void;
  act(action: RunAction, ids: string[]): void;
}

/** A card's frame: a section with its title and controls in the header. */
export function runsCardShell(id: string, title: string, ...controls: Node[]): HTMLElement {
  return el(
    "section",
    { class: "card wide", "aria-labelledby": `${id}-title`, "data-card": id },
    el(
      "header",
      {},
      el("h2", { id: `${id}-title` }, title),
      el("div", { class: "card-actions" }, ...controls),
    ),
  );
}
