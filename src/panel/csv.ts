/**
 * CSV cells, for every CSV the host or the panel writes: a run's export (from its event log), a
 * chart's export (from the run model) and a comparison (several runs with a run column).
 *
 * Text that a spreadsheet would take for a formula (a first character `=`, `+`, `-`, `@`, a tab or
 * a carriage return: a run or task named `=1+2`, say) gets a quote mark in front, so it is shown,
 * not run. A cell with a quote, a comma or a line break (a bare carriage return too) is quoted.
 * Numbers are values: they are written as they are, a negative one stays a number.
 */

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\n\r]/;

export function csvField(value: string | number): string {
  if (typeof value === "number") return String(value);
  const text = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line (without its line break). */
export function csvRow(cells: readonly (string | number)[]): string {
  return cells.map(csvField).join(",");
}
