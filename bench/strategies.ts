/**
 * Cost of one strategy step in Gram space (docs/benchmarks.md): for every registered strategy and
 * K = 2, 6, 16, 32, the median and 95th percentile time of `step` on random well-conditioned and
 * on conflicting Gram matrices, after a warm-up. Stateful strategies carry their state from call
 * to call, as in training.
 *
 *   npx tsx bench/strategies.ts [--json] [--k 2,6,16,32] [--strategies a,b] [--samples 200]
 *
 * Goal: K = 6 under 20 µs for all but the iterative ones (nash-mtl, upgrad, cagrad); K = 32
 * under 2 ms for all. The table marks misses.
 */
import { gramMatrix } from "../src/core/linalg/gram";
import { strategies } from "../src/core/strategies/index";
import { gaussian, mulberry32 } from "../test/unit/helpers/random";

const ITERATIVE = new Set(["nash-mtl", "upgrad", "cagrad"]);
const INPUTS_PER_KIND = 16;

interface Row {
  strategy: string;
  k: number;
  kind: "random" | "conflicting";
  medianUs: number;
  p95Us: number;
  samples: number;
  callsPerSample: number;
  goalUs: number | null;
  meetsGoal: boolean | null;
}

function option(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

/**
 * "random": Gaussian rows in D = 2K + 8 dimensions, norms in [0.5, 2] (well conditioned, about
 * half the pairs conflict). "conflicting": directions of a regular simplex (pairwise cosine
 * −1/(K−1)) plus 5 % noise, so every pair conflicts (the worst case of projection methods).
 */
function gramInputs(k: number, kind: Row["kind"], seed: number): Float64Array[] {
  const next = mulberry32(seed);
  const d = 2 * k + 8;
  const inputs: Float64Array[] = [];
  for (let n = 0; n < INPUTS_PER_KIND; n++) {
    const rows: number[][] = [];
    for (let t = 0; t < k; t++) {
      const row = new Array<number>(d).fill(0);
      if (kind === "random") for (let i = 0; i < d; i++) row[i] = gaussian(next);
      else {
        // e_t − mean(e): the centred simplex vertices, in the first K coordinates.
        for (let i = 0; i < k; i++) row[i] = (i === t ? 1 : 0) - 1 / k;
        for (let i = 0; i < d; i++) row[i] += (0.05 * gaussian(next)) / Math.sqrt(d);
      }
      const norm = Math.hypot(...row) || 1;
      const target = 0.5 + 1.5 * next();
      rows.push(row.map((x) => (x * target) / norm));
    }
    inputs.push(gramMatrix(rows));
  }
  return inputs;
}

function percentile(sorted: number[], q: number): number {
  const at = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[at];
}

function measure(name: string, k: number, kind: Row["kind"], samples: number): Row {
  const definition = strategies.find((s) => s.name === name);
  if (!definition) throw new Error(`unknown strategy ${name}`);
  const grams = gramInputs(k, kind, 1000 * k + (kind === "random" ? 1 : 2));
  const params = definition.params.parse({});
  let state = definition.init(k, params);
  const losses = new Float64Array(k);
  let step = 0;
  let cursor = 0;
  const call = () => {
    step++;
    for (let t = 0; t < k; t++) losses[t] = 0.3 + 0.2 * Math.sin(step + t);
    const result = definition.step({ k, gram: grams[cursor], losses, step }, params, state);
    state = result.state;
    cursor = (cursor + 1) % grams.length;
    return result.weights[0];
  };
  // Warm-up (JIT) for at least 100 ms or 2000 calls, whichever comes first, and sizes a batch
  // to about 100 µs so the clock's resolution does not matter.
  let sink = 0;
  const warmStart = process.hrtime.bigint();
  let warmCalls = 0;
  while (warmCalls < 2000 && Number(process.hrtime.bigint() - warmStart) < 1e8) {
    sink += call();
    warmCalls++;
  }
  const perCallNs = Number(process.hrtime.bigint() - warmStart) / warmCalls;
  const callsPerSample = Math.max(1, Math.round(1e5 / perCallNs));
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    for (let c = 0; c < callsPerSample; c++) sink += call();
    times.push(Number(process.hrtime.bigint() - start) / callsPerSample / 1000);
  }
  if (Number.isNaN(sink)) throw new Error(`${name} returned NaN`);
  times.sort((a, b) => a - b);
  const goalUs = k === 32 ? 2000 : k === 6 && !ITERATIVE.has(name) ? 20 : null;
  const medianUs = percentile(times, 0.5);
  return {
    strategy: name,
    k,
    kind,
    medianUs,
    p95Us: percentile(times, 0.95),
    samples,
    callsPerSample,
    goalUs,
    meetsGoal: goalUs === null ? null : medianUs < goalUs,
  };
}

function main(): void {
  const json = process.argv.includes("--json");
  const ks = (option("--k") ?? "2,6,16,32").split(",").map(Number);
  const names = option("--strategies")?.split(",") ?? strategies.map((s) => s.name);
  const samples = Number(option("--samples") ?? 200);
  const rows: Row[] = [];
  for (const name of names) {
    for (const k of ks) {
      for (const kind of ["random", "conflicting"] as const) {
        const row = measure(name, k, kind, samples);
        rows.push(row);
        if (!json) {
          const mark = row.meetsGoal === null ? "" : row.meetsGoal ? "  ok" : `  MISSES ${row.goalUs} µs`;
          console.log(
            `${name.padEnd(12)} K=${String(k).padEnd(3)} ${kind.padEnd(12)} median ${row.medianUs.toFixed(2).padStart(9)} µs` +
              `  p95 ${row.p95Us.toFixed(2).padStart(9)} µs${mark}`,
          );
        }
      }
    }
  }
  if (json)
    console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), rows }, null, 2));
}

main();
