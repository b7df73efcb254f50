import { z } from "zod";
import { combine } from "./combine";

/**
 * Runs reference vectors (docs/strategies.md, "Reference vectors": peer code's task gradients in, its combined
 * update out) through our strategies and applies the file's comparison rule:
 * pass iff max_i |a_i − e_i| ≤ atol + tol·max_i |e_i|, with the float64 tolerances against
 * `expected`, or the `_exact` ones against `expected_exact` where the peer is iterative (MGDA,
 * CAGRAD: our solvers are exact). Inputs are float32 values: parsed with Math.fround, then float64.
 */

const numberRow = z.array(z.number());

export const referenceCaseSchema = z.object({
  method: z.string(),
  params: z.record(z.string(), z.unknown()),
  K: z.number().int().min(1),
  d: z.number().int().min(1),
  case_type: z.string(),
  seed: z.number(),
  grads: z.array(numberRow),
  expected: numberRow.nullable(),
  expected_f32: numberRow.nullable().optional(),
  weights: numberRow.nullable().optional(),
  tol: z.number().nullable().optional(),
  atol: z.number().nullable().optional(),
  tol_f64: z.number().nullable().optional(),
  atol_f64: z.number().nullable().optional(),
  f64_required: z.boolean().nullable().optional(),
  expected_exact: numberRow.nullable().optional(),
  tol_exact: z.number().nullable().optional(),
  atol_exact: z.number().nullable().optional(),
  peer_error: z.string().nullable().optional(),
  note: z.string().nullable().optional(),
});
export type ReferenceCase = z.infer<typeof referenceCaseSchema>;

export const referenceFileSchema = z.object({
  generator: z.string().optional(),
  cases: z.array(referenceCaseSchema),
});
export type ReferenceFile = z.infer<typeof referenceFileSchema>;

/** How one reference method maps onto our registry. */
export interface StrategyMapping {
  readonly strategy: string;
  readonly params: Record<string, unknown>;
  /** Which gradient rows the strategy sees (the peer may rewrite some, see quirk (a)). */
  readonly grads: number[][];
  /** Human note on any peer quirk reproduced for this case. */
  readonly quirk?: string;
}

function numberParam(params: Record<string, unknown>, name: string, fallback: number): number {
  const value = params[name];
  if (value === undefined) return fallback;
  if (typeof value !== "number")
    throw new Error(`reference parameter "${name}" must be a number, got ${String(value)}`);
  return value;
}

function ordersOf(params: Record<string, unknown>, method: string): number[][] {
  const orders = params.orders;
  if (!Array.isArray(orders))
    throw new Error(`${method} case has no recorded "orders" (needed to replay its shuffles)`);
  return orders as number[][];
}

/**
 * GradCraft repository quirk (a): a parameter whose gradient for some task sums to exactly 0 is
 * treated as that task's "no gradient": the task's gradient is zeroed and, since the single
 * reference parameter is then not shared by every task, the projected gradients are SUMMED.
 * Returns the indices of such tasks.
 */
export function unsharedTasks(grads: number[][]): number[] {
  const out: number[] = [];
  grads.forEach((row, t) => {
    let sum = 0;
    for (const x of row) sum += x;
    if (sum === 0) out.push(t);
  });
  return out;
}

/** Maps a reference case (method name + peer hyper-parameters) to our strategy and parameters. */
export function mapReferenceCase(c: ReferenceCase, grads: number[][]): StrategyMapping {
  const p = c.params;
  switch (c.method) {
    case "gradcraft":
      return {
        strategy: "gradcraft",
        params: { tau: numberParam(p, "tau", 1), eps: numberParam(p, "eps", 0) },
        grads,
      };
    case "pcgrad": {
      const unshared = unsharedTasks(grads);
      if (unshared.length === 0)
        return { strategy: "pcgrad", params: { reduction: "mean", orders: ordersOf(p, c.method) }, grads };
      return {
        strategy: "pcgrad",
        params: { reduction: "sum", orders: ordersOf(p, c.method) },
        grads: grads.map((row, t) => (unshared.includes(t) ? row.map(() => 0) : row)),
        quirk: `GradCraft repo quirk (a): task(s) ${unshared.join(", ")} sum to 0 -> zeroed, projected gradients summed`,
      };
    }
    case "pcgrad_libmtl":
      return {
        strategy: "pcgrad",
        params: { reduction: "sum", denominatorEps: 1e-8, orders: ordersOf(p, c.method) },
        grads,
      };
    case "mgda": {
      const gn = p.mgda_gn ?? "none";
      if (gn !== "none" && gn !== "l2")
        throw new Error(`mgda normalisation "${String(gn)}" is not supported`);
      return { strategy: "mgda", params: { normalization: gn }, grads };
    }
    case "cagrad":
      return {
        strategy: "cagrad",
        params: { c: numberParam(p, "calpha", 0.5), rescale: numberParam(p, "rescale", 1) },
        grads,
      };
    case "imtl_g":
      return { strategy: "imtl-g", params: {}, grads };
    case "aligned_mtl":
      return { strategy: "aligned-mtl", params: {}, grads };
    case "gradvac":
      if ((p.group_type ?? 0) !== 0)
        throw new Error(`gradvac group_type ${String(p.group_type)} is not supported`);
      return {
        strategy: "gradvac",
        params: { beta: numberParam(p, "beta", 0.5), orders: ordersOf(p, c.method) },
        grads,
      };
    case "dbmtl":
      return {
        strategy: "db-mtl",
        params: { beta: numberParam(p, "beta", 0.9), betaSigma: numberParam(p, "beta_sigma", 0) },
        grads,
      };
    default:
      throw new Error(`unknown reference method "${c.method}"`);
  }
}

export type CaseStatus = "pass" | "fail" | "peer-error";

export interface CaseOutcome {
  readonly index: number;
  readonly method: string;
  readonly caseType: string;
  readonly k: number;
  readonly d: number;
  readonly seed: number;
  readonly strategy: string;
  readonly status: CaseStatus;
  /** Which reference vector was compared: "expected", "expected_exact" or none (peer error). */
  readonly against?: "expected" | "expected_exact";
  /** max_i |a_i − e_i| and the allowed bound atol + tol·max|e|. */
  readonly error?: number;
  readonly allowed?: number;
  readonly weights: number[];
  readonly flags: string[];
  /** ‖update‖ and whether every value of it is finite (what we returned for peer-error cases). */
  readonly updateNorm: number;
  readonly finite: boolean;
  readonly peerError?: string;
  readonly quirk?: string;
  /** Why a case failed or errored. */
  readonly message?: string;
}

/** Runs one reference case. Never throws: an exception becomes a failed outcome with its message. */
export function runReferenceCase(c: ReferenceCase, index = 0): CaseOutcome {
  const base = { index, method: c.method, caseType: c.case_type, k: c.K, d: c.d, seed: c.seed };
  let strategy = "?";
  try {
    const grads = c.grads.map((row) => row.map((x) => Math.fround(x)));
    if (grads.length !== c.K || grads.some((row) => row.length !== c.d))
      throw new Error(`grads is not ${c.K}×${c.d}`);
    const mapping = mapReferenceCase(c, grads);
    strategy = mapping.strategy;
    const { weights, update, stats } = combine({
      grads: mapping.grads,
      strategy: mapping.strategy,
      params: mapping.params,
    });
    let squared = 0;
    let finite = true;
    for (const x of update) {
      squared += x * x;
      if (!Number.isFinite(x)) finite = false;
    }
    const common = {
      ...base,
      strategy,
      weights,
      flags: stats.flags,
      updateNorm: Math.sqrt(squared),
      finite,
      ...(mapping.quirk ? { quirk: mapping.quirk } : {}),
    };
    if (c.peer_error != null || c.expected === null) {
      // The peer has no answer: our defined behaviour is a finite update and, for the degenerate
      // inputs behind every peer error, a flag naming the situation.
      const problems: string[] = [];
      if (!finite) problems.push("non-finite update");
      if (c.case_type === "zero_task" && !stats.flags.includes("zero-gradient"))
        problems.push("missing zero-gradient flag");
      return {
        ...common,
        status: problems.length === 0 ? "peer-error" : "fail",
        peerError: c.peer_error ?? "no expected vector",
        ...(problems.length > 0 ? { message: problems.join("; ") } : {}),
      };
    }
    const useExact = c.expected_exact != null && c.tol_exact != null && c.atol_exact != null;
    let against: CaseOutcome["against"] = useExact ? "expected_exact" : "expected";
    let { error, allowed } = useExact
      ? compare(update, c.expected_exact!, c.tol_exact!, c.atol_exact!)
      : compare(update, c.expected, c.tol_f64 ?? c.tol ?? 0, c.atol_f64 ?? c.atol ?? 0);
    if (useExact && !(error <= allowed) && c.tol != null && c.atol != null) {
      // The README lets an iterative peer be matched either way: `expected_exact` is itself a tight
      // SLSQP run (finite-difference gradients) and can sit off the optimum along flat directions;
      // the peer's own output with its implementation-independent tolerance is the other half.
      const loose = compare(update, c.expected, c.tol, c.atol);
      if (loose.error <= loose.allowed) {
        ({ error, allowed } = loose);
        against = "expected";
      }
    }
    const pass = finite && error <= allowed;
    return {
      ...common,
      status: pass ? "pass" : "fail",
      against,
      error,
      allowed,
      ...(pass
        ? {}
        : { message: `max |ours − peer| = ${error.toExponential(3)} > ${allowed.toExponential(3)}` }),
    };
  } catch (error) {
    return {
      ...base,
      strategy,
      status: "fail",
      weights: [],
      flags: [],
      updateNorm: Number.NaN,
      finite: false,
      message: error instanceof Error ? error.message : String(error),
      ...(c.peer_error != null ? { peerError: c.peer_error } : {}),
    };
  }
}

/** The README's rule: max |a − e| against atol + tol·max |e|. */
export function compare(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: number,
  atol: number,
): { error: number; allowed: number } {
  if (actual.length !== expected.length)
    throw new Error(`update has ${actual.length} values, the reference ${expected.length}`);
  let error = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const diff = Math.abs(actual[i] - expected[i]);
    error = Number.isNaN(diff) ? Number.POSITIVE_INFINITY : Math.max(error, diff);
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return { error, allowed: atol + tol * scale };
}

export interface MethodSummary {
  readonly method: string;
  readonly cases: number;
  readonly passed: number;
  readonly failed: number;
  readonly peerErrors: number;
  /** For peer-error cases: what we returned (flags and update norms), grouped. */
  readonly peerErrorReturns: string[];
}

export interface ConformanceReport {
  readonly generator?: string;
  readonly total: number;
  readonly passed: number;
  readonly failed: number;
  readonly peerErrors: number;
  readonly methods: MethodSummary[];
  readonly outcomes: CaseOutcome[];
}

/** Validates a parsed reference file (throws naming the first bad field). */
export function parseReferenceFile(json: unknown): ReferenceFile {
  const parsed = referenceFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`reference file: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Runs every case of a reference file and summarises per method. */
export function runReference(file: ReferenceFile): ConformanceReport {
  const outcomes = file.cases.map((c, i) => runReferenceCase(c, i));
  const methods = new Map<string, CaseOutcome[]>();
  for (const o of outcomes) {
    const list = methods.get(o.method) ?? [];
    list.push(o);
    methods.set(o.method, list);
  }
  const summaries: MethodSummary[] = [...methods.entries()].map(([method, list]) => {
    const returns = new Map<string, number>();
    for (const o of list) {
      if (o.peerError === undefined) continue;
      const what = `${o.finite ? "finite" : "NON-FINITE"} update, flags [${o.flags.join(", ")}]`;
      returns.set(what, (returns.get(what) ?? 0) + 1);
    }
    return {
      method,
      cases: list.length,
      passed: list.filter((o) => o.status === "pass").length,
      failed: list.filter((o) => o.status === "fail").length,
      peerErrors: list.filter((o) => o.status === "peer-error").length,
      peerErrorReturns: [...returns.entries()].map(([what, n]) => `${n}× ${what}`),
    };
  });
  return {
    ...(file.generator ? { generator: file.generator } : {}),
    total: outcomes.length,
    passed: outcomes.filter((o) => o.status === "pass").length,
    failed: outcomes.filter((o) => o.status === "fail").length,
    peerErrors: outcomes.filter((o) => o.status === "peer-error").length,
    methods: summaries,
    outcomes,
  };
}
