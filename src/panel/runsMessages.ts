import { z } from "zod";
import type { HyperData } from "./hyperView";
import type { RunRow } from "./runRows";

/**
 * What the runs table's webview and the host say to each other. The host sends the rows and the
 * hyperparameter view's data whenever the runs folder changed or the page asked; the page asks
 * for actions on the rows it shows, which the host checks against those rows before running the
 * same commands as the Runs view (compare, export, delete, open).
 */

export type RunsSection = "table" | "hyper";

export type HostToRunsPage =
  | {
      readonly type: "runs";
      readonly rows: readonly RunRow[];
      readonly hyper: HyperData;
      /** Where the rows come from, shown in the header. */
      readonly runsFolder: string;
    }
  /** Scrolls to a section (the palette's "Hyperparameter View" opens the same page there). */
  | { readonly type: "focus"; readonly section: RunsSection }
  /** The outcome of an action, shown in the header. */
  | { readonly type: "notice"; readonly level: "info" | "error"; readonly text: string };

export const RUN_ACTIONS = ["open", "compare", "export", "delete"] as const;
export type RunAction = (typeof RUN_ACTIONS)[number];

export const RunsPageToHost = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("ready") }),
  z.strictObject({ type: z.literal("refresh") }),
  z.strictObject({
    type: z.literal("run-action"),
    action: z.enum(RUN_ACTIONS),
    ids: z.array(z.string().min(1)).min(1).max(1000),
  }),
]);
export type RunsPageToHost = z.infer<typeof RunsPageToHost>;

/**
 * Why the host refuses an action the page asked for, or null to run it: only rows the page was
 * sent (a page cannot name an arbitrary folder to delete), and as many as the action takes
 * (compare two or more, delete one or more, open and export one).
 */
export function refuseAction(
  action: RunAction,
  ids: readonly string[],
  shown: ReadonlySet<string>,
): string | null {
  const unknown = ids.filter((id) => !shown.has(id)).length;
  if (unknown > 0)
    return `Cannot ${action}: ${unknown} of the runs asked for ${unknown === 1 ? "is" : "are"} not in the table.`;
  const many = action === "compare" || action === "delete";
  const least = action === "compare" ? 2 : 1;
  if (ids.length < least || (!many && ids.length > 1))
    return `Cannot ${action} ${ids.length} run${ids.length === 1 ? "" : "s"}: ${
      action === "compare" ? "select two or more" : many ? "select one or more" : "select one"
    }.`;
  return null;
}
