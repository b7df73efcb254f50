/** How the panel writes numbers, parameters and strategy changes (marker labels, the header). */

export function formatValue(value: unknown): string {
  return typeof value === "number" ? formatNumber(value) : JSON.stringify(value);
}

export function formatNumber(value: number): string {
  if (value === 0) return "0";
  const abs = Math.abs(value);
  if (abs >= 1e4 || abs < 1e-3) return value.toExponential(2).replace("e+", "e");
  return String(Number(value.toPrecision(4)));
}

function describeParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === "number" ? formatNumber(v) : JSON.stringify(v)}`)
    .join(", ");
}

export function describeStrategy(s: { name: string; params: Record<string, unknown> }): string {
  const params = describeParams(s.params);
  return params ? `→ ${s.name} (${params})` : `→ ${s.name}`;
}

export function describeParamsChange(
  before: { name: string; params: Record<string, unknown> } | null,
  after: { name: string; params: Record<string, unknown> },
): string {
  const changed: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(after.params)) {
    if (JSON.stringify(before?.params?.[k]) !== JSON.stringify(v)) changed[k] = v;
  }
  return `${after.name}: ${describeParams(changed) || "parameters"}`;
}
