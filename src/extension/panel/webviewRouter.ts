import type { AckMessage } from "../../protocol/messages";
import type { CommandBody } from "../runs/connection";
import { type HostToWebview, parseWebviewMessage, toHostCommand } from "./messages";

/**
 * What the host does with a message a webview posted: validate it (panel/messages.ts), then act
 * on it through `deps`. Nothing reaches the trainer unless the protocol's own command schema
 * accepts it (ranges, required fields); every command gets an answer under the panel's own id.
 * Pure, so the validation is unit-tested without VS Code.
 */
export interface RouterDeps {
  readonly runId: string;
  readonly runLabel: string;
  /** Undefined (or canCommand false) for a finished run: commands are refused. */
  readonly send?: (body: CommandBody) => Promise<AckMessage>;
  readonly canCommand: boolean;
  post(message: HostToWebview): void;
  ready(): void;
  /** Writes a file the user picks; `bytes` is what the panel sent. */
  save(bytes: Uint8Array, name: string, kind: "csv" | "png"): Promise<void>;
  exportRun(runId: string): Promise<void>;
  openDashboard(runId: string): Promise<void>;
  warn(reason: string): void;
}

export type RouteOutcome =
  | "ignored"
  | "ready"
  | "refused"
  | "sent"
  | "failed"
  | "saved"
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
    case "command": {
      const command = toHostCommand(message);
      if (!command.ok) {
        deps.post({ type: "ack", id: message.id, ok: false, error: command.reason });
        return "refused";
      }
      if (!deps.send || !deps.canCommand) {
        deps.post({ type: "ack", id: message.id, ok: false, error: `${deps.runLabel} is not a live run` });
        return "refused";
      }
      // The connection chooses its own id; the panel hears back under the one it sent.
      const { v: _v, id: _id, ...body } = command.message;
      try {
        const ack = await deps.send(body as CommandBody);
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
          error: error instanceof Error ? error.message : String(error),
        });
        return "failed";
      }
    }
    case "export-csv":
      if (message.csv === undefined) {
        await deps.exportRun(message.runId ?? deps.runId);
        return "exported";
      }
      await deps.save(
        Buffer.from(message.csv, "utf8"),
        message.suggestedName ?? `${deps.runLabel}.csv`,
        "csv",
      );
      return "saved";
    case "export-png": {
      const base64 = message.dataUrl.slice(message.dataUrl.indexOf(",") + 1);
      await deps.save(Buffer.from(base64, "base64"), `${deps.runLabel}-${message.chart}.png`, "png");
      return "saved";
    }
    case "open-dashboard":
      await deps.openDashboard(message.runId ?? deps.runId);
      return "opened";
  }
}
