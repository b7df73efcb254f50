import { type HostToWebview, parseWebviewMessage, toHostCommand } from "../../panel/messages";
import type { AckMessage } from "../../protocol/messages";
import type { CommandBody } from "../runs/connection";

/**
 * What the host does with a message a webview posted: validate it (src/panel/messages.ts), then act
 * on it through `deps`. Nothing reaches the trainer unless the protocol's own command schema
 * accepts it (ranges, required fields); every command gets an answer under the panel's own id;
 * every export is answered with a notice (where the file went, or why it did not). A run's
 * dashboard, the Conflicts view and the compare panel all route through here. Pure, so the
 * validation is unit-tested without VS Code.
 */
export interface RouterDeps {
  readonly runId: string;
  readonly runLabel: string;
  /** Undefined (or canCommand false) for a finished run: commands are refused. */
  readonly send?: (body: CommandBody) => Promise<AckMessage>;
  /**
   * Stop for a run this window started: the stop command, then signals if the trainer does not
   * end, as the palette's Stop does; resolves with the command's ack. Undefined (or returning
   * undefined): a stop is sent as a plain command.
   */
  readonly stop?: () => Promise<AckMessage> | undefined;
  readonly canCommand: boolean;
  /** Why commands are refused when the panel is not one live run's (default: "<label> is not a live run"). */
  readonly commandRefusal?: string;
  post(message: HostToWebview): void;
  ready(): void;
  /** The panel took in the last snapshot or delta (only a live feed needs to know). */
  applied?(): void;
  /**
   * Writes a file the user picks; `bytes` is what the panel sent. Resolves to where it went
   * (undefined: the user cancelled); rejects when writing failed, the message naming the file.
   */
  save(bytes: Uint8Array, name: string, kind: "csv" | "png"): Promise<string | undefined>;
  /** export-csv without series: every series of the run, at full resolution (from its event log). */
  exportRun(runId: string): Promise<void>;
  /**
   * export-csv of some series (a chart's): their CSV as the host's model of a run this panel shows
   * keeps them (the points the chart draws from); undefined when the panel shows no such run.
   */
  seriesCsv(runId: string, series: string[]): string | undefined;
  openDashboard(runId: string): Promise<void>;
  /**
   * Writes the runs this panel shows as one HTML report where the user picks (docs/dashboard.md,
   * "Report"). Resolves to where it went (undefined: cancelled); rejects when it could not be written.
   */
  exportReport(): Promise<string | undefined>;
  warn(reason: string): void;
}

export type RouteOutcome =
  | "ignored"
  | "ready"
  | "applied"
  | "refused"
  | "sent"
  | "failed"
  | "saved"
  | "cancelled"
  | "exported"
  | "opened";

export async function routeWebviewMessage(raw: unknown, deps: RouterDeps): Promise<RouteOutcome> {
  const parsed = parseWebviewMessage(raw);
  if (!parsed.ok) {
    deps.warn(parsed.reason);
    return "ignored";
  }
  const message = parsed.message;
  switch (message.type) {
    case "ready":
      deps.ready();
      return "ready";
    case "applied":
      deps.applied?.();
      return "applied";
    case "command": {
      const command = toHostCommand(message);
      if (!command.ok) {
        deps.post({ type: "ack", id: message.id, ok: false, error: command.reason });
        return "refused";
      }
      if (!deps.send || !deps.canCommand) {
        deps.post({
          type: "ack",
          id: message.id,
          ok: false,
          error: deps.commandRefusal ?? `${deps.runLabel} is not a live run`,
        });
        return "refused";
      }
      // The connection chooses its own id; the panel hears back under the one it sent.
      const { v: _v, id: _id, ...body } = command.message;
      try {
        const ack = await ((body.type === "stop" ? deps.stop?.() : undefined) ??
          deps.send(body as CommandBody));
        deps.post({
          type: "ack",
          id: message.id,
          ok: ack.ok,
          step: ack.step,
          result: ack.result,
          error: ack.error,
        });
        return "sent";
      } catch (error) {
        deps.post({
          type: "ack",
          id: message.id,
          ok: false,
          error: errorText(error),
        });
        return "failed";
      }
    }
    case "export-csv": {
      if (message.csv !== undefined)
        return saveAndTell(
          deps,
          Buffer.from(message.csv, "utf8"),
          message.suggestedName ?? `${deps.runLabel}.csv`,
          "csv",
        );
      const runId = message.runId ?? deps.runId;
      if (message.series === undefined) {
        await deps.exportRun(runId);
        return "exported";
      }
      const csv = deps.seriesCsv(runId, message.series);
      if (csv === undefined) {
        deps.warn(`export-csv: this panel shows no run ${runId}`);
        return "ignored";
      }
      const name = `${deps.runLabel}-${message.suggestedName ?? "series"}.csv`;
      return saveAndTell(deps, Buffer.from(csv, "utf8"), name, "csv");
    }
    case "export-png": {
      const base64 = message.dataUrl.slice(message.dataUrl.indexOf(",") + 1);
      return saveAndTell(deps, Buffer.from(base64, "base64"), `${deps.runLabel}-${message.chart}.png`, "png");
    }
    case "open-dashboard":
      await deps.openDashboard(message.runId ?? deps.runId);
      return "opened";
    case "export-report":
      return tell(deps, `${deps.runLabel} report`, () => deps.exportReport());
  }
}

async function saveAndTell(
  deps: RouterDeps,
  bytes: Uint8Array,
  name: string,
  kind: "csv" | "png",
): Promise<RouteOutcome> {
  return tell(deps, name, () => deps.save(bytes, name, kind));
}

/** One place says how an export went: the panel shows it in its notice line. */
async function tell(
  deps: RouterDeps,
  name: string,
  write: () => Promise<string | undefined>,
): Promise<RouteOutcome> {
  try {
    const where = await write();
    if (where === undefined) return "cancelled";
    deps.post({ type: "notice", level: "info", text: `Saved ${where}` });
    return "saved";
  } catch (error) {
    const reason = errorText(error);
    deps.post({ type: "notice", level: "error", text: `Could not save ${name}: ${reason}` });
    return "failed";
  }
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
