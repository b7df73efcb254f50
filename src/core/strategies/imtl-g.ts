import { z } from "zod";
import { pseudoInverseSolve } from "../linalg/eigen";
import { taskNorms } from "../linalg/gram";
import { solveGeneral } from "../linalg/solve";
import { defineStrategy } from "../strategy";

/**
 * IMTL-G, the gradient part of IMTL (Liu et al., "Towards Impartial Multi-task Learning", ICLR
 * 2021): the update u = Σ α_t g_t with Σ α = 1 has the same projection on every unit gradient
 * u_t = g_t/‖g_t‖. As LibMTL computes it: D = g_1 − g_{2..K}, U = u_1 − u_{2..K},
 * a = g_1 Uᵀ (D Uᵀ)⁻¹, α = [1 − Σa, a]; every product is a Gram entry divided by norms.
 * Defined where the peer returns NaN: zero-gradient tasks are left out (weight 0); a singular
 * D Uᵀ (more than d+1 tasks in d dimensions, duplicates) falls back to α ∝ G⁺n (TorchJD's
 * formulation of the same condition) and is flagged.
 */
export const imtlG = defineStrategy({
  name: "imtl-g",
  title: "IMTL-G",
  summary: "Update with equal projections on every task's unit gradient (weights sum to 1).",
  citation: "Liu et al., Towards Impartial Multi-task Learning, ICLR 2021",
  params: z.object({}),
  usesLosses: false,
  init: () => null,
  step: ({ k, gram }, _params, state) => {
    const active: number[] = [];
    const norms = taskNorms(k, gram);
    for (let t = 0; t < k; t++) if (norms[t] > 0) active.push(t);
    const flags: string[] = [];
    if (active.length < k) flags.push("zero-gradient");
    const weights = new Float64Array(k);
    if (active.length === 0) {
      weights.fill(1 / k);
      return { weights, state, flags };
    }
    if (active.length === 1) {
      weights[active[0]] = 1;
      return { weights, state, flags };
    }
    const first = active[0];
    const rest = active.slice(1);
    const m = rest.length;
    // Solve (D Uᵀ)ᵀ aᵀ = (g_1 Uᵀ)ᵀ.
    const system = new Float64Array(m * m);
    const rhs = new Float64Array(m);
    const g11 = gram[first * k + first] / norms[first];
    for (let x = 0; x < m; x++) {
      const tx = rest[x];
      rhs[x] = g11 - gram[first * k + tx] / norms[tx];
      for (let y = 0; y < m; y++) {
        const ty = rest[y];
        // (D Uᵀ)[x][y] = (g_1 − g_x)·(u_1 − u_y), stored transposed.
        system[y * m + x] =
          g11 -
          gram[first * k + ty] / norms[ty] -
          gram[tx * k + first] / norms[first] +
          gram[tx * k + ty] / norms[ty];
      }
    }
    const solved = solveGeneral(m, system, rhs, 1e-13);
    if (solved.rank === m) {
      let sum = 0;
      for (let x = 0; x < m; x++) {
        weights[rest[x]] = solved.x[x];
        sum += solved.x[x];
      }
      weights[first] = 1 - sum;
      return { weights, state, flags };
    }
    flags.push("singular-conflict-system");
    const n = active.length;
    const sub = new Float64Array(n * n);
    const target = new Float64Array(n);
    for (let x = 0; x < n; x++) {
      target[x] = norms[active[x]];
      for (let y = 0; y < n; y++) sub[x * n + y] = gram[active[x] * k + active[y]];
    }
    const { x } = pseudoInverseSolve(n, sub, target);
    let sum = 0;
    for (let i = 0; i < n; i++) sum += x[i];
    for (let i = 0; i < n; i++) weights[active[i]] = Math.abs(sum) > 1e-300 ? x[i] / sum : 1 / n;
    return { weights, state, flags };
  },
});
