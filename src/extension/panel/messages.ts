import { z } from "zod";
import {
  type AckMessage,
  type HostCommand,
  type ParseResult,
  PROTOCOL_VERSION,
  parseHostCommand,
  type TrainerMessage,
} from "../../protocol/messages";
import { type PanelSettings, PatchCursor, type RunModel, type RunPatch, type RunSnapshot } from "./model";

/**
 * The messages between the extension host and the dashboard webview (both surfaces: the conflicts
 * side view and the dashboard editor panel). Pure: no vscode import, so the host wiring, the
 * webview and the tests share one definition.
 *
 * Flow: the webview posts `ready`; the host answers `snapshot` (decimated history of the run), then
 * `delta`s (the trainer messages since the previous delta, batched), `ack`s for commands the panel
 * sent, `settings` when the user's settings or theme change, and `compare` for several runs.
 */

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
  /** What changed in the host's model since the previous delta (model.ts `PatchCursor`). */
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

/**
 * The snapshots a compare panel shows, one per run, in the order picked. Runs of one config share
 * a label: those are told apart by their run folder's name (else by their place in the list), so
 * every legend, table row and heatmap caption names one run.
 */
export function compareSnapshots(
  runs: readonly { label: string; runDir?: string; model: { toSnapshot(): RunSnapshot } }[],
): RunSnapshot[] {
  return runs.map((run, i) => {
    const snapshot = run.model.toSnapshot();
    const twins = runs.filter((r) => r.label === run.label).length > 1;
    if (!twins) return snapshot;
    const folder = run.runDir
      ?.replace(/[\\/]+$/, "")
      .split(/[\\/]/)
      .pop();
    return { ...snapshot, label: folder || `${run.label} #${i + 1}` };
  });
}

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

/** The panel took in a snapshot or delta: the host sends the next one (see PanelFeed). */
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
  /** Series names (model.ts `seriesName`); absent: every series. */
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

export const WebviewToHost = z.discriminatedUnion("type", [
  ReadyMessage,
  AppliedMessage,
  CommandMessage,
  ExportCsvMessage,
  ExportPngMessage,
  OpenDashboardMessage,
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

// ---------------------------------------------------------------------------------------------
// Feeding a panel

export interface PanelFeedOptions {
  /** How often changes are sent, in ms (one delta per flush, however many steps arrived). */
  flushMs?: number;
  /** Deltas (and snapshots) the panel may hold unconfirmed; the next waits for its `applied`. */
  maxUnconfirmed?: number;
  /** How long an unanswered delta holds the next one back (a panel that never says `applied`). */
  appliedTimeoutMs?: number;
  now?: () => number;
  /** Timer functions (tests pass fakes). */
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * Feeds one panel from one run model: `push` each validated trainer message (the feed ingests it
 * into the model, so keep one feed per model or call `model.ingest` yourself and pass
 * `ingest: false`), and the panel receives at most one delta per `flushMs`: the model's changes
 * since the previous one (a patch of the touched buckets, see model.ts), never the raw steps, so
 * what the webview has to read stays small at any trainer speed. And few at a time: with
 * `maxUnconfirmed` (2) deltas the panel has not said it `applied`, the next one waits, changes
 * meanwhile joining it, so a busy panel never has a queue of stale deltas to work through:
 * whatever it reads next is the run as it is now (two, not one, so the round trip of the
 * confirmation does not set the pace when the panel keeps up). Hidden panels get nothing; on `ready` (first open, reload, shown again)
 * the panel gets a snapshot.
 */
export class PanelFeed {
  private readonly cursor = new PatchCursor();
  private acks: AckMessage[] = [];
  private timer: unknown = null;
  private needsSnapshot = true;
  /** When each snapshot or delta the panel has not yet confirmed was posted, oldest first. */
  private unconfirmed: number[] = [];
  private lastPostAt = Number.NEGATIVE_INFINITY;
  private readonly maxUnconfirmed: number;
  visible = true;
  private readonly flushMs: number;
  private readonly appliedTimeoutMs: number;
  private readonly now: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(
    readonly model: RunModel,
    private readonly post: (message: HostToWebview) => void,
    options: PanelFeedOptions = {},
    private readonly surface?: Surface,
  ) {
    this.flushMs = options.flushMs ?? 50;
    this.maxUnconfirmed = options.maxUnconfirmed ?? 2;
    this.appliedTimeoutMs = options.appliedTimeoutMs ?? 2000;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer =
      options.clearTimer ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  push(message: TrainerMessage, ingest = true): void {
    if (ingest) this.model.ingest(message);
    if (this.needsSnapshot) return; // the next snapshot will contain it
    if (message.type === "ack") this.acks.push(message);
    this.schedule();
  }

  /** The panel posted `ready` (or became visible again): send the whole (decimated) state. */
  ready(settings?: ViewSettings): void {
    this.needsSnapshot = true;
    this.visible = true;
    // A (re)loaded panel will never confirm what its predecessor was sent.
    this.unconfirmed = [];
    this.flush(settings);
  }

  /** The panel posted `applied`: what changed since goes now (no sooner than a flush interval). */
  applied(): void {
    if (this.unconfirmed.shift() === undefined) return;
    // The timer may be the long one that waits for a panel that never answers.
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    // A panel that took its time has waited a flush interval already.
    this.schedule(Math.max(0, this.flushMs - (this.now() - this.lastPostAt)));
  }

  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.schedule();
  }

  private schedule(ms = this.flushMs): void {
    if (this.timer !== null || !this.visible) return;
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.flush();
    }, ms);
  }

  flush(settings?: ViewSettings): void {
    if (!this.visible) return;
    if (this.needsSnapshot) {
      this.needsSnapshot = false;
      this.acks = [];
      this.cursor.reset(this.model);
      this.sent();
      this.post({ type: "snapshot", run: this.model.toSnapshot(), surface: this.surface, settings });
      return;
    }
    // A confirmation that never came (a panel that never answers) stops counting in the end.
    const now = this.now();
    while (this.unconfirmed.length > 0 && now - this.unconfirmed[0] >= this.appliedTimeoutMs)
      this.unconfirmed.shift();
    if (this.unconfirmed.length >= this.maxUnconfirmed) {
      // `applied` reschedules; this timer only covers a panel that never answers.
      this.schedule(this.appliedTimeoutMs - (now - this.unconfirmed[0]));
      return;
    }
    // Every ingested message (acks too) moves the model's revision: no patch, nothing new.
    const patch = this.cursor.next(this.model);
    if (!patch) return;
    const acks = this.acks;
    this.acks = [];
    this.sent();
    this.post({ type: "delta", runId: this.model.runId, patch, acks });
  }

  private sent(): void {
    this.lastPostAt = this.now();
    this.unconfirmed.push(this.lastPostAt);
  }

  dispose(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.acks = [];
  }
}

/** Settings keys the host reads from the user's configuration, mapped to the model's. */
export function panelSettingsFrom(settings: ViewSettings): Partial<PanelSettings> {
  const out: Partial<PanelSettings> = {};
  if (settings.maxPoints !== undefined) out.maxPoints = settings.maxPoints;
  if (settings.heatmapWindowMax !== undefined) out.heatmapWindowMax = settings.heatmapWindowMax;
  return out;
}
