/** The few DOM builders every piece of the panel uses. */
import { runDash } from "./compare";

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

/** A short line in run i's dash: the legend, the table and the heatmap captions name runs with it. */
export function dashSample(run: number): SVGSVGElement {
  const sample = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  sample.setAttribute("width", "28");
  sample.setAttribute("height", "8");
  sample.setAttribute("aria-hidden", "true");
  sample.classList.add("dash-sample");
  sample.innerHTML = `<line x1="0" y1="4" x2="28" y2="4" stroke-dasharray="${runDash(run).join(" ")}"></line>`;
  return sample;
}
