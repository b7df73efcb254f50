import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { ConfigError, resolveTrainConfig, runTrain } from "../../../src/cli/train";
import { checkConfig } from "../../../src/extension/config/checks";
import { TrainingConfig, type TrainingConfigInput } from "../../../src/protocol/config";
import {
  checkConfigFits,
  denseParameters,
  estimateMemory,
  PreflightError,
} from "../../../src/protocol/preflight";
import { generateSynthetic } from "../../../src/trainer/data";
import { MultiTaskModel } from "../../../src/trainer/model/model";
import { PRESETS, presetConfig } from "../../../src/trainer/presets";
import { useCpu } from "../trainer/helpers";

const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-preflight-"));
const GiB = 2 ** 30;

function configFile(body: unknown): string {
  const path = join(dir, `c${Math.random().toString(36).slice(2)}.gradcraft.json`);
  fs.writeFileSync(path, JSON.stringify(body));
  return path;
}

const FILE_DATA = {
  source: "file" as const,
  path: "log.csv",
  features: ["user", "item"],
  labels: ["click"],
  userColumn: "user",
};

describe("preflight: the memory a config needs, before anything is allocated", () => {
  before(useCpu);
  const absurd: Array<[string, TrainingConfigInput, string, RegExp]> = [
    [
      "a batch of 1e12 rows",
      { training: { batchSize: 1e12 } },
      "training.batchSize",
      /1000000000000: the run would need about [\d.]+ PiB/,
    ],
    [
      "1e10 users",
      { data: { source: "synthetic", users: 1e10 } },
      "data.users",
      /10000000000: the run would need about [\d.]+ TiB/,
    ],
    [
      "1e9-wide embeddings",
      { model: { embeddingDim: 1e9 } },
      "model.embeddingDim",
      /1000000000: the run would need about [\d.]+ [PT]iB/,
    ],
    [
      "1e9-wide embeddings of file data (vocabularies not read yet)",
      { data: FILE_DATA, model: { embeddingDim: 1e9 } },
      "model.embeddingDim",
      /1000000000: the run would need about/,
    ],
  ];
  for (const [what, body, field, estimate] of absurd)
    it(`${what} fails naming the field and the estimate, in the CLI and the editor`, async () => {
      const path = configFile(body);
      const expected = (message: string) =>
        message.startsWith(`${field} `) && estimate.test(message) && /of memory here$/.test(message);
      assert.throws(
        () => resolveTrainConfig(path, {}),
        (e: unknown) => e instanceof ConfigError && expected(e.message.split("\n  ")[1]),
      );
      const issues = await checkConfig(fs.readFileSync(path, "utf8"), path);
      assert.ok(
        issues.some((i) => i.path === field && i.severity === "error" && expected(i.message)),
        JSON.stringify(issues),
      );
    });

  it("a refused config exits 2 before the run folder exists, never with Invalid typed array length", async () => {
    const out = join(dir, "runs");
    const code = await runTrain(configFile({ training: { batchSize: 1e12 } }), { out });
    assert.equal(code, 2);
    assert.equal(fs.existsSync(out), false);
  });

  it("an array longer than a typed array can hold is refused even when memory would suffice", () => {
    const config = TrainingConfig.parse({ training: { batchSize: 5e8 } });
    assert.throws(
      () => checkConfigFits(config, Number.POSITIVE_INFINITY),
      (e: unknown) =>
        e instanceof PreflightError &&
        e.field === "training.batchSize" &&
        /one array of \d+ values, more than the \d+ a typed array can hold/.test(e.message),
    );
  });

  it("the model refuses tables that cannot fit once file data's vocabularies are known", () => {
    const model = TrainingConfig.parse({}).model;
    assert.throws(
      () =>
        new MultiTaskModel(
          model,
          { vocabularies: [2, 5e10], numericFeatures: 0, tasks: 2, featureNames: ["a", "user"] },
          1,
        ),
      (e: unknown) =>
        e instanceof PreflightError &&
        e.field === "data.features" &&
        /"user" alone has 50000000000 ids/.test(e.message),
    );
  });

  it("every preset fits this machine with room to spare", () => {
    for (const name of PRESETS) {
      const config = TrainingConfig.parse(presetConfig(name, { dataDir: dir }));
      const total = estimateMemory(config).reduce((sum, p) => sum + p.bytes, 0);
      assert.ok(total < 2 * GiB, `${name}: ${total}`);
      checkConfigFits(config, 4 * GiB);
    }
  });

  it("counts exactly the dense parameters the model builds, for each architecture", () => {
    for (const type of ["shared-bottom", "mmoe", "ple"] as const) {
      const model = TrainingConfig.parse({
        model: {
          type,
          embeddingDim: 4,
          experts: [12, 6],
          towers: [5],
          numExperts: 3,
          levels: 2,
          specificExperts: 2,
        },
      }).model;
      const dims = { vocabularies: [7, 5, 3], numericFeatures: 2, tasks: 3 };
      const built = new MultiTaskModel(model, dims, 1);
      const counted = denseParameters(model, dims);
      assert.equal(counted.shared, built.parameterCount.shared, type);
      assert.equal(counted.towers, built.parameterCount.towers, type);
      built.dispose();
    }
  });

  it("estimates generated data between what the generator keeps and three times it (its transients)", () => {
    const config = TrainingConfig.parse({
      data: { source: "synthetic", rows: 20_000, users: 500, items: 800 },
    });
    const d = generateSynthetic(config.data as never);
    const bytes = [d.train, d.validation, d.test].reduce(
      (sum, s) =>
        sum +
        s.categorical.byteLength +
        s.numeric.byteLength +
        s.labels.byteLength +
        (s.users?.byteLength ?? 0),
      0,
    );
    const estimated = estimateMemory(config).find((p) => p.what === "generated rows")?.bytes ?? 0;
    // While generating, the scores and the unsplit rows are held beside the splits.
    assert.ok(estimated >= bytes && estimated <= 3 * bytes, `${estimated} vs ${bytes}`);
  });
});
