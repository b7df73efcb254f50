import { gramTimes, normFromSquare, taskNorms } from "./linalg/gram";

/**
 * Diagnostics of one step, all from the Gram matrix (docs/strategies.md): no D-sized vector is touched.
 */
export interface StepDiagnostics {
  /** ‖g_t‖ = √G_tt. */
  norms: number[];
  /** Row-major K×K cosines G_ij / (n_i n_j); 0 where a norm is 0; diagonal 1 (0 for a zero task). */
  cosines: number[];
  /** Number of unordered pairs i<j with G_ij < 0. */
  conflictingPairs: number;
  /** ‖u‖ = √(αᵀGα). */
  updateNorm: number;
  /** cos(u, g_t) = (Gα)_t / (n_t ‖u‖); 0 where undefined. */
  updateCosines: number[];
  /** True when some task with a non-zero gradient has a negative inner product with the update. */
  conflictsWithUpdate: boolean;
}

export function diagnose(k: number, gram: Float64Array, weights: Float64Array): StepDiagnostics {
  const norms = Array.from(taskNorms(k, gram));
  const cosines = new Array<number>(k * k);
  let conflictingPairs = 0;
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const denominator = norms[i] * norms[j];
      cosines[i * k + j] = denominator > 0 ? clampUnit(gram[i * k + j] / denominator) : 0;
      if (j > i && gram[i * k + j] < 0) conflictingPairs++;
    }
  }
  // Gα, then αᵀGα.
  const gAlpha = gramTimes(k, gram, weights);
  let squaredNorm = 0;
  for (let t = 0; t < k; t++) squaredNorm += weights[t] * gAlpha[t];
  const updateNorm = normFromSquare(squaredNorm);
  const updateCosines = new Array<number>(k);
  let conflictsWithUpdate = false;
  for (let t = 0; t < k; t++) {
    const denominator = norms[t] * updateNorm;
    updateCosines[t] = denominator > 0 ? clampUnit(gAlpha[t] / denominator) : 0;
    if (norms[t] > 0 && updateNorm > 0 && gAlpha[t] < -1e-12 * norms[t] * updateNorm)
      conflictsWithUpdate = true;
  }
  return { norms, cosines, conflictingPairs, updateNorm, updateCosines, conflictsWithUpdate };
}

function clampUnit(x: number): number {
  return Math.min(1, Math.max(-1, x));
}
