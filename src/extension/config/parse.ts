import { readFileSync } from "node:fs";
import { TrainingConfig } from "../../protocol/config";
import { formatIssues } from "../../protocol/messages";
import { stripComments } from "./checks";

/** A `*.gradcraft.json` file parsed with the trainer's own definition (defaults applied). */
export type ParsedConfigFile =
  | { ok: true; config: TrainingConfig; raw: unknown }
  | { ok: false; reason: string };

export function parseConfigFile(path: string): ParsedConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    return { ok: false, reason: `cannot read the file: ${(error as Error).message}` };
  }
  return parseConfigText(text);
}

export function parseConfigText(text: string): ParsedConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(stripComments(text));
  } catch (error) {
    return { ok: false, reason: `not valid JSON: ${(error as Error).message}` };
  }
  const parsed = TrainingConfig.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: `invalid config: ${formatIssues(parsed.error)}` };
  return { ok: true, config: parsed.data, raw };
}
