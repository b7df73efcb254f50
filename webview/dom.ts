/** The few DOM builders every piece of the panel uses. */

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (key === "class") element.className = value;
    else element.setAttribute(key, value);
  }
  element.append(...children);
  return element;
}

export function select(
  id: string,
  options: [string, string][],
  value: string,
  onChange: (value: string) => void,
): HTMLSelectElement {
  const element = el("select", { id });
  for (const [v, label] of options) element.append(el("option", { value: v }, label));
  element.value = value;
  element.addEventListener("change", () => onChange(element.value));
  return element;
}

/**
 * A short line in a colour and dash: compare mode names each run with one in its colour (legend,
 * header, table, heatmap captions) and each task with one in its dash (the task toggles).
 */
export function lineSample(color: string | null, dash: readonly number[] = []): SVGSVGElement {
  const sample = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  sample.setAttribute("width", "28");
  sample.setAttribute("height", "8");
  sample.setAttribute("aria-hidden", "true");
  sample.classList.add("dash-sample");
  const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
  for (const [k, v] of [
    ["x1", "0"],
    ["y1", "4"],
    ["x2", "28"],
    ["y2", "4"],
    ["stroke-dasharray", dash.join(" ")],
  ])
    line.setAttribute(k, v);
  if (color) line.style.stroke = color;
  sample.append(line);
  return sample;
}
