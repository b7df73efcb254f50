import { z } from "zod";
import { symmetricEigen } from "../linalg/eigen";
import { defineStrategy } from "../strategy";

/**
 * Aligned-MTL (Senushkin et al., "Independent Component Alignment for Multi-Task Learning",
 * CVPR 2023), as LibMTL computes it: eigendecomposition G = VΛVᵀ, keep the eigenpairs with
 * λ > max(λ)·K·ε_float64, B = √λ_min·V diag(λ^-1/2) Vᵀ over the kept pairs, α = column sums
 * of B (the update Σ α_t g_t has equal components along the principal directions).
 */
export const alignedMtl = defineStrategy({
  name: "aligned-mtl",
  title: "Aligned-MTL",
  summary: "Align the principal components of the task gradients to a condition number of one.",
  citation: "Senushkin et al., Independent Component Alignment for Multi-Task Learning, CVPR 2023",
  params: z.object({}),
  usesLosses: false,
  init: () => null,
  step: ({ k, gram }, _params, state) => {
    const { values, vectors } = symmetricEigen(k, gram);
    const cut = values[0] * k * Number.EPSILON;
    let rank = 0;
    while (rank < k && values[rank] > cut) rank++;
    const weights = new Float64Array(k);
    const flags: string[] = [];
    for (let t = 0; t < k; t++) if (!(gram[t * k + t] > 0)) flags.push("zero-gradient");
    if (rank === 0) {
      // Every gradient is zero: any weights give the zero update; report the mean.
      weights.fill(1 / k);
      return { weights, state, flags };
    }
    if (rank < k) flags.push("rank-deficient");
    const smallest = Math.sqrt(values[rank - 1]);
    // α_j = √λ_min Σ_e V_je λ_e^-1/2 (Σ_i V_ie).
    for (let e = 0; e < rank; e++) {
      let columnSum = 0;
      for (let i = 0; i < k; i++) columnSum += vectors[i * k + e];
      const factor = (smallest * columnSum) / Math.sqrt(values[e]);
      for (let j = 0; j < k; j++) weights[j] += factor * vectors[j * k + e];
    }
    return { weights, state, flags };
  },
});
