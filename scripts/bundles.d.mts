// Types of scripts/bundles.mjs for TypeScript callers (the tests that check a bundle's contents).
import type { BuildOptions } from "esbuild";

export const root: string;
export const dist: string;
export const bundles: (BuildOptions & { entryPoints: Record<string, string> })[];
export function buildOptions(bundle: BuildOptions, options?: { watch?: boolean }): BuildOptions;
