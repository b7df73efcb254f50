/**
 * Gram matrices of task gradients: formed, checked (once for every strategy, by defineStrategy),
 * and read through small helpers (norms, products, quadratic forms).
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

// Small helpers on a row-major K×K Gram matrix, so that strategies read like their papers.

/** A norm from its square; rounding may leave a tiny negative square, read as 0. */
export function normFromSquare(squared: number): number {
  return Math.sqrt(Math.max(0, squared));
}

/** ‖g_t‖ = √G_tt. */
export function taskNorm(k: number, gram: ArrayLike<number>, t: number): number {
  return normFromSquare(gram[t * k + t]);
}

/** Every task's gradient norm, ‖g_t‖ = √G_tt. */
export function taskNorms(k: number, gram: ArrayLike<number>): Float64Array {
  const norms = new Float64Array(k);
  for (let t = 0; t < k; t++) norms[t] = taskNorm(k, gram, t);
  return norms;
}

/** Gx: entry t is g_t · Σ_j x_j g_j. */
export function gramTimes(k: number, gram: ArrayLike<number>, x: ArrayLike<number>): Float64Array {
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let row = 0;
    for (let j = 0; j < k; j++) row += gram[i * k + j] * x[j];
    out[i] = row;
  }
  return out;
}

/** xᵀGx = ‖Σ_t x_t g_t‖². */
export function quadraticForm(k: number, gram: ArrayLike<number>, x: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < k; i++) {
    if (x[i] === 0) continue;
    let row = 0;
    for (let j = 0; j < k; j++) row += gram[i * k + j] * x[j];
    sum += x[i] * row;
  }
  return sum;
}

/** The Gram matrix of the rescaled gradients s_t·g_t: (s_i s_j G_ij). */
export function scaledGram(k: number, gram: ArrayLike<number>, scales: ArrayLike<number>): Float64Array {
  const out = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) out[i * k + j] = scales[i] * scales[j] * gram[i * k + j];
  return out;
}
