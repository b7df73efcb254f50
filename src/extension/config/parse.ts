import { basename } from "node:path";
import { TrainingConfig } from "../../protocol/config";
import { JsonFileError, parseJsonc, readJsonText } from "../../protocol/configFile";
import { configProblemLines } from "../../protocol/configIssues";

/** A `*.gradcraft.json` file parsed with the trainer's own definition (defaults applied). */
export type ParsedConfigFile =
  | { ok: true; config: TrainingConfig; raw: unknown }
  | { ok: false; reason: string };

/** Reads the file as the trainer does (configFile.ts): a regular file, JSONC, BOM allowed. */
export function parseConfigFile(path: string): ParsedConfigFile {
  let text: string;
  try {
    text = readJsonText(path, basename(path));
  } catch (error) {
    return { ok: false, reason: (error as Error).message };
  }
  return parseConfigText(text, basename(path));
}

export function parseConfigText(text: string, file = "config"): ParsedConfigFile {
  let raw: unknown;
  try {
    raw = parseJsonc(text, file);
  } catch (error) {
    if (error instanceof JsonFileError) return { ok: false, reason: error.message };
    throw error;
  }
  const parsed = TrainingConfig.safeParse(raw);
  if (!parsed.success)
    return { ok: false, reason: `invalid config: ${configProblemLines(parsed.error, raw).join("; ")}` };
  return { ok: true, config: parsed.data, raw };
}
