// Types of the harness's exports used from TypeScript (the e2e suite).
import type { BrowserContext } from "playwright-core";

export const root: string;
export const artifactsDir: string;
export function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  options?: { timeoutMs?: number; intervalMs?: number },
): Promise<T>;
export function launchBrowser(
  executablePath: string,
): Promise<{ context: BrowserContext; close(): Promise<void> }>;
export function workbenchUrl(
  server: { port: number; base: string },
  options?: { folder?: string; extensionTestsPath?: string; extensionPath?: string },
): string;
export function processesWithEnv(name: string, value: string): { pid: number; cmdline: string }[];
export function freePort(): Promise<number>;
