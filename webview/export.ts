/**
 * The cards' PNG and CSV exports. The panel sends what it exports to the host, which asks where to
 * save it and answers with a notice. One run's CSV is built by the host from its own model; in
 * compare mode the panel holds every run and builds one long-form file with a run column.
 */
import { csvRow } from "../src/panel/csv";
import type { WebviewToHost } from "../src/panel/messages";
import type { RunModel } from "../src/panel/runModel";
import type { Card } from "./cards/card";

export interface ExportDeps {
  runs(): readonly RunModel[];
  card(id: string): Card | undefined;
  post(message: WebviewToHost): void;
}

export class Exporter {
  constructor(private readonly deps: ExportDeps) {}

  png(id: string): void {
    const png = this.deps.card(id)?.png?.();
    if (png === undefined) return;
    this.deps.post({ type: "export-png", chart: id, dataUrl: png });
  }

  /**
   * A card's series (null: every series of the runs). One run's are written by the host: a card's
   * from its model, every series from the run's event log, at full resolution.
   */
  csv(id: string | null): void {
    const card = id ? this.deps.card(id) : undefined;
    const seriesOf = (run: RunModel) =>
      card ? (card.csvSeries?.(run) ?? []) : [...run.series.keys()].sort();
    const runs = this.deps.runs();
    if (runs.length === 1) {
      const series = id === null ? undefined : seriesOf(runs[0]);
      this.deps.post({ type: "export-csv", runId: runs[0].runId, series, suggestedName: id ?? "all" });
      return;
    }
    this.deps.post({ type: "export-csv", csv: compareCsv(runs, seriesOf), suggestedName: id ?? "compare" });
  }
}

/** Several runs' series as one long-form CSV: run,series,step,time_ms,value. */
export function compareCsv(runs: readonly RunModel[], seriesOf: (run: RunModel) => string[]): string {
  const rows = ["run,series,step,time_ms,value"];
  for (const run of runs)
    for (const cells of run.csvCells(seriesOf(run))) rows.push(csvRow([run.label, ...cells]));
  return `${rows.join("\n")}\n`;
}
