import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as tf from "@tensorflow/tfjs-core";
import type { Backend } from "../protocol/config";
import { installFastMatMulGradient } from "./matmulGradient";

/**
 * Backend choice: the fastest that works, in the order CUDA, native TensorFlow, WebGPU on a
 * hardware adapter, wasm with SIMD, pure JS. The native packages are never dependencies (their
 * install scripts download libtensorflow, which fails offline: docs/architecture.md): they are
 * required at run time when the user has installed them. All of them register on the one tfjs-core engine, which tfjs
 * keeps in a global, so a second copy of tfjs-core loaded by a native package still shares it.
 */

export type ConcreteBackend = Exclude<Backend, "auto">;
export const BACKEND_ORDER: readonly ConcreteBackend[] = [
  "tensorflow-gpu",
  "tensorflow",
  "webgpu",
  "wasm",
  "cpu",
];

export interface BackendChoice {
  /** Our name for it ("wasm", ...). */
  readonly name: ConcreteBackend;
  /** tfjs's name for it ("wasm", "tensorflow", ...). */
  readonly tfName: string;
  /** Why each faster backend was not taken, in order. */
  readonly skipped: ReadonlyArray<{ name: ConcreteBackend; reason: string }>;
  /** One line for the user: which backend runs and why the faster ones did not. */
  readonly summary: string;
}

const dynamicRequire = createRequire(__filename);

/** Loads a module only if installed; distinguishes "not installed" from "failed". */
function tryRequire(name: string): { ok: true; module: unknown } | { ok: false; reason: string } {
  try {
    return { ok: true, module: dynamicRequire(name) };
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "MODULE_NOT_FOUND" && String((error as Error).message).includes(`'${name}'`))
      return { ok: false, reason: "not installed" };
    return { ok: false, reason: `failed: ${firstLine(error)}` };
  }
}

function firstLine(error: unknown): string {
  return String(error instanceof Error ? error.message : error).split("\n")[0];
}

function hasVulkanLoader(): boolean {
  const dirs = [
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
    "/lib/x86_64-linux-gnu",
    "/lib64",
  ];
  const extra = (process.env.LD_LIBRARY_PATH ?? "").split(":").filter(Boolean);
  return [...extra, ...dirs].some((dir) => existsSync(join(dir, "libvulkan.so.1")));
}

/** Where the wasm binaries are: beside the bundle (dist/), else in node_modules. */
export function wasmDirectory(): string | undefined {
  const candidates = [__dirname, join(__dirname, "../../node_modules/@tensorflow/tfjs-backend-wasm/dist")];
  try {
    candidates.push(join(dynamicRequire.resolve("@tensorflow/tfjs-backend-wasm"), ".."));
  } catch {
    // Bundled: the files were copied beside the bundle.
  }
  return candidates.find((dir) => existsSync(join(dir, "tfjs-backend-wasm-simd.wasm")));
}

type Attempt = { ok: true; tfName: string } | { ok: false; reason: string };

async function activate(tfName: string): Promise<Attempt> {
  try {
    const ok = await tf.setBackend(tfName);
    if (!ok) return { ok: false, reason: `failed: tfjs could not initialise "${tfName}"` };
    await tf.ready();
    return { ok: true, tfName };
  } catch (error) {
    return { ok: false, reason: `failed: ${firstLine(error)}` };
  }
}

async function attempt(name: ConcreteBackend): Promise<Attempt> {
  switch (name) {
    case "tensorflow-gpu":
    case "tensorflow": {
      const pkg = name === "tensorflow-gpu" ? "@tensorflow/tfjs-node-gpu" : "@tensorflow/tfjs-node";
      const loaded = tryRequire(pkg);
      if (!loaded.ok) return loaded;
      return activate("tensorflow");
    }
    case "webgpu": {
      // Dawn needs Vulkan on Linux; without its loader there is no hardware adapter to find
      // (and probing would only print Dawn's warning).
      if (process.platform === "linux" && !hasVulkanLoader())
        return { ok: false, reason: "no hardware adapter (no Vulkan loader, libvulkan.so.1)" };
      let create: (options: string[]) => unknown;
      let globals: Record<string, unknown> = {};
      try {
        const specifier = "webgpu"; // a variable keeps esbuild from bundling this ESM-only package
        ({ create, globals } = (await import(specifier)) as {
          create: typeof create;
          globals: typeof globals;
        });
      } catch (error) {
        const message = firstLine(error);
        return {
          ok: false,
          reason: /Cannot find (package|module)/.test(message) ? "not installed" : `failed: ${message}`,
        };
      }
      try {
        const gpu = create([]) as { requestAdapter(): Promise<unknown> };
        const adapter = (await gpu.requestAdapter()) as {
          isFallbackAdapter?: boolean;
          info?: {
            isFallbackAdapter?: boolean;
            description?: string;
            device?: string;
            architecture?: string;
          };
        } | null;
        if (!adapter) return { ok: false, reason: "no hardware adapter" };
        const text = `${adapter.info?.description ?? ""} ${adapter.info?.device ?? ""} ${adapter.info?.architecture ?? ""}`;
        if (
          adapter.isFallbackAdapter ||
          adapter.info?.isFallbackAdapter ||
          /swiftshader|llvmpipe|software/i.test(text)
        )
          return { ok: false, reason: "no hardware adapter (only a software one)" };
        // tfjs-backend-webgpu reads GPUBufferUsage, GPUMapMode, ... as globals, as in a browser.
        for (const [key, value] of Object.entries(globals ?? {}))
          if (!(key in globalThis)) Object.assign(globalThis, { [key]: value });
        (globalThis as { navigator?: unknown }).navigator = { gpu };
        dynamicRequire("@tensorflow/tfjs-backend-webgpu");
      } catch (error) {
        return { ok: false, reason: `failed: ${firstLine(error)}` };
      }
      return activate("webgpu");
    }
    case "wasm": {
      const dir = wasmDirectory();
      if (!dir)
        return { ok: false, reason: "failed: tfjs-backend-wasm-simd.wasm not found beside the bundle" };
      setWasmPaths(`${dir}/`);
      const result = await activate("wasm");
      // The stock BatchMatMul gradient is 20–40× slower on wasm (matmulGradient.ts).
      if (result.ok) installFastMatMulGradient();
      return result;
    }
    case "cpu":
      // A bundler may drop the package's registration side effect: register it ourselves if so.
      if (!tf.findBackendFactory("cpu")) tf.registerBackend("cpu", () => new MathBackendCPU(), 1);
      return activate("cpu");
  }
}

/**
 * Activates the requested backend, or the fastest available one for "auto". An explicit
 * request that fails is an error (the user asked for it); "auto" falls through.
 */
export async function selectBackend(requested: Backend = "auto"): Promise<BackendChoice> {
  const order = requested === "auto" ? BACKEND_ORDER : [requested];
  const skipped: Array<{ name: ConcreteBackend; reason: string }> = [];
  for (const name of order) {
    const result = await attempt(name);
    if (result.ok) {
      const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
      const summary = `backend: ${name}${why ? ` (not taken: ${why})` : ""}`;
      return { name, tfName: result.tfName, skipped, summary };
    }
    skipped.push({ name, reason: result.reason });
  }
  const why = skipped.map((s) => `${s.name}: ${s.reason}`).join("; ");
  throw new Error(`backend "${requested}" is not available (${why})`);
}
