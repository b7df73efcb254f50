/**
 * Gram matrices of task gradients, formed and checked once for every strategy.
 */

/**
 * Row-major K×K Gram matrix of K gradient rows, G[i*k+j] = g_i · g_j, in float64.
 *
 * Each dot product is summed with Neumaier's compensation: strategies on nearly collinear
 * gradients square the conditioning, and a compensated sum keeps the Gram matrix as close to
 * exact as float64 allows (products of float32 inputs are exact in float64).
 */
export function gramMatrix(rows: ReadonlyArray<ArrayLike<number>>): Float64Array {
  const k = rows.length;
  const gram = new Float64Array(k * k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const value = compensatedDot(rows[i], rows[j]);
      gram[i * k + j] = value;
      gram[j * k + i] = value;
    }
  }
  return gram;
}

/** Σ a_n b_n with Neumaier (improved Kahan) summation. */
export function compensatedDot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let sum = 0;
  let carry = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const term = a[i] * b[i];
    const next = sum + term;
    carry += Math.abs(sum) >= Math.abs(term) ? sum - next + term : term - next + sum;
    sum = next;
  }
  return sum + carry;
}

/**
 * Throws a clear Error when the Gram matrix has the wrong size or a non-finite entry, naming the
 * task whose gradient produced it (a NaN or infinite gradient poisons its row and column).
 */
export function assertFiniteGram(k: number, gram: ArrayLike<number>, who = "strategy"): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`${who}: the number of tasks must be >= 1, got ${k}`);
  if (gram.length !== k * k)
    throw new Error(`${who}: Gram matrix has ${gram.length} entries, expected ${k}×${k} = ${k * k}`);
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      const value = gram[i * k + j];
      if (!Number.isFinite(value)) {
        // Name the task whose own entry is bad when there is one: it is the culprit.
        const culprit = Number.isFinite(gram[i * k + i]) && !Number.isFinite(gram[j * k + j]) ? j : i;
        throw new Error(
          `${who}: the gradient of task ${culprit} gives a non-finite Gram entry G[${i}][${j}] = ${value}` +
            " (NaN or infinite gradient values?)",
        );
      }
    }
  }
}
