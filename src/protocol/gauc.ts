/**
 * How every view shows a GAUC that does not apply: data without a user column has no groups to
 * average AUC over, so its GAUC is "n/a" (never 0, NaN or a blank). Apart from messages.ts so that
 * the panel's webview can use it without the protocol's schemas.
 */

/** Text for a GAUC cell: "n/a" where the split says the data has no user column. */
export function gaucText(
  split: { gaucApplicable?: false } | undefined,
  value: number | null | undefined,
  format: (x: number | null | undefined) => string,
): string {
  return split?.gaucApplicable === false ? "n/a" : format(value);
}

/** The note under a table with "n/a" GAUC cells, and their hover text. */
export const GAUC_NOT_APPLICABLE = "GAUC n/a: the data has no user column to group rows by.";
