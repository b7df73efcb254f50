import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  KUAIRAND_EXCLUDED,
  KUAIRAND_FILES,
  KUAIRAND_LABELS,
  kuairandDataConfig,
  loadDataset,
} from "../../../src/trainer/data";

// The data lives beside the repository (../shared/data; docs/data.md), never inside it.
const dataDir = join(import.meta.dirname, "../../../../shared/data/kuairand-pure");
const present = Object.values(KUAIRAND_FILES).every((f) => existsSync(join(dataDir, f)));
const absent = `KuaiRand-Pure not found in ${dataDir}`;
if (!present && process.env.CI === "true") throw new Error(`${absent}: required under CI=true`);

describe("kuairand preset data", { skip: present ? false : absent }, () => {
  it("loads both slices with the row counts, positive rates and users that SOURCE.txt states", async () => {
    const config = kuairandDataConfig(dataDir);
    const d = await loadDataset(config, { baseDir: dataDir });
    assert.equal(d.stats.rows.train + d.stats.rows.validation, 94_784);
    assert.equal(d.stats.rows.test, 133_545);
    assert.equal(d.stats.skippedRows, 0);
    assert.deepEqual(d.stats.joinMisses, [0, 0]);
    assert.deepEqual(d.taskNames, [...KUAIRAND_LABELS]);
    for (const column of KUAIRAND_EXCLUDED) {
      assert.ok(!d.featureNames.includes(column) && !d.numericNames.includes(column), `${column} leaks`);
    }
    // SOURCE.txt, TEST slice: is_click 0.44477, long_view 0.31330, is_like 0.01715
    const rates = d.stats.positiveRate.test;
    assert.ok(Math.abs(rates[0] - 0.44477) < 5e-6 && Math.abs(rates[1] - 0.3133) < 5e-6, String(rates));
    assert.ok(Math.abs(rates[2] - 0.01715) < 5e-6, String(rates));
    // 22,709 users in the test slice; 14,079 of them have both a click and a non-click (GAUC groups)
    const k = d.test.taskCount;
    const clicks = new Map<number, [number, number]>();
    const users = d.test.users ?? [];
    for (let r = 0; r < d.test.size; r++) {
      const seen = clicks.get(users[r]) ?? [0, 0];
      seen[d.test.labels[r * k]]++;
      clicks.set(users[r], seen);
    }
    assert.equal(clicks.size, 22_709);
    assert.equal([...clicks.values()].filter(([neg, pos]) => neg > 0 && pos > 0).length, 14_079);
  });
});
