import { promises as fsp } from "node:fs";
import { basename, join } from "node:path";
import { z } from "zod";

/**
 * A run's identity: what every view calls it. Runs of one config share the config's name, so each
 * run gets an automatic name of its own, its starting strategy and a short id ("gradcraft-k3f9"),
 * which the user may replace, with tags and a note. The user's part lives in the run folder's
 * `run.json`, written only by the editor (never by a trainer): moving or copying the folder keeps
 * it. A folder without one has the automatic name and nothing else.
 */
export const RUN_IDENTITY_FILE = "run.json";

export const StoredRunIdentity = z
  .object({
    name: z.string().trim().min(1).max(120).optional().describe("The user's name for the run."),
    tags: z.array(z.string().trim().min(1).max(40)).max(50).optional(),
    note: z.string().max(10_000).optional(),
  })
  .describe("run.json in a run folder: what the user called the run.");
export type StoredRunIdentity = z.infer<typeof StoredRunIdentity>;

export interface RunIdentity {
  /** What every view shows: the user's name, else the automatic `<strategy>-<shortId>`. */
  readonly name: string;
  /** True while `name` is the automatic one. */
  readonly automatic: boolean;
  /** Four base-36 characters, stable for the run folder (a hash of its name). */
  readonly shortId: string;
  readonly tags: readonly string[];
  /** "" when none. */
  readonly note: string;
}

/** FNV-1a of the folder's name, as four base-36 characters: distinct among a workspace's runs. */
export function runShortId(runDir: string): string {
  let hash = 0x811c9dc5;
  for (const char of basename(runDir)) {
    hash ^= char.codePointAt(0) ?? 0;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return (hash % 36 ** 4).toString(36).padStart(4, "0");
}

/** "gradcraft-k3f9": the strategy the run started with, and its short id. */
export function automaticRunName(startStrategy: string | null | undefined, runDir: string): string {
  return `${startStrategy || "run"}-${runShortId(runDir)}`;
}

/** The identity from what `run.json` holds (undefined: no file). */
export function runIdentity(
  runDir: string,
  startStrategy: string | null | undefined,
  stored: StoredRunIdentity = {},
): RunIdentity {
  const automatic = stored.name === undefined;
  return {
    name: stored.name ?? automaticRunName(startStrategy, runDir),
    automatic,
    shortId: runShortId(runDir),
    tags: [...new Set(stored.tags ?? [])],
    note: stored.note ?? "",
  };
}

/**
 * The stored part of a run's identity. A missing file is an empty one; an unreadable or invalid
 * one is reported through `problems` (when given) and read as empty: a run is never hidden for it.
 */
export async function readStoredRunIdentity(runDir: string, problems?: string[]): Promise<StoredRunIdentity> {
  let text: string;
  try {
    text = await fsp.readFile(join(runDir, RUN_IDENTITY_FILE), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT")
      problems?.push(`${RUN_IDENTITY_FILE}: ${(error as Error).message}`);
    return {};
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    problems?.push(`${RUN_IDENTITY_FILE} is not valid JSON`);
    return {};
  }
  const parsed = StoredRunIdentity.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    problems?.push(
      `${RUN_IDENTITY_FILE}: ${issue?.path.join(".") || "(file)"}: ${issue?.message ?? "invalid"}`,
    );
    return {};
  }
  return parsed.data;
}

export async function readRunIdentity(
  runDir: string,
  startStrategy: string | null | undefined,
  problems?: string[],
): Promise<RunIdentity> {
  return runIdentity(runDir, startStrategy, await readStoredRunIdentity(runDir, problems));
}

/**
 * Changes the stored identity: `name: null` goes back to the automatic name; tags are trimmed,
 * de-duplicated, empty ones dropped. Validated, then written whole (temporary file + rename), so
 * a reader never sees half a file.
 */
export async function updateRunIdentity(
  runDir: string,
  patch: { name?: string | null; tags?: readonly string[]; note?: string },
): Promise<StoredRunIdentity> {
  const current = await readStoredRunIdentity(runDir);
  const next: StoredRunIdentity = { ...current };
  if (patch.name !== undefined) {
    const name = patch.name?.trim();
    if (name) next.name = name;
    else delete next.name;
  }
  if (patch.tags !== undefined) {
    const tags = [...new Set(patch.tags.map((t) => t.trim()).filter(Boolean))];
    if (tags.length > 0) next.tags = tags;
    else delete next.tags;
  }
  if (patch.note !== undefined) {
    if (patch.note.trim()) next.note = patch.note;
    else delete next.note;
  }
  const valid = StoredRunIdentity.parse(next);
  const target = join(runDir, RUN_IDENTITY_FILE);
  const temporary = `${target}.${process.pid}.tmp`;
  await fsp.writeFile(temporary, `${JSON.stringify(valid, null, 2)}\n`);
  await fsp.rename(temporary, target);
  return valid;
}

/** "gradcraft-k3f9 · #baseline #lr-sweep": a name with its tags, for one-line places. */
export function describeRunIdentity(identity: RunIdentity): string {
  return identity.tags.length > 0
    ? `${identity.name} · ${identity.tags.map((t) => `#${t}`).join(" ")}`
    : identity.name;
}
