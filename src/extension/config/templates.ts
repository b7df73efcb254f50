/**
 * Starting points for New Training Config. Each is a small file: every field it leaves out takes
 * the trainer's default (or its preset's), and the editor's schema completes the rest.
 */
export interface ConfigTemplate {
  readonly id: string;
  readonly label: string;
  readonly detail: string;
  readonly fileName: string;
  readonly content: Record<string, unknown>;
}

export const TEMPLATES: readonly ConfigTemplate[] = [
  {
    id: "quick",
    label: "Quick run on synthetic data",
    detail: "The embedded feed-log generator and a small PLE model: trains in a minute or two on a laptop.",
    fileName: "quick.gradcraft.json",
    content: {
      name: "quick",
      preset: "quick",
      strategy: { name: "gradcraft", params: { tau: 0.1, eps: 1e-10 } },
    },
  },
  {
    id: "paper",
    label: "The GradCraft paper's setup (wechat-like)",
    detail:
      "6 tasks, PLE with one shared and one specific expert, experts [256,128,64], towers [32,16], Adam 1e-3.",
    fileName: "wechat-like.gradcraft.json",
    content: {
      name: "wechat-like",
      preset: "wechat-like",
      strategy: { name: "gradcraft", params: { tau: 0.1, eps: 1e-10 } },
    },
  },
  {
    id: "file",
    label: "Your own interaction log (CSV)",
    detail:
      "Point data.path at a CSV/TSV/JSONL log; list its categorical features, label columns and user column.",
    fileName: "my-data.gradcraft.json",
    content: {
      name: "my-data",
      data: {
        source: "file",
        path: "data/log.csv",
        features: ["user_id", "item_id"],
        labels: ["click", "like"],
        userColumn: "user_id",
        split: { by: "ratio", validation: 0.1, test: 0.1 },
      },
      model: { type: "ple", embeddingDim: 16, experts: [256, 128, 64], towers: [32, 16] },
      training: { batchSize: 2048, learningRate: 1e-3, l2: 1e-5, evalEvery: 200 },
      strategy: { name: "gradcraft", params: { tau: 0.1, eps: 1e-10 } },
    },
  },
  {
    id: "kuairand",
    label: "KuaiRand-Pure (real Kuaishou feed log)",
    detail: "The kuairand preset: 8 labels, user and video features joined (CC BY-SA 4.0 data, not shipped).",
    fileName: "kuairand.gradcraft.json",
    content: {
      name: "kuairand",
      preset: "kuairand",
      strategy: { name: "gradcraft", params: { tau: 0.1, eps: 1e-10 } },
    },
  },
];

export function renderTemplate(template: ConfigTemplate): string {
  return `${JSON.stringify(template.content, null, 2)}\n`;
}
