import { type AttachRequest, PROTOCOL_VERSION, parseAttachRequest, type TrainerMessage } from "../messages";
import { tokenMatches } from "./linkFiles";
import type { WriterRole } from "./writerRole";

/**
 * The trainer's answer to an attaching client's first line (docs/protocol.md, "Attaching"): a
 * valid `attach` request of this major carrying the run's token, then the writer role if it was
 * asked for and is free. Nothing of the run is sent before this succeeds.
 */

export type HandshakeAnswer =
  | { ok: false; reason: string }
  | { ok: true; request: AttachRequest; writer: boolean; readOnlyReason?: string };

export function answerHandshake(
  line: string,
  token: string,
  role: WriterRole,
  clientId: number,
): HandshakeAnswer {
  let value: unknown = null;
  try {
    value = JSON.parse(line);
  } catch {
    // refused as malformed below
  }
  const parsed = parseAttachRequest(value);
  if (!parsed.ok) return { ok: false, reason: parsed.reason };
  const request = parsed.message;
  if (!tokenMatches(request.token, token)) return { ok: false, reason: "wrong token" };
  if (!request.write) return { ok: true, request, writer: false };
  const readOnlyReason = role.claim(clientId);
  return readOnlyReason === null
    ? { ok: true, request, writer: true }
    : { ok: true, request, writer: false, readOnlyReason };
}

/** The first line a refused client gets, before the connection is closed. */
export function refusalLine(reason: string): TrainerMessage {
  return { v: PROTOCOL_VERSION, type: "error", message: `attach refused: ${reason}`, fatal: false };
}

/** The first line an accepted client gets; `replayed` messages of the run follow it. */
export function attachedLine(
  answer: Extract<HandshakeAnswer, { ok: true }>,
  runDir: string,
  replayed: number,
): TrainerMessage {
  return {
    v: PROTOCOL_VERSION,
    type: "attached",
    writer: answer.writer,
    ...(answer.readOnlyReason ? { readOnlyReason: answer.readOnlyReason } : {}),
    runDir,
    replayed,
  };
}
