/**
 * CSV cells, for every CSV the host or the panel writes: a run's export (from its event log), a
 * chart's export (from the run model) and a comparison (several runs with a run column).
 *
 * A cell with a quote, a comma or a line break (a bare carriage return too) is quoted. Numbers are
 * values: they are written as they are.
 */

const NEEDS_QUOTES = /[",\n\r]/;

export function csvField(value: string | number): string {
  if (typeof value === "number") return String(value);
  return NEEDS_QUOTES.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** One CSV line (without its line break). */
export function csvRow(cells: readonly (string | number)[]): string {
  return cells.map(csvField).join(",");
}
