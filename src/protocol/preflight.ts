import { constants as bufferConstants } from "node:buffer";
import { totalmem } from "node:os";
import { type ModelConfig, SYNTHETIC_TASKS, TrainingConfig } from "./config";

/**
 * The memory a config will need, estimated from the config alone before anything is allocated
 * (docs/configuration.md, "Preflight"). A batch size of 1e12 or an embedding width of 1e9 then
 * fails naming the field and the estimate, instead of `Invalid typed array length` deep in the
 * trainer or a machine that swaps to a halt. An estimate, not an accounting: it counts the big
 * arrays (data, embedding tables with their Adam moments, dense weights with theirs and the
 * per-task gradient stack, one batch's activations) and leaves tfjs's own overhead out.
 */

/** One big consumer of memory. */
export interface MemoryPart {
  readonly what: string;
  readonly bytes: number;
  /** Elements of the largest single typed array in this part. */
  readonly largestArray: number;
}

export interface ModelDimensions {
  /** Ids per categorical feature (the OOV bucket included). */
  readonly vocabularies: readonly number[];
  readonly numericFeatures: number;
  readonly tasks: number;
  readonly featureNames?: readonly string[];
}

export class PreflightError extends Error {
  constructor(
    /** The config field to change, e.g. "training.batchSize". */
    readonly field: string,
    readonly estimateBytes: number,
    readonly budgetBytes: number,
    message: string,
  ) {
    super(message);
    this.name = "PreflightError";
  }
}

const FLOAT = 4;
const LATENT = 8; // the generator's hidden factor width (data/synthetic.ts)

/** What this process may use: the machine's memory, or a smaller container limit. */
export function memoryBudget(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < total ? constrained : total;
}

/** Longest typed array this runtime can allocate. */
export const MAX_ARRAY_LENGTH = bufferConstants.MAX_LENGTH;

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 100 || unit === 0 ? value.toFixed(0) : value.toPrecision(3)} ${units[unit]}`;
}

/**
 * The config's memory, part by part. File data's vocabularies are not known before it is read:
 * each feature counts two ids here (OOV and one value), a lower bound; checkModelFits repeats the
 * model's part with the real ones.
 */
export function estimateMemory(config: TrainingConfig): MemoryPart[] {
  const data = config.data;
  const parts: MemoryPart[] = [];
  let dims: ModelDimensions;
  if (data.source === "synthetic") {
    const features = 3 + data.contextVocabularies.length;
    const k = SYNTHETIC_TASKS.length;
    dims = {
      vocabularies: [
        data.users + 1,
        data.items + 1,
        data.authors + 1,
        ...data.contextVocabularies.map((v) => v + 1),
      ],
      numericFeatures: 2,
      tasks: k,
    };
    // The generated rows and their copy into splits; the per-entity hidden factors and samplers.
    const rowBytes = 2 * (features * FLOAT + 2 * FLOAT + k * FLOAT + FLOAT) + 2 * k * FLOAT;
    parts.push({ what: "generated rows", bytes: data.rows * rowBytes, largestArray: data.rows * features });
    const entityBytes =
      data.users * ((2 * LATENT + 3) * FLOAT + 12) +
      data.items * ((LATENT + 4) * FLOAT + 12) +
      data.authors * ((LATENT + 1) * FLOAT + 12);
    parts.push({
      what: "the generator's hidden factors",
      bytes: entityBytes,
      largestArray: Math.max(data.users, data.items) * LATENT,
    });
  } else {
    const features = data.features.length + data.joins.reduce((n, j) => n + j.features.length, 0);
    const numeric =
      data.numericFeatures.length + data.joins.reduce((n, j) => n + j.numericFeatures.length, 0);
    dims = { vocabularies: new Array(features).fill(2), numericFeatures: numeric, tasks: data.labels.length };
  }
  parts.push(...modelParts(config.model, dims));
  parts.push(batchPart(config.model, dims, config.training.batchSize));
  return parts;
}

/** The embedding tables and the dense weights, with their Adam moments and gradients. */
export function modelParts(model: ModelConfig, dims: ModelDimensions): MemoryPart[] {
  const dim = model.embeddingDim;
  const largest = dims.vocabularies.reduce((best, v, i) => (v > dims.vocabularies[best] ? i : best), 0);
  const ids = dims.vocabularies.reduce((a, b) => a + b, 0);
  const name = dims.featureNames?.[largest];
  const tables: MemoryPart = {
    what: `embedding tables (${ids} ids × ${dim} dims${name !== undefined ? `; "${name}" alone has ${dims.vocabularies[largest]} ids` : ""})`,
    // Value and two Adam moments per weight, plus two row markers (int32) per id.
    bytes: ids * (3 * dim * FLOAT + 2 * 4),
    largestArray: (dims.vocabularies[largest] ?? 0) * dim,
  };
  const { shared, towers, largestLayer } = denseParameters(model, dims);
  const k = dims.tasks;
  // Value and two moments per weight; each task's gradient of the shared weights, stacked, and
  // the stack's copy that forms the Gram matrix.
  const dense: MemoryPart = {
    what: `dense weights (${shared + towers} parameters)`,
    bytes: 3 * (shared + towers) * FLOAT + 2 * k * shared * FLOAT,
    largestArray: Math.max(largestLayer, k * shared),
  };
  return [tables, dense];
}

/** One training batch: the copied rows, and every layer's activations and per-task gradients. */
function batchPart(model: ModelConfig, dims: ModelDimensions, batchSize: number): MemoryPart {
  const features = dims.vocabularies.length;
  const input = features * model.embeddingDim + dims.numericFeatures;
  const { activationWidth, widestLayer } = denseParameters(model, dims);
  const k = dims.tasks;
  // Forward values and caches, then a gradient per task reaching each layer (at most K).
  const perRow =
    (input + activationWidth) * (2 + k) * FLOAT + (features + dims.numericFeatures + k + 1) * FLOAT;
  return {
    what: `a batch of ${batchSize} rows`,
    bytes: batchSize * perRow,
    // The widest per-task gradient, [batch, K, width], is one array.
    largestArray: batchSize * k * Math.max(input, widestLayer),
  };
}

/** Parameter counts and the summed output width of every layer, as model/model.ts builds them. */
export function denseParameters(model: ModelConfig, dims: ModelDimensions) {
  const k = dims.tasks;
  const input = dims.vocabularies.length * model.embeddingDim + dims.numericFeatures;
  const last = model.experts[model.experts.length - 1];
  let shared = 0;
  let width = 0;
  let largestLayer = 0;
  const mlp = (inputs: number, sizes: readonly number[], count: number) => {
    let from = inputs;
    for (const size of sizes) {
      shared += count * (from * size + size);
      width += count * size;
      largestLayer = Math.max(largestLayer, from * size);
      from = size;
    }
  };
  const gate = (inputs: number, experts: number, count: number) => {
    if (experts < 2) return;
    shared += count * (inputs * experts + experts);
    width += count * experts;
  };
  if (model.type === "shared-bottom") mlp(input, model.experts, 1);
  else if (model.type === "mmoe") {
    mlp(input, model.experts, model.numExperts);
    gate(input, model.numExperts, k);
  } else
    for (let level = 0; level < model.levels; level++) {
      const from = level === 0 ? input : last;
      mlp(from, model.experts, model.sharedExperts + k * model.specificExperts);
      gate(from, model.sharedExperts + model.specificExperts, k);
      if (level < model.levels - 1) gate(from, model.sharedExperts + k * model.specificExperts, 1);
    }
  let towers = 0;
  let from = last;
  for (const size of [...model.towers, 1]) {
    towers += k * (from * size + size);
    width += k * size;
    from = size;
  }
  const widestLayer = Math.max(...model.experts, ...model.towers, 1);
  return { shared, towers, activationWidth: width, largestLayer, widestLayer };
}

interface Verdict {
  readonly fits: boolean;
  readonly total: number;
  readonly worst: MemoryPart;
  readonly tooLong?: MemoryPart;
}

function judge(parts: readonly MemoryPart[], budget: number): Verdict {
  const total = parts.reduce((sum, p) => sum + p.bytes, 0);
  const tooLong = parts.find((p) => p.largestArray > MAX_ARRAY_LENGTH);
  const worst = parts.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { fits: total <= budget && tooLong === undefined, total, worst, tooLong };
}

/** Fields whose size drives memory, and where each lives in the config. */
const SIZE_FIELDS = [
  "training.batchSize",
  "model.embeddingDim",
  "model.experts",
  "model.towers",
  "model.numExperts",
  "model.levels",
  "model.sharedExperts",
  "model.specificExperts",
  "data.rows",
  "data.users",
  "data.items",
  "data.authors",
  "data.contextVocabularies",
] as const;

function getAt(config: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], config);
}

function withDefault(config: TrainingConfig, path: string, defaults: TrainingConfig): TrainingConfig {
  const copy = structuredClone(config) as unknown as Record<string, Record<string, unknown>>;
  const [block, key] = path.split(".");
  copy[block][key] = structuredClone(getAt(defaults, path));
  return copy as unknown as TrainingConfig;
}

/**
 * The one field that, set back to its default, makes the config fit (the one that saves most
 * when several do); else the field behind the biggest part. That is the field to name.
 */
function culprit(config: TrainingConfig, budget: number, worst: MemoryPart): string {
  const defaults = TrainingConfig.parse({
    data: config.data.source === "synthetic" ? { source: "synthetic" } : config.data,
  });
  let best: { field: string; total: number } | undefined;
  for (const field of SIZE_FIELDS) {
    const value = getAt(config, field);
    const fallback = getAt(defaults, field);
    if (value === undefined || fallback === undefined || JSON.stringify(value) === JSON.stringify(fallback))
      continue;
    const verdict = judge(estimateMemory(withDefault(config, field, defaults)), budget);
    if (verdict.fits && (best === undefined || verdict.total < best.total))
      best = { field, total: verdict.total };
  }
  if (best) return best.field;
  if (worst.what.startsWith("a batch")) return "training.batchSize";
  if (worst.what.startsWith("generated rows")) return "data.rows";
  if (worst.what.startsWith("embedding")) return "model.embeddingDim";
  return "model.experts";
}

function describeVerdict(field: string, value: unknown, verdict: Verdict, budget: number): string {
  const part = verdict.total > budget ? verdict.worst : (verdict.tooLong ?? verdict.worst);
  const shown = value === undefined ? "" : ` ${JSON.stringify(value)}`;
  const why =
    verdict.total > budget
      ? `more than the ${formatBytes(budget)} of memory here`
      : `and ${part.what} needs one array of ${part.largestArray} values, more than the ${MAX_ARRAY_LENGTH} a typed array can hold`;
  return `${field}${shown}: the run would need about ${formatBytes(verdict.total)} (${part.what}: ${formatBytes(part.bytes)}), ${why}`;
}

/** Checks the config's estimate against this machine; throws PreflightError naming the field to change. */
export function checkConfigFits(config: TrainingConfig, budget = memoryBudget()): void {
  const verdict = judge(estimateMemory(config), budget);
  if (verdict.fits) return;
  const field = culprit(config, budget, verdict.tooLong ?? verdict.worst);
  throw new PreflightError(
    field,
    verdict.total,
    budget,
    describeVerdict(field, getAt(config, field), verdict, budget),
  );
}

/**
 * The model's part again once the data is read and its vocabularies are known: file data's
 * vocabularies are only a lower bound before. Names the embedding width when the default width
 * would fit, else the data's features (raise `data.minCount` to merge rare values).
 */
export function checkModelFits(model: ModelConfig, dims: ModelDimensions, budget = memoryBudget()): void {
  const verdict = judge(modelParts(model, dims), budget);
  if (verdict.fits) return;
  const narrow = judge(modelParts({ ...model, embeddingDim: 16 }, dims), budget);
  const field = model.embeddingDim > 16 && narrow.fits ? "model.embeddingDim" : "data.features";
  throw new PreflightError(
    field,
    verdict.total,
    budget,
    describeVerdict(field, field === "model.embeddingDim" ? model.embeddingDim : undefined, verdict, budget),
  );
}
