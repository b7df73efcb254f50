import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "node:test";

// scripts/device-bench/summarize.mjs: what the GPU device run brings back as summary.md.
const script = join(import.meta.dirname, "../../../scripts/device-bench/summarize.mjs");

/** A bench speed report; keys "strategy/scope" or "strategy/scope/threads" (default one thread). */
function report(backend: string, ms: Record<string, number>) {
  const cases = Object.entries(ms).map(([key, msPerStep]) => {
    const [strategy, scope, threads] = key.split("/");
    return {
      strategy,
      scope,
      threads: Number(threads ?? 1),
      msPerStep,
      stepsPerSecond: 1000 / msPerStep,
      p10: msPerStep * 0.9,
      p90: msPerStep * 1.1,
      cpuMsPerStep: msPerStep,
    };
  });
  return {
    backend,
    model: "ple",
    batchSize: 2048,
    steps: 20,
    cases,
    ratioParams: ms["gradcraft/params"] / ms["ew/plain"],
    ratioRepresentation: ms["gradcraft/representation"] / ms["ew/plain"],
    peakRssMb: 900,
    backendDetail: `backend: ${backend}`,
  };
}

function summarize(out: string): string {
  const result = spawnSync(
    process.execPath,
    [script, out, "2026-11-29", "Test CPU, 16 cores", "NVIDIA H200, 580.1, 143771 MiB"],
    {
      encoding: "utf8",
    },
  );
  assert.equal(result.status, 0, result.stderr);
  return readFileSync(join(out, "summary.md"), "utf8");
}

describe("device-bench summary", () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), "device-bench-"));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it("puts both backends' cases in one table with the GPU's speed-up over wasm at its most threads", () => {
    const gpu = { "ew/plain": 40, "ew/params": 55, "gradcraft/params": 60, "gradcraft/representation": 45 };
    const cpu = {
      "ew/plain": 420,
      "ew/params": 520,
      "gradcraft/params": 540,
      "gradcraft/representation": 400,
      "ew/plain/16": 42,
      "ew/params/16": 52,
      "gradcraft/params/16": 54,
      "gradcraft/representation/16": 40,
    };
    writeFileSync(join(out, "speed-webgpu.json"), `${JSON.stringify(report("webgpu", gpu))}\n`);
    writeFileSync(join(out, "speed-wasm.json"), `${JSON.stringify(report("wasm", cpu))}\n`);
    writeFileSync(
      join(out, "adapter.json"),
      JSON.stringify({
        adapters: {
          "high-performance": {
            vendor: "nvidia",
            architecture: "hopper",
            description: "NVIDIA H200",
            software: false,
          },
        },
        hardwareAdapter: true,
      }),
    );
    const text = summarize(out);
    const rows = text.split("\n").filter((line) => /^\| (webgpu|wasm) \|/.test(line));
    assert.equal(rows.length, 12);
    assert.match(text, /\| webgpu \| gradcraft \| params \| 1 \| 60 \|/);
    assert.match(text, /\| wasm \| gradcraft \| params \| 16 \| 54 \|/);
    assert.match(text, /NVIDIA H200 \(nvidia hopper\)/);
    const ew = (cpu["ew/plain/16"] / gpu["ew/plain"]).toFixed(2);
    const gc = (cpu["gradcraft/params/16"] / gpu["gradcraft/params"]).toFixed(2);
    assert.match(text, new RegExp(`EW ${ew}×, GradCraft \\(params\\) ${gc}×`));
  });

  it("says why the webgpu run has no figures, from its log", () => {
    writeFileSync(join(out, "speed-webgpu.json"), "");
    writeFileSync(
      join(out, "speed-webgpu.log"),
      'Warning: vkCreateInstance failed\ngradcraft: backend "webgpu" is not available (webgpu: no hardware adapter)\n',
    );
    writeFileSync(
      join(out, "speed-wasm.json"),
      `${JSON.stringify(report("wasm", { "ew/plain": 1, "gradcraft/params": 2 }))}\n`,
    );
    const text = summarize(out);
    assert.match(text, /- webgpu: no figures: .*no hardware adapter/);
    assert.match(text, /\| webgpu \| — \|/);
    assert.match(text, /adapter\.json missing/);
    assert.doesNotMatch(text, /webgpu against wasm/);
  });
});
