/** CSV cells, for every CSV the panel or the host writes. */

export function csvField(text: string): string {
  return /[",\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
