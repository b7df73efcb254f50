import { resolve } from "node:path";
import type { TrainingConfigInput } from "../protocol/config";
import { kuairandDataConfig } from "./data/index";

/**
 * Presets: starting configs a user's file (or flags) override field by field.
 * - quick: the main job (`npm run train`): synthetic data, a small PLE, under 2 minutes on two
 *   cores with mean test AUC ≥ 0.65 (measured: docs/benchmarks.md).
 * - wechat-like: the paper's shape (docs/benchmarks.md) on synthetic data of the same vocabularies.
 * - kuairand: real KuaiRand-Pure data (docs/data.md), from ../shared/data/kuairand-pure by default.
 */

export const PRESETS = ["quick", "wechat-like", "kuairand"] as const;
export type PresetName = (typeof PRESETS)[number];

/** Reference shapes shared by the presets and the speed benchmark: the paper's setup. */
export const WECHAT_LIKE = {
  vocabularies: [20000, 100000, 2000, 50, 50, 10, 10, 100, 100, 1000],
  batchSize: 2048,
  model: {
    type: "ple",
    embeddingDim: 16,
    experts: [256, 128, 64],
    towers: [32, 16],
    dropout: 0.2,
    levels: 1,
    sharedExperts: 1,
    specificExperts: 1,
  },
  gradcraft: { tau: 0.1, eps: 1e-10 },
} as const;

export interface PresetOptions {
  /** KuaiRand data folder; default $GRADCRAFT_KUAIRAND_DIR or ../shared/data/kuairand-pure from `repoRoot`. */
  dataDir?: string;
  repoRoot?: string;
}

export function presetConfig(name: PresetName, options: PresetOptions = {}): TrainingConfigInput {
  switch (name) {
    case "quick":
      return {
        name: "quick",
        data: { source: "synthetic", rows: 60_000, users: 2_000, items: 3_000, authors: 200, signal: 2 },
        model: { type: "ple", embeddingDim: 8, experts: [64, 32], towers: [16], dropout: 0.1 },
        training: { batchSize: 512, epochs: 3, learningRate: 3e-3, l2: 1e-6, evalEvery: 40, patience: 4 },
        strategy: { name: "gradcraft", params: { ...WECHAT_LIKE.gradcraft } },
      };
    case "wechat-like": {
      const [users, items, authors, ...context] = WECHAT_LIKE.vocabularies;
      return {
        name: "wechat-like",
        data: {
          source: "synthetic",
          rows: 600_000,
          // The generator adds an out-of-vocabulary id 0 to each feature.
          users: users - 1,
          items: items - 1,
          authors: authors - 1,
          contextVocabularies: context.map((c) => c - 1),
        },
        model: {
          ...WECHAT_LIKE.model,
          experts: [...WECHAT_LIKE.model.experts],
          towers: [...WECHAT_LIKE.model.towers],
        },
        training: {
          batchSize: WECHAT_LIKE.batchSize,
          learningRate: 1e-3,
          l2: 1e-5,
          epochs: 10,
          evalEvery: 100,
          patience: 10,
        },
        strategy: { name: "gradcraft", params: { ...WECHAT_LIKE.gradcraft } },
      };
    }
    case "kuairand": {
      const dataDir =
        options.dataDir ??
        process.env.GRADCRAFT_KUAIRAND_DIR ??
        resolve(options.repoRoot ?? process.cwd(), "../shared/data/kuairand-pure");
      return {
        name: "kuairand",
        data: kuairandDataConfig(dataDir),
        model: { type: "ple", embeddingDim: 16, experts: [128, 64], towers: [32], dropout: 0.2 },
        training: { batchSize: 1024, learningRate: 1e-3, l2: 1e-6, epochs: 10, evalEvery: 50, patience: 5 },
        strategy: { name: "gradcraft", params: { ...WECHAT_LIKE.gradcraft } },
      };
    }
  }
}
