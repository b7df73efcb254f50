/**
 * The contract between the extension host and the panel webview (both surfaces: the conflicts
 * side view and the dashboard editor panel): every message each side may post, as zod schemas,
 * and the validation the host runs on what a panel posts. Nothing else: the host's feed lives in
 * src/extension/panel/feed.ts, the run model both sides hold in runModel.ts.
 *
 * Flow: the webview posts `ready`; the host answers `snapshot` (decimated history of the run), then
 * `delta`s (patches of the host's model, batched), `ack`s for commands the panel sent, `settings`
 * when the user's settings or theme change, and `compare` for several runs; the panel confirms
 * each snapshot and delta with `applied`.
 */
import { z } from "zod";
import {
  type AckMessage,
  type HostCommand,
  type ParseResult,
  PROTOCOL_VERSION,
  parseHostCommand,
} from "../protocol/messages";
import type { RunPatch, RunSnapshot } from "./snapshot";

// ---------------------------------------------------------------------------------------------
// Host → webview

const runSnapshot = z.custom<RunSnapshot>(
  (value) =>
    typeof value === "object" &&
    value !== null &&
    typeof (value as { runId?: unknown }).runId === "string" &&
    typeof (value as { series?: unknown }).series === "object",
  { message: "expected a run snapshot (runId, series...)" },
);

export const ThemeKind = z.enum(["light", "dark", "high-contrast", "high-contrast-light"]);
export type ThemeKind = z.infer<typeof ThemeKind>;

export const ViewSettings = z.object({
  maxPoints: z.number().int().min(8).max(100_000).optional(),
  heatmapWindowMax: z.number().int().min(1).max(10_000).optional(),
  /** The VS Code colour theme kind; the panel restyles itself from the --vscode-* variables anyway. */
  theme: ThemeKind.optional(),
});
export type ViewSettings = z.infer<typeof ViewSettings>;

export const Surface = z.enum(["dashboard", "conflicts"]);
export type Surface = z.infer<typeof Surface>;

export const SnapshotMessage = z.object({
  type: z.literal("snapshot"),
  run: runSnapshot,
  /** Which surface the webview shows (the host knows whether it is a view or an editor panel). */
  surface: Surface.optional(),
  settings: ViewSettings.optional(),
  /** The run's folder: the panel keeps it in its state, so a reloaded window reopens this run. */
  runDir: z.string().optional(),
});

export const DeltaMessage = z.object({
  type: z.literal("delta"),
  runId: z.string(),
  /** What changed in the host's model since the previous delta (src/panel/patch.ts `PatchCursor`). */
  patch: z.custom<RunPatch>(
    (p) => typeof p === "object" && p !== null && typeof (p as { series?: unknown }).series === "object",
  ),
  /** The trainer's acks since the previous delta, in arrival order (commands the panel sent). */
  acks: z.array(z.custom<AckMessage>((m) => typeof m === "object" && m !== null && "id" in m)),
});

export const PanelAckMessage = z.object({
  type: z.literal("ack"),
  id: z.string(),
  ok: z.boolean(),
  step: z.number().optional(),
  result: z.unknown().optional(),
  error: z.string().optional(),
});

export const SettingsMessage = z.object({ type: z.literal("settings"), settings: ViewSettings });

export const CompareMessage = z.object({
  type: z.literal("compare"),
  runs: z.array(runSnapshot).min(1),
  settings: ViewSettings.optional(),
});

/** The host's answer to an export request (where the file went, or why it did not). */
export const NoticeMessage = z.object({
  type: z.literal("notice"),
  level: z.enum(["info", "error"]),
  text: z.string(),
});

export const HostToWebview = z.discriminatedUnion("type", [
  SnapshotMessage,
  DeltaMessage,
  PanelAckMessage,
  SettingsMessage,
  CompareMessage,
  NoticeMessage,
]);
export type HostToWebview = z.infer<typeof HostToWebview>;

// ---------------------------------------------------------------------------------------------
// Webview → host

/** A command body as the panel sends it: a host → trainer command without `v` and `id`. */
const commandBody = z
  .object({
    type: z.enum([
      "set-strategy",
      "set-hyperparameters",
      "pause",
      "resume",
      "stop",
      "checkpoint",
      "evaluate",
    ]),
  })
  .catchall(z.unknown());

export const ReadyMessage = z.object({ type: z.literal("ready"), surface: Surface.optional() });

/** The panel took in a snapshot or delta: the host sends the next one (src/extension/panel/feed.ts). */
export const AppliedMessage = z.object({ type: z.literal("applied") });

export const CommandMessage = z.object({
  type: z.literal("command"),
  /** Chosen by the panel; the host uses it as the trainer command's id and answers with `ack`. */
  id: z.string().min(1).max(200),
  runId: z.string().optional(),
  command: commandBody,
});

export const ExportCsvMessage = z.object({
  type: z.literal("export-csv"),
  runId: z.string().optional(),
  /**
   * Series names (src/panel/snapshot.ts `seriesName`), a chart's: the host writes them as its model
   * keeps them. Absent: every series of the run, at full resolution from its event log.
   */
  series: z.array(z.string()).optional(),
  /** The CSV text, when the panel built it (compare mode, smoothed view); absent: the host builds it. */
  csv: z.string().max(50_000_000).optional(),
  suggestedName: z.string().max(200).optional(),
});

export const ExportPngMessage = z.object({
  type: z.literal("export-png"),
  chart: z.string().max(200),
  dataUrl: z
    .string()
    .max(50_000_000)
    .regex(/^data:image\/png;base64,[A-Za-z0-9+/]+=*$/, "expected a base64 PNG data URL"),
});

export const OpenDashboardMessage = z.object({
  type: z.literal("open-dashboard"),
  runId: z.string().optional(),
});

/** The runs this panel shows, written as one HTML report (docs/dashboard.md, "Report"). */
export const ExportReportMessage = z.object({ type: z.literal("export-report") });

export const WebviewToHost = z.discriminatedUnion("type", [
  ReadyMessage,
  AppliedMessage,
  CommandMessage,
  ExportCsvMessage,
  ExportPngMessage,
  OpenDashboardMessage,
  ExportReportMessage,
]);
export type WebviewToHost = z.infer<typeof WebviewToHost>;
export type CommandMessage = z.infer<typeof CommandMessage>;

/** Validates anything the webview posted; never throws. The host acts only on `ok` results. */
export function parseWebviewMessage(
  value: unknown,
): { ok: true; message: WebviewToHost } | { ok: false; reason: string } {
  const parsed = WebviewToHost.safeParse(value);
  if (parsed.success) return { ok: true, message: parsed.data };
  const issue = parsed.error.issues[0];
  const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
  return { ok: false, reason: `invalid message from the panel: ${where}${issue?.message ?? "unknown"}` };
}

/**
 * The trainer command a panel `command` message asks for, validated against the protocol's own
 * schema (ranges, required fields): the host sends the result's `message` to the trainer.
 */
export function toHostCommand(message: CommandMessage): ParseResult<HostCommand> {
  return parseHostCommand({ ...message.command, v: PROTOCOL_VERSION, id: message.id });
}
