/**
 * The report's entry (dist/report.js, inlined into the HTML file a report is: docs/dashboard.md,
 * "Report"): the dashboard app, read-only, on the runs the file carries. In place of VS Code it
 * gets a stand-in that answers the app's `ready` with those runs and turns its PNG and CSV
 * exports into browser downloads; nothing leaves the page otherwise.
 */
import type { HostToWebview, WebviewToHost } from "../../src/panel/messages";
import { parseReportJson, REPORT_DATA_ID, type ReportData } from "../../src/panel/reportData";
import { RunModel } from "../../src/panel/runModel";
import { DashboardApp, type VsCodeApi } from "../app";
import theme from "./theme.css";

function startReport(): void {
  const holder = document.getElementById(REPORT_DATA_ID);
  if (!holder?.textContent) throw new Error("this report holds no run data");
  const report = parseReportJson(holder.textContent);
  const style = document.createElement("style");
  style.textContent = theme;
  document.head.append(style);
  // The browser's dark preference picks the dark defaults (theme.css); read before the app's palette.
  const dark = window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
  document.body.classList.add(dark ? "vscode-dark" : "vscode-light");
  const host = new ReportHost(report);
  const app = new DashboardApp(host, { nonce: "", surface: "dashboard", report });
  host.deliver = (message) => app.handle(message);
  app.start();
}

/** What the app posts to "the host", answered inside the page. */
class ReportHost implements VsCodeApi {
  deliver: (message: HostToWebview) => void = () => {};
  private state: unknown;

  constructor(private readonly report: ReportData) {}

  postMessage(raw: unknown): void {
    const message = raw as WebviewToHost;
    switch (message.type) {
      case "ready": {
        const runs = this.report.runs.map((r) => r.snapshot);
        // Answered after the app's start() returns, as a host's message would be.
        queueMicrotask(() =>
          this.deliver(
            runs.length > 1
              ? { type: "compare", runs }
              : { type: "snapshot", run: runs[0], surface: "dashboard" },
          ),
        );
        break;
      }
      case "export-png":
        this.download(`${this.name()}-${message.chart}.png`, message.dataUrl);
        break;
      case "export-csv":
        this.download(
          `${this.name()}-${message.suggestedName ?? "series"}.csv`,
          URL.createObjectURL(new Blob([message.csv ?? this.csv(message.series)], { type: "text/csv" })),
        );
        break;
    }
  }

  getState(): unknown {
    return this.state;
  }

  setState(state: unknown): void {
    this.state = state;
  }

  /** One run's series as the report holds them (all of them without a list). */
  private csv(series: string[] | undefined): string {
    const model = RunModel.fromSnapshot(this.report.runs[0].snapshot);
    return series ? model.toCsv(series) : model.toCsv();
  }

  private name(): string {
    return this.report.runs
      .map((r) => r.snapshot.label.replace(/[^A-Za-z0-9._-]+/g, "_"))
      .join("-vs-")
      .slice(0, 100);
  }

  private download(fileName: string, url: string): void {
    const link = document.createElement("a");
    link.href = url;
    link.download = fileName;
    link.click();
    this.deliver({ type: "notice", level: "info", text: `Downloaded ${fileName}` });
  }
}

startReport();
