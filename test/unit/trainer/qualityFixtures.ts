/** Shared by the bench-quality tests: a hand-made report's entries and runs. */
import type { QualityEntry, RunRecord } from "../../../src/trainer/quality";

/** Two tasks, two seeds: Single (one run per task) and EW. */
export function handMade(): { entries: QualityEntry[]; runs: RunRecord[] } {
  const entries: QualityEntry[] = [
    { label: "single", strategy: "single", params: {} },
    { label: "ew", strategy: "ew", params: {} },
  ];
  const record = (label: string, seed: number, auc: number[], task?: number): RunRecord => ({
    label,
    seed,
    ...(task !== undefined ? { task } : {}),
    strategy: label,
    params: {},
    reason: "completed",
    steps: 10,
    bestStep: 10,
    wallMs: 1,
    testAuc: auc,
    testGauc: auc.map((x) => x / 2),
    bestValidationAuc: null,
  });
  const runs = [
    // Single: task t's figures come from the run trained for task t only.
    record("single", 1, [0.8, 0.1], 0),
    record("single", 1, [0.2, 0.5], 1),
    record("single", 2, [0.7, 0.3], 0),
    record("single", 2, [0.4, 0.6], 1),
    record("ew", 1, [0.88, 0.55]),
    record("ew", 2, [0.735, 0.63]),
  ];
  return { entries, runs };
}
