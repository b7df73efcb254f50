import type { RunSnapshot } from "./snapshot";

/**
 * The snapshots a compare panel shows, one per run, in the order picked. Runs of one config share
 * a label: those are told apart by their run folder's name (else by their place in the list), so
 * every legend, table row and heatmap caption names one run.
 */
export function compareSnapshots(
  runs: readonly { label: string; runDir?: string; model: { toSnapshot(): RunSnapshot } }[],
): RunSnapshot[] {
  return runs.map((run, i) => {
    const snapshot = run.model.toSnapshot();
    const twins = runs.filter((r) => r.label === run.label).length > 1;
    if (!twins) return snapshot;
    const folder = run.runDir
      ?.replace(/[\\/]+$/, "")
      .split(/[\\/]/)
      .pop();
    return { ...snapshot, label: folder || `${run.label} #${i + 1}` };
  });
}
