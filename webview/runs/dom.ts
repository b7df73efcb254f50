/** The DOM builders of the runs page (the same two the dashboard's cards are built with). */

/** What VS Code gives a webview script (acquireVsCodeApi). */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

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
