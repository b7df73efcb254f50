/** The runs page builds its DOM with the dashboard's builders; only VS Code's handle is its own. */
export { el, select } from "../dom";

/** What VS Code gives a webview script (acquireVsCodeApi). */
export interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
