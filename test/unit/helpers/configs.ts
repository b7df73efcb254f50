/**
 * The smallest run a real `gradcraft train` (in process or spawned) gets through in seconds on
 * the cpu backend: synthetic data and a two-expert MMoE. Tests add their own name, training
 * budget and strategy.
 */
export const TINY_SYNTHETIC_MMOE = {
  backend: "cpu",
  data: {
    source: "synthetic",
    rows: 1200,
    users: 30,
    items: 50,
    authors: 6,
    contextVocabularies: [3],
    seed: 5,
  },
  model: { type: "mmoe", embeddingDim: 4, experts: [8], towers: [4], numExperts: 2 },
};
