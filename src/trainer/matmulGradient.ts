import * as tf from "@tensorflow/tfjs-core";
// tfjs-core registers its gradients only on request; we need them (and the stock one to replace).
import "@tensorflow/tfjs-core/dist/register_all_gradients";

/**
 * The wasm backend multiplies fast only when neither operand is transposed; tfjs-core's stock
 * BatchMatMul gradient passes transpose flags and lands on a path 20–40× slower
 * (docs/architecture.md, "Backends on wasm").
 * This replacement computes the same products with explicit transposes, so every product in a
 * backward pass runs on the fast kernel.
 */

const stock = tf.getGradient("BatchMatMul");

/** Swaps the last two axes (rank 2 or 3). */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return tf.transpose(x, perm);
}

const mm = (a: tf.Tensor, b: tf.Tensor) => tf.matMul(a, b, false, false);

export const explicitTransposeMatMulGradient: tf.GradConfig = {
  kernelName: "BatchMatMul",
  inputsToSave: ["a", "b"],
  gradFunc: (dy, saved, attrs) => {
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const g = dy as tf.Tensor;
    if (!transposeA && !transposeB) return { a: () => mm(g, swapLast(b)), b: () => mm(swapLast(a), g) };
    if (!transposeA && transposeB) return { a: () => mm(g, b), b: () => mm(swapLast(g), a) };
    if (transposeA && !transposeB) return { a: () => mm(b, swapLast(g)), b: () => mm(a, g) };
    return { a: () => mm(swapLast(b), swapLast(g)), b: () => mm(swapLast(g), swapLast(a)) };
  },
};

/** Installs the explicit-transpose gradient (idempotent). */
export function installFastMatMulGradient(): void {
  tf.registerGradient(explicitTransposeMatMulGradient);
}

/** Puts tfjs-core's own gradient back (tests compare the two). */
export function restoreStockMatMulGradient(): void {
  if (stock) tf.registerGradient(stock);
}
