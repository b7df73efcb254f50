import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import { RUN_FILES, runPaths } from "../runlog";

/**
 * The files by which a listening trainer is found and trusted (docs/protocol.md, "Attaching"):
 * `link.token`, a random secret only the run folder's owner can read, and `link.json`, where to
 * connect. The trainer writes both and removes them when it closes; a client reads both. Every
 * token comparison happens here.
 */

/** link.json: how to reach a listening trainer. The token is in its own 0600 file. */
export interface LinkAddress {
  protocol: string;
  pid: number;
  transport: "unix" | "tcp";
  path?: string;
  host?: string;
  port?: number;
}

/** Writes a fresh token, owner-only, and returns it. */
export function createToken(runDir: string): string {
  const token = randomBytes(32).toString("hex");
  const path = runPaths(runDir).token;
  // Owner-only from creation; chmod too in case the file existed with wider rights.
  fs.writeFileSync(path, token, { mode: 0o600 });
  fs.chmodSync(path, 0o600);
  return token;
}

/** True when a client's token is the trainer's (compared in constant time). */
export function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function publishAddress(runDir: string, address: LinkAddress): void {
  fs.writeFileSync(runPaths(runDir).linkInfo, JSON.stringify(address, null, 2) + "\n", { mode: 0o600 });
}

/** Removes the token, link.json and the socket file: nobody can attach any more. */
export function removeLinkFiles(runDir: string, address: LinkAddress | null): void {
  const paths = runPaths(runDir);
  for (const file of [paths.token, paths.linkInfo]) fs.rmSync(file, { force: true });
  if (address?.transport === "unix" && address.path) fs.rmSync(address.path, { force: true });
}

/** What a client reads from a run folder to attach. */
export function readLinkFiles(runDir: string): { address: LinkAddress; token: string } {
  const paths = runPaths(runDir);
  try {
    const address = JSON.parse(fs.readFileSync(paths.linkInfo, "utf8")) as LinkAddress;
    const token = fs.readFileSync(paths.token, "utf8").trim();
    return { address, token };
  } catch {
    throw new Error(
      `no trainer is listening in ${runDir} (${RUN_FILES.linkInfo} or ${RUN_FILES.token} missing: start it with --listen)`,
    );
  }
}

/** Where an address points, in words. */
export function describeAddress(address: LinkAddress): string {
  return address.transport === "unix" ? `${address.path}` : `${address.host}:${address.port}`;
}
