import type { TestContext } from "node:test";
import { ensurePythonTorch, NotRunError } from "../../provision.mjs";

/**
 * Debian's python3 with torch (installed when root): the interpreter path, or undefined after
 * skipping the test with the reason. Under CI=true a missing interpreter fails instead.
 */
export async function pythonWithTorch(t: TestContext): Promise<string | undefined> {
  try {
    return await ensurePythonTorch();
  } catch (error) {
    if (error instanceof NotRunError && process.env.CI !== "true") {
      t.skip(error.message);
      return undefined;
    }
    throw error;
  }
}

/** Polls `probe` until it returns a truthy value (that value), or fails naming `what`. */
export async function until<T>(
  what: string,
  probe: () => T | undefined | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
