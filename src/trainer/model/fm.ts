import * as tf from "@tensorflow/tfjs-core";

/**
 * The factorization-machine interaction of DeepFM (Guo et al., IJCAI 2017), as the official
 * GradCraft code's DeepFM backbone uses it (docs/architecture.md, "DeepFM input"): for each
 * example, with e_f the embedding of categorical feature f,
 *
 *   fm = Σ_{f<g} ⟨e_f, e_g⟩ = ½ Σ_d [(Σ_f e_fd)² − Σ_f e_fd²].
 *
 * It has no parameters of its own: it is a function of the shared embedding rows, so its
 * gradient reaches them through every task's tower and enters the Gram matrix with them.
 * ∂fm/∂e_fd = S_d − e_fd with S = Σ_f e_f.
 */

/** [F·dim, dim]: stacked identities, so that embedded [B, F·dim] · it = Σ_f e_f (a product, not a reduction over a middle axis, which is slow on wasm). */
export function fieldSumMatrix(features: number, dim: number): tf.Tensor2D {
  return tf.tidy(() => tf.tile(tf.eye(dim), [features, 1]) as tf.Tensor2D);
}

/** fm [B, 1] from the embedded categorical features [B, F·dim]; with `keep`, ∂fm/∂embedded [B, F·dim]. */
export function fmForward(
  embedded: tf.Tensor2D,
  fieldSum: tf.Tensor2D,
  keep: boolean,
): { fm: tf.Tensor2D; slope?: tf.Tensor2D } {
  const features = embedded.shape[1] / fieldSum.shape[1];
  const sum = tf.matMul(embedded, fieldSum) as tf.Tensor2D; // [B, dim]
  const fm = tf.mul(
    0.5,
    tf.sub(tf.sum(tf.square(sum), 1, true), tf.sum(tf.square(embedded), 1, true)),
  ) as tf.Tensor2D;
  return { fm, slope: keep ? (tf.sub(tf.tile(sum, [1, features]), embedded) as tf.Tensor2D) : undefined };
}

/**
 * δ of the model input [B, S, F·dim + numeric] from a stack of per-task gradients of fm
 * [B, S, 1]: the FM term reads the categorical embeddings only, so the numeric columns get zero.
 */
export function fmBackward(dFm: tf.Tensor3D, slope: tf.Tensor2D, numericFeatures: number): tf.Tensor3D {
  const grad = tf.mul(dFm, tf.expandDims(slope, 1)) as tf.Tensor3D;
  if (numericFeatures === 0) return grad;
  const [b, s] = dFm.shape;
  return tf.concat([grad, tf.zeros([b, s, numericFeatures])], 2) as tf.Tensor3D;
}
