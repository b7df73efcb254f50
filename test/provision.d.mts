// Types of test/provision.mjs for TypeScript callers (the harness's unit tests).
export const root: string;
export const cacheDir: string;
export const NOT_RUN: 77;
export const CODE_SERVER_VERSION: string;
export class NotRunError extends Error {
  readonly exitCode: 77;
}
export class ProvisionError extends Error {
  readonly exitCode: 1;
}
export function unavailable(what: string, howToInstall: string): never;
export function exitCodeFor(error: unknown): number;
export function ensureChromium(): Promise<string>;
export function ensureNode24(): Promise<string>;
export function ensureCodeServer(): Promise<string>;
export const pythonBin: string;
export function missingPythonModules(python?: string): string[];
export function ensurePythonTorch(): Promise<string>;
/** Where Debian's weka package is unpacked; its examples are under usr/share/doc/weka/examples. */
export const wekaDir: string;
export const wekaExamples: string;
export function ensureWekaExamples(): Promise<string>;
export function provisionAll(): Promise<{ chromium: string; node24: string; codeServer: string }>;
export const node24Bin: string;
export const codeServerEntry: string;
export const chromiumArgs: string[];
