/**
 * Shared small dense linear algebra in float64 (row-major arrays), used by the strategies:
 * - gramMatrix / compensatedDot / assertFiniteGram and small helpers (taskNorms, gramTimes,
 *   quadraticForm, scaledGram): forming, checking and reading Gram matrices;
 * - solvePsd (pivoted Cholesky, rank-revealing) and solveGeneral (LU, partial pivoting);
 * - symmetricEigen (cyclic Jacobi) and pseudoInverseSolve;
 * - minNormPoint: exact min-norm point of a convex hull from its Gram matrix (Wolfe);
 * - minimizeLinearPlusNormOnSimplex: CAGrad's inner problem.
 */
export { pseudoInverseSolve, type SymmetricEigen, symmetricEigen } from "./eigen";
export {
  assertFiniteGram,
  compensatedDot,
  gramMatrix,
  gramTimes,
  normFromSquare,
  quadraticForm,
  scaledGram,
  taskNorm,
  taskNorms,
} from "./gram";
export { type MinNormResult, minNormPoint } from "./minnorm";
export { minimizeLinearPlusNormOnSimplex, type SimplexSolveResult } from "./simplex";
export { DEFAULT_RANK_TOLERANCE, type SolveResult, solveGeneral, solvePsd } from "./solve";
