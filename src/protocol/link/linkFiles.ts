import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import { isIP } from "node:net";
import { z } from "zod";
import { formatIssues } from "../messages";
import { RUN_FILES, runPaths } from "../runlog";

/**
 * The files by which a listening trainer is found and trusted (docs/protocol.md, "Attaching"):
 * `link.token`, a random secret only the run folder's owner can read, and `link.json`, where to
 * connect. The trainer writes both and removes them when it closes; a client reads both. Every
 * token comparison happens here, and so does the rule for where a client may send the token.
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

const LinkAddressFile = z
  .object({
    protocol: z.string(),
    pid: z.number().int(),
    transport: z.enum(["unix", "tcp"]),
    path: z.string().min(1).optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
  })
  .refine((a) => a.transport !== "unix" || a.path !== undefined, {
    message: "a unix transport needs a path",
    path: ["path"],
  })
  .refine((a) => a.transport !== "tcp" || a.port !== undefined, {
    message: "a tcp transport needs a port",
    path: ["port"],
  });

/** Hosts other than this machine a client may attach to, and how the user adds one (for the refusal). */
export interface AllowedHosts {
  hosts: readonly string[];
  /** Where a host is allowed, e.g. `the user setting "gradcraft.attach.allowedHosts"`. */
  where: string;
}

/**
 * What a client reads from a run folder to attach. Whoever can write into the run folder chooses
 * where the client connects and sends the token: a Unix socket or this machine's loopback is
 * trusted; any other host only when the user allowed it explicitly.
 */
export function readLinkFiles(
  runDir: string,
  allowed: AllowedHosts,
): { address: LinkAddress; token: string } {
  const paths = runPaths(runDir);
  let text: string;
  let token: string;
  try {
    text = fs.readFileSync(paths.linkInfo, "utf8");
    token = fs.readFileSync(paths.token, "utf8").trim();
  } catch {
    throw new Error(
      `no trainer is listening in ${runDir} (${RUN_FILES.linkInfo} or ${RUN_FILES.token} missing: start it with --listen)`,
    );
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`cannot attach: ${paths.linkInfo} is not JSON: ${(error as Error).message}`);
  }
  const parsed = LinkAddressFile.safeParse(value);
  if (!parsed.success)
    throw new Error(`cannot attach: ${paths.linkInfo} is not valid: ${formatIssues(parsed.error)}`);
  const address = parsed.data;
  const host = address.host ?? DEFAULT_HOST;
  if (address.transport === "tcp" && !isLoopback(host) && !allowed.hosts.includes(host))
    throw new Error(
      `cannot attach: ${paths.linkInfo} names ${host}:${address.port}, which is not this machine; ` +
        `attaching sends the run's token there, so only a Unix socket or a loopback address is trusted. ` +
        `To attach anyway, add "${host}" to ${allowed.where}.`,
    );
  return { address, token };
}

/** Where a tcp address without a host connects. */
export const DEFAULT_HOST = "127.0.0.1";

/** This machine's loopback: 127.0.0.0/8, ::1 (in any spelling, or IPv4-mapped), localhost. */
export function isLoopback(host: string): boolean {
  if (host.toLowerCase() === "localhost") return true;
  const version = isIP(host);
  if (version === 4) return host.startsWith("127.");
  if (version !== 6) return false;
  // The URL parser writes an IPv6 address in its one canonical form.
  const canonical = new URL(`http://[${host}]`).hostname;
  return canonical === "[::1]" || /^\[::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}\]$/.test(canonical);
}

/** Where an address points, in words. */
export function describeAddress(address: LinkAddress): string {
  return address.transport === "unix" ? `${address.path}` : `${address.host}:${address.port}`;
}
