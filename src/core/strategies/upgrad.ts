import { z } from "zod";
import { normFromSquare } from "../linalg/gram";
import { choleskyFactorInPlace, choleskySolveFactored, solveNonNegativeQp } from "../linalg/nnls";
import { defineStrategy } from "../strategy";

/**
 * UPGrad (Quinton & Rey, "Jacobian Descent for Multi-Objective Optimization", 2024; TorchJD's
 * `UPGrad` with its default mean preference). Each task gradient g_i is projected onto the dual
 * cone {v : v·g_j ≥ 0 for all j} and the projections are averaged.
 *
 * In Gram space (the paper's Proposition 1): the projection of Jᵀu is Jᵀw with
 * w = argmin_{w ≥ u} wᵀ G w. Writing w = u + λ, that is ½λᵀGλ + (Gu)ᵀλ with λ ≥ 0, solved
 * exactly by an active-set (Lawson–Hanson) method. The weights are Σ_i w⁽ⁱ⁾ with u⁽ⁱ⁾ = e_i / K.
 * As TorchJD does, G is first divided by its trace (set to 0 when the trace is below `normEps`)
 * and `regEps`·I is added, so the QP is always strictly convex.
 */
export const upgrad = defineStrategy({
  name: "upgrad",
  title: "UPGrad",
  summary: "Mean of the task gradients, each projected onto the dual cone of all of them.",
  citation: "Quinton & Rey, Jacobian Descent for Multi-Objective Optimization, 2024 (TorchJD)",
  params: z
    .object({
      normEps: z
        .number()
        .min(0)
        .default(1e-4)
        .meta({ unit: "trace of the Gram matrix (sum of squared norms)" })
        .describe(
          "Below this trace (sum of squared gradient norms) the Gram matrix is treated as zero and" +
            " the weights are the plain mean (TorchJD's norm_eps).",
        ),
      regEps: z
        .number()
        .min(0)
        .max(1)
        .default(1e-4)
        .meta({ unit: "fraction of the trace, 0 to 1" })
        .describe("Ridge added to the trace-normalised Gram matrix (TorchJD's reg_eps)."),
    })
    .strict(),
  usesLosses: false,
  init: () => null,
  step: ({ k, gram }, params, state) => {
    let trace = 0;
    for (let t = 0; t < k; t++) trace += gram[t * k + t];
    const scale = trace >= params.normEps && trace > 0 ? 1 / trace : 0;
    const hessian = new Float64Array(k * k);
    for (let i = 0; i < k * k; i++) hessian[i] = gram[i] * scale;
    for (let t = 0; t < k; t++) hessian[t * k + t] += params.regEps;

    const weights = new Float64Array(k);
    const linear = new Float64Array(k);
    // Support guesses: with every other constraint active, the projection weights of g_i are
    // H⁻¹e_i / (H⁻¹)_ii, so the positive entries of column i of H⁻¹ are a good first support
    // (exact when the gradients all conflict). The solver verifies or corrects the guess.
    const inverse = inverseColumns(k, hessian);
    const guess: number[] = [];
    const conflictSetSize = new Array<number>(k).fill(0);
    const correctionNorm = new Array<number>(k).fill(0);
    const flags = new Set<string>();
    if (scale === 0) flags.add("gram-below-norm-eps");
    for (let i = 0; i < k; i++) {
      weights[i] += 1 / k;
      // For u = e_i the linear term is column i of the Hessian; a row with no negative entry is
      // already in the dual cone (λ = 0 is optimal), which skips the solver in the common case.
      let conflicts = false;
      for (let j = 0; j < k; j++) {
        linear[j] = hessian[j * k + i];
        if (linear[j] < 0) conflicts = true;
      }
      if (!conflicts) continue;
      guess.length = 0;
      for (let j = 0; j < k; j++) if (j !== i && inverse[j * k + i] > 0) guess.push(j);
      const solution = solveNonNegativeQp(k, hessian, linear, 1e-12, 3 * k + 10, guess);
      if (solution.capped) flags.add("iteration-cap");
      if (solution.raisedPivots > 0) flags.add("singular-conflict-system");
      conflictSetSize[i] = solution.active.length;
      // By homogeneity the solution for u = e_i / K is λ / K.
      for (const j of solution.active) weights[j] += solution.x[j] / k;
      // ‖Jᵀλ‖ in the caller's units: the raw Gram matrix, not the normalised one.
      let squared = 0;
      for (const a of solution.active)
        for (const b of solution.active) squared += solution.x[a] * gram[a * k + b] * solution.x[b];
      correctionNorm[i] = normFromSquare(squared);
    }
    return {
      weights,
      state,
      projection: { conflictSetSize, correctionNorm, magnitudeScale: new Array<number>(k).fill(1) },
      ...(flags.size > 0 ? { flags: [...flags] } : {}),
    };
  },
});

/** H⁻¹ (row-major) of a symmetric positive definite matrix, column by column. */
function inverseColumns(k: number, hessian: Float64Array): Float64Array {
  const inverse = new Float64Array(k * k);
  const factor = Float64Array.from(hessian);
  choleskyFactorInPlace(k, factor);
  const column = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    column.fill(0);
    column[i] = 1;
    choleskySolveFactored(k, factor, column);
    for (let j = 0; j < k; j++) inverse[j * k + i] = column[j];
  }
  return inverse;
}
