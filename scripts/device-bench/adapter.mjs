// Prints, as one JSON object, the WebGPU adapters Dawn offers on this machine (run.sh calls it
// before the benchmark, so a record says which GPU, driver and limits the figures came from).
//   node adapter.mjs <app folder holding node_modules/webgpu>
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const app = process.argv[2];
if (!app) {
  console.error("adapter.mjs: give the folder that holds node_modules/webgpu");
  process.exit(2);
}
const { create, globals } = await import(pathToFileURL(join(app, "node_modules/webgpu/index.js")).href);
const gpu = create([]);
const report = { dawn: "webgpu npm package", adapters: {} };
let hardware = false;
for (const powerPreference of ["high-performance", "low-power"]) {
  try {
    const adapter = await gpu.requestAdapter({ powerPreference });
    if (!adapter) {
      report.adapters[powerPreference] = null;
      continue;
    }
    const info = adapter.info ?? {};
    const text = `${info.vendor ?? ""} ${info.architecture ?? ""} ${info.device ?? ""} ${info.description ?? ""}`;
    // The same test as src/trainer/backend.ts: the benchmark never runs on a software adapter.
    const software =
      Boolean(adapter.isFallbackAdapter || info.isFallbackAdapter) ||
      /swiftshader|llvmpipe|software/i.test(text);
    hardware ||= !software;
    const limits = {};
    for (const key of [
      "maxBufferSize",
      "maxStorageBufferBindingSize",
      "maxComputeWorkgroupStorageSize",
      "maxComputeInvocationsPerWorkgroup",
    ])
      limits[key] = adapter.limits?.[key];
    report.adapters[powerPreference] = {
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
      software,
      features: [...(adapter.features ?? [])].sort(),
      limits,
    };
  } catch (error) {
    report.adapters[powerPreference] = { error: String(error?.message ?? error).split("\n")[0] };
  }
}
report.hardwareAdapter = hardware;
if (hardware) report.tfjsSmoke = await smoke();
console.log(JSON.stringify(report, null, 2));

/**
 * tfjs's webgpu backend on that adapter, the way src/trainer/backend.ts loads it, with one
 * product checked against the CPU: if the benchmark then fails, this says whether tfjs itself ran.
 */
async function smoke() {
  try {
    const { createRequire } = await import("node:module");
    const require = createRequire(join(app, "dist/cli.js"));
    for (const [key, value] of Object.entries(globals)) if (!(key in globalThis)) globalThis[key] = value;
    globalThis.navigator = { gpu };
    require("@tensorflow/tfjs-backend-webgpu");
    const tf = require("@tensorflow/tfjs-core");
    let workaround = null;
    if (!(await tf.setBackend("webgpu"))) {
      // tfjs 4.22 asks for requiredFeatures [..., ["bgra8unorm-storage"]] (an array in the list):
      // if Dawn refuses that, say whether flattening the list is the fix.
      const proto = globals.GPUAdapter?.prototype;
      if (!proto?.requestDevice) return { ok: false, error: "setBackend(webgpu) returned false" };
      const requestDevice = proto.requestDevice;
      proto.requestDevice = function (descriptor) {
        return requestDevice.call(this, {
          ...descriptor,
          requiredFeatures: descriptor?.requiredFeatures?.flat(),
        });
      };
      if (!(await tf.setBackend("webgpu")))
        return {
          ok: false,
          error: "setBackend(webgpu) returned false, also with requiredFeatures flattened",
        };
      workaround = "setBackend(webgpu) failed until requiredFeatures were flattened: backend.ts needs that";
    }
    const n = 2048;
    const a = tf.randomUniform([n, n], -1, 1, "float32", 1);
    const b = tf.randomUniform([n, n], -1, 1, "float32", 2);
    await tf.matMul(a, b).data(); // compiles the shader
    const started = performance.now();
    const product = await tf.matMul(a, b).data();
    const ms = performance.now() - started;
    const rowA = await a.slice([0, 0], [1, n]).data();
    const colB = await b.slice([0, 7], [n, 1]).data();
    let expected = 0;
    for (let i = 0; i < n; i++) expected += rowA[i] * colB[i];
    return {
      workaround,
      ok: Math.abs(product[7] - expected) < 1e-2 * Math.max(1, Math.abs(expected)),
      matMul2048Ms: Math.round(ms * 10) / 10,
      checked: { gpu: product[7], cpu: expected },
      backendInfo: tf.backend().adapterInfo ?? null,
    };
  } catch (error) {
    return {
      ok: false,
      error: String(error?.stack ?? error)
        .split("\n")
        .slice(0, 4)
        .join(" | "),
    };
  }
}
// Dawn keeps the process alive with its event loop hooks otherwise.
process.exit(0);
