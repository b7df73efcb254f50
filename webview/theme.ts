/**
 * Colours from the VS Code theme. Every colour the panel draws with comes from a --vscode-*
 * variable (charts cannot read CSS variables themselves, so they are resolved here and re-read
 * when the theme changes), which keeps light, dark and high-contrast themes legible.
 */

export interface Rgb {
  r: number;
  g: number;
  b: number;
  a: number;
}

export interface Palette {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  border: string;
  focus: string;
  /** One colour per task, the same in every chart. */
  tasks: string[];
  negative: string;
  positive: string;
  marker: string;
  markerText: string;
  highContrast: boolean;
}

const TASK_VARIABLES = [
  "--vscode-charts-blue",
  "--vscode-charts-orange",
  "--vscode-charts-green",
  "--vscode-charts-purple",
  "--vscode-charts-yellow",
  "--vscode-charts-red",
];
// Used only when the host page defines no chart colours (never inside VS Code).
const TASK_FALLBACKS = ["#3794ff", "#d18616", "#89d185", "#b180d7", "#cca700", "#f14c4c"];

function variable(style: CSSStyleDeclaration, name: string, fallback: string): string {
  const value = style.getPropertyValue(name).trim();
  return value || fallback;
}

export function readPalette(): Palette {
  const style = getComputedStyle(document.body);
  const body = document.body.classList;
  const highContrast = body.contains("vscode-high-contrast") || body.contains("vscode-high-contrast-light");
  const foreground = variable(
    style,
    "--vscode-editor-foreground",
    variable(style, "--vscode-foreground", "#333"),
  );
  const background = variable(style, "--vscode-editor-background", "#fff");
  const base = TASK_VARIABLES.map((name, i) => variable(style, name, TASK_FALLBACKS[i]));
  return {
    foreground,
    muted: variable(style, "--vscode-descriptionForeground", foreground),
    grid: variable(style, "--vscode-charts-lines", withAlpha(foreground, 0.15)),
    background,
    border: variable(style, "--vscode-panel-border", withAlpha(foreground, 0.3)),
    focus: variable(style, "--vscode-focusBorder", "#007fd4"),
    tasks: base,
    negative: variable(style, "--vscode-charts-red", "#f14c4c"),
    positive: variable(style, "--vscode-charts-blue", "#3794ff"),
    marker: variable(
      style,
      "--vscode-editorWarning-foreground",
      variable(style, "--vscode-charts-yellow", "#cca700"),
    ),
    markerText: foreground,
    highContrast,
  };
}

/** Colour of task t: the theme's six chart colours, then hue-shifted variants of them. */
export function taskColor(palette: Palette, t: number): string {
  const base = palette.tasks[t % palette.tasks.length];
  const round = Math.floor(t / palette.tasks.length);
  if (round === 0) return base;
  const c = parseColor(base);
  const shade = round % 2 === 1 ? 0.55 : 1.45;
  return toCss({ r: clamp255(c.r * shade), g: clamp255(c.g * shade), b: clamp255(c.b * shade), a: 1 });
}

/** Parses a CSS colour: hex and rgb()/rgba() by hand (what the theme and this module write), anything else through a 1×1 canvas. */
export function parseColor(css: string): Rgb {
  const hex = /^#([0-9a-f]{3,8})$/i.exec(css.trim());
  if (hex) {
    let h = hex[1];
    if (h.length === 3 || h.length === 4) h = [...h].map((c) => c + c).join("");
    const n = (i: number) => Number.parseInt(h.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), a: h.length === 8 ? n(6) / 255 : 1 };
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+)(%?))?\s*\)$/i.exec(
    css.trim(),
  );
  if (rgb) {
    const alpha = rgb[4] === undefined ? 1 : Number(rgb[4]) / (rgb[5] ? 100 : 1);
    return { r: Number(rgb[1]), g: Number(rgb[2]), b: Number(rgb[3]), a: alpha };
  }
  const probe = document.createElement("canvas").getContext("2d", { willReadFrequently: true });
  if (!probe) return { r: 128, g: 128, b: 128, a: 1 };
  probe.fillStyle = "#000";
  probe.fillStyle = css;
  probe.fillRect(0, 0, 1, 1);
  const [r, g, b, a] = probe.getImageData(0, 0, 1, 1).data;
  return { r, g, b, a: a / 255 };
}

export function toCss(c: Rgb): string {
  return `rgba(${Math.round(c.r)}, ${Math.round(c.g)}, ${Math.round(c.b)}, ${c.a})`;
}

export function withAlpha(css: string, alpha: number): string {
  return toCss({ ...parseColor(css), a: alpha });
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return { r: a.r + (b.r - a.r) * t, g: a.g + (b.g - a.g) * t, b: a.b + (b.b - a.b) * t, a: 1 };
}

/** Diverging scale for cosines: red for conflict, blue for agreement, background at 0. */
export function cosineColor(palette: Palette, value: number): string {
  const end = parseColor(value < 0 ? palette.negative : palette.positive);
  const bg = parseColor(palette.background);
  const strength = Math.min(1, Math.abs(value));
  return toCss(mix(bg, end, 0.12 + 0.88 * strength));
}

/** Black or white text, whichever reads better on a fill. */
export function textOn(fill: string): string {
  const c = parseColor(fill);
  const luminance = (0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b) / 255;
  return luminance > 0.55 ? "#000" : "#fff";
}

function clamp255(x: number): number {
  return Math.max(0, Math.min(255, x));
}
