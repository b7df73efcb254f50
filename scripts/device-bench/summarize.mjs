// Turns run.sh's outputs into summary.md: one Markdown table, webgpu beside wasm on the same
// machine, ready for docs/benchmarks.md ("On a GPU machine").
//   node summarize.mjs <OUT folder> <date> <cpu model> <gpu line>
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [out, date, cpu, gpuLine] = process.argv.slice(2);
if (!out) {
  console.error("summarize.mjs: give the OUT folder");
  process.exit(2);
}

/** A run's JSON, or why there is none (the last line of its log that says so). */
function load(backend) {
  const file = join(out, `speed-${backend}.json`);
  const text = existsSync(file) ? readFileSync(file, "utf8").trim() : "";
  if (text) {
    try {
      return { report: JSON.parse(text.split("\n").at(-1)) };
    } catch (error) {
      return { why: `unreadable JSON (${error.message})` };
    }
  }
  const log = existsSync(join(out, `speed-${backend}.log`))
    ? readFileSync(join(out, `speed-${backend}.log`), "utf8")
    : "";
  const lines = log.split("\n").filter((l) => /not available|Error|timed out|killed/i.test(l));
  return { why: lines.at(-1)?.trim() || "no output" };
}

const runs = { webgpu: load("webgpu"), wasm: load("wasm") };
let adapter = "";
try {
  const a = JSON.parse(readFileSync(join(out, "adapter.json"), "utf8"));
  const hp = a.adapters?.["high-performance"];
  adapter = hp
    ? hp.error
      ? `adapter error: ${hp.error}`
      : `${hp.description || hp.device || "?"} (${hp.vendor || "?"} ${hp.architecture || ""}${hp.software ? ", software" : ""})`
    : "no adapter";
} catch {
  adapter = "adapter.json missing";
}

const lines = [
  `Measured ${date} by \`scripts/device-bench/run.sh\` on the device machine: ${gpuLine || "no nvidia-smi"}; CPU ${cpu}.`,
  `WebGPU adapter (Dawn, high-performance): ${adapter}.`,
  "",
  "| backend | strategy | scope | threads | ms/step | steps/s | p10 | p90 | CPU ms/step |",
  "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
];
for (const [backend, run] of Object.entries(runs)) {
  if (!run.report) {
    lines.push(`| ${backend} | — | — | — | — | — | — | — | — |`);
    continue;
  }
  for (const c of run.report.cases)
    lines.push(
      `| ${run.report.backend} | ${c.strategy} | ${c.scope} | ${c.threads ?? 1} | ${c.msPerStep} | ${c.stepsPerSecond} | ${c.p10} | ${c.p90} | ${c.cpuMsPerStep} |`,
    );
}
lines.push("");
for (const [backend, run] of Object.entries(runs)) {
  if (run.report)
    lines.push(
      `- ${backend}: model ${run.report.model}, batch ${run.report.batchSize}, ${run.report.steps} timed steps (median); GradCraft/EW ${run.report.ratioParams}× (params), ${run.report.ratioRepresentation}× (representation); peak RSS ${run.report.peakRssMb} MB. ${run.report.backendDetail ?? ""}`,
    );
  else lines.push(`- ${backend}: no figures: ${run.why}`);
}
const w = runs.webgpu.report;
const m = runs.wasm.report;
if (w && m) {
  // Each backend at its most threads.
  const ms = (r, s, k) =>
    r.cases
      .filter((c) => c.strategy === s && c.scope === k)
      .sort((a, b) => (b.threads ?? 1) - (a.threads ?? 1))[0]?.msPerStep;
  const ew = ms(m, "ew", "plain") / ms(w, "ew", "plain");
  const gc = ms(m, "gradcraft", "params") / ms(w, "gradcraft", "params");
  lines.push(
    `- webgpu against wasm on this machine: EW ${ew.toFixed(2)}×, GradCraft (params) ${gc.toFixed(2)}× (above 1: the GPU is faster).`,
  );
}
writeFileSync(join(out, "summary.md"), `${lines.join("\n")}\n`);
console.log(lines.join("\n"));
