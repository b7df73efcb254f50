// Preload (node --import) used by run.sh only when adapter.json's smoke test found that Dawn
// refuses tfjs 4.22's device request, whose requiredFeatures list holds an array
// (["bgra8unorm-storage"]): flattening that list lets the benchmark run, and run.sh says so.
// DEVICE_BENCH_APP: the folder holding node_modules/webgpu (the same module the bundle imports).
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const app = process.env.DEVICE_BENCH_APP;
if (!app) throw new Error("flatten-features.mjs: DEVICE_BENCH_APP is not set");
const { globals } = await import(pathToFileURL(join(app, "node_modules/webgpu/index.js")).href);
const proto = globals.GPUAdapter.prototype;
const requestDevice = proto.requestDevice;
proto.requestDevice = function (descriptor) {
  return requestDevice.call(this, { ...descriptor, requiredFeatures: descriptor?.requiredFeatures?.flat() });
};
