/**
 * The marker lane: a band above a time chart's plot where its markers' labels sit, so that no
 * label ever covers data and no two labels cover each other. Each label is short (the strategy
 * switched to, the hyperparameter and its new value); the full text shows on hover. Labels go in
 * rows: a run's own row when comparing runs, else the first row where a label fits; one that
 * fits nowhere is left out (its line stays, and hovering it still shows its text), the latest
 * markers first. Placement is pure (test/unit/webview/markerLane.test.ts).
 */
import type { Marker } from "../../src/panel/snapshot";

/** Height of one row of the lane, in CSS pixels. */
export const LANE_ROW_HEIGHT = 16;
/** Space between the lane and the plot. */
export const LANE_GAP = 4;
/** Least space between two labels of one row. */
const LABEL_GAP = 6;

const SHORT_NAMES: Record<string, string> = {
  learningRate: "lr",
  clipNorm: "clip",
  evalEvery: "eval every",
};

/** A marker's label for the lane: short; the marker's full label is its hover text. */
export function shortLabel(marker: Pick<Marker, "kind" | "label">, max = 18): string {
  const { kind, label } = marker;
  let text = label;
  if (kind === "strategy" && label.startsWith("→ ")) text = `→ ${label.slice(2).split(" (")[0]}`;
  else if (kind === "hyperparameters") {
    const changes = label.split(", ");
    const [name, values = ""] = changes[0].split(" ");
    const to = values.split("→").at(-1) ?? "";
    text = `${SHORT_NAMES[name] ?? name} → ${to}${changes.length > 1 ? ` +${changes.length - 1}` : ""}`;
  } else if (kind === "checkpoint") text = "ckpt";
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A label to place: where its marker is (x, pixels), how wide its text is, the rows it may use. */
export interface LabelRequest {
  x: number;
  width: number;
  rows: readonly number[];
}

/** Where a label went: its row (null: left out) and its box's left edge. */
export interface Placement {
  row: number | null;
  left: number;
}

/**
 * Places labels centred on their markers (moved inwards at the plot's edges), each in the first
 * of its rows where it clears the labels already there; the requests are taken last first, so
 * the latest markers keep their labels.
 */
export function placeLabels(requests: readonly LabelRequest[], left: number, right: number): Placement[] {
  const taken = new Map<number, { left: number; right: number }[]>();
  const out: Placement[] = requests.map(() => ({ row: null, left: 0 }));
  for (let i = requests.length - 1; i >= 0; i--) {
    const { x, width, rows } = requests[i];
    const start = Math.min(Math.max(x - width / 2, left), Math.max(left, right - width));
    const box = { left: start, right: start + width };
    out[i].left = start;
    for (const row of rows) {
      const boxes = taken.get(row) ?? [];
      const clear = boxes.every((b) => box.right + LABEL_GAP <= b.left || b.right + LABEL_GAP <= box.left);
      if (!clear) continue;
      boxes.push(box);
      taken.set(row, boxes);
      out[i].row = row;
      break;
    }
  }
  return out;
}
