import * as tf from "@tensorflow/tfjs-core";
import { sameTasks, type TaskGrad } from "./model/layers";

/**
 * The K×K Gram matrix of gradient blocks, each a stack [S, ...] over some tasks (task axis 0),
 * on the device: one product for the blocks all tasks reach, squared norms on the diagonal for
 * blocks only one task reaches (PLE task experts, gates).
 */
export function gramOf(blocks: readonly TaskGrad[], k: number): tf.Tensor2D {
  const allTasks = Array.from({ length: k }, (_, t) => t);
  const full: tf.Tensor[] = [];
  const diagonal: tf.Tensor[][] = allTasks.map(() => []);
  for (const block of blocks) {
    const s = block.tasks.length;
    const flat = tf.reshape(block.grad, [s, -1]);
    if (sameTasks(block.tasks, allTasks)) full.push(flat);
    else if (s === 1) diagonal[block.tasks[0]].push(tf.sum(tf.square(flat)));
    else {
      // Rare: a stack over some tasks only; pad it to all K rows.
      const rows = allTasks.map((t) => {
        const at = block.tasks.indexOf(t);
        return at < 0 ? tf.zeros([1, flat.shape[1] ?? 0]) : tf.slice(flat, [at, 0], [1, -1]);
      });
      full.push(tf.concat(rows, 0));
    }
  }
  let gram: tf.Tensor2D = tf.zeros([k, k]);
  if (full.length > 0) {
    const stacked = full.length === 1 ? full[0] : tf.concat(full, 1);
    gram = tf.matMul(stacked, tf.transpose(stacked)) as tf.Tensor2D;
  }
  if (diagonal.some((d) => d.length > 0)) {
    const squares = tf.stack(
      diagonal.map((d) => (d.length === 0 ? tf.scalar(0) : d.length === 1 ? d[0] : tf.addN(d))),
    );
    gram = tf.add(gram, tf.mul(tf.eye(k), squares)) as tf.Tensor2D;
  }
  return gram;
}

/** An activation stack [B, S, n] as a block [S, B·n] for the Gram matrix. */
export function activationBlock(part: TaskGrad): TaskGrad {
  const [b, s, n] = part.grad.shape;
  return {
    tasks: part.tasks,
    grad: s === 1 ? tf.reshape(part.grad, [1, b * (n ?? 1)]) : tf.transpose(part.grad, [1, 0, 2]),
  };
}
