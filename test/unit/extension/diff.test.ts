import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  applyReport,
  commandsFor,
  describeChanges,
  diffConfigs,
  isLiveNoop,
} from "../../../src/extension/config/diff";
import { TrainingConfig } from "../../../src/protocol/config";

const parse = (input: unknown) => TrainingConfig.parse(input);

describe("config diff for a running run", () => {
  it("an unchanged file applies nothing and needs no restart", () => {
    const a = parse({ strategy: { name: "gradcraft", params: { tau: 0.1 } } });
    const diff = diffConfigs(a, parse({ strategy: { name: "gradcraft", params: { tau: 0.1 } } }));
    assert.ok(isLiveNoop(diff));
    assert.deepEqual(diff.needsRestart, []);
  });

  it("learning rate, L2, clipping and evaluation interval go to set-hyperparameters", () => {
    const before = parse({ training: { learningRate: 1e-3, l2: 1e-5 } });
    const after = parse({ training: { learningRate: 5e-4, l2: 1e-6, clipNorm: 2, evalEvery: 50 } });
    const diff = diffConfigs(before, after);
    assert.deepEqual(diff.hyperparameters, { learningRate: 5e-4, l2: 1e-6, clipNorm: 2, evalEvery: 50 });
    assert.equal(diff.strategy, undefined);
    assert.deepEqual(diff.needsRestart, []);
  });

  it("a new strategy starts fresh; new parameters of the same strategy carry its state", () => {
    const base = parse({ strategy: { name: "gradcraft", params: { tau: 1 } } });
    const switched = diffConfigs(base, parse({ strategy: { name: "pcgrad" } }));
    assert.deepEqual(switched.strategy, { name: "pcgrad", params: {}, carryState: false });
    const retuned = diffConfigs(base, parse({ strategy: { name: "gradcraft", params: { tau: 0.2 } } }));
    assert.deepEqual(retuned.strategy, { name: "gradcraft", params: { tau: 0.2 }, carryState: true });
  });

  it("model, batch size and data changes are listed as needing a restart, each with old and new value", () => {
    const before = parse({ model: { experts: [64, 32] }, training: { batchSize: 512, learningRate: 1e-3 } });
    const after = parse({
      model: { experts: [128, 64], type: "mmoe" },
      training: { batchSize: 1024, learningRate: 2e-3 },
      data: { source: "synthetic", rows: 5000 },
    });
    const diff = diffConfigs(before, after);
    assert.deepEqual(
      diff.needsRestart.map((c) => c.path),
      ["data.rows", "model.experts", "model.type", "training.batchSize"],
    );
    assert.deepEqual(diff.hyperparameters, { learningRate: 2e-3 });
    const text = describeChanges(diff.needsRestart);
    assert.match(text, /model\.experts: \[64,32\] → \[128,64\]/);
    assert.match(text, /training\.batchSize: 512 → 1024/);
  });

  it("switching the data source is one change, not one per field", () => {
    const before = parse({});
    const after = parse({
      data: { source: "file", path: "log.csv", features: ["u"], labels: ["click"], userColumn: "u" },
    });
    const diff = diffConfigs(before, after);
    assert.deepEqual(
      diff.needsRestart.map((c) => c.path),
      ["data"],
    );
  });

  it("the run name and schema reference are ignored, not restarts", () => {
    const diff = diffConfigs(parse({ name: "a" }), parse({ name: "b", $schema: "x.json" }));
    assert.deepEqual(
      diff.ignored.map((c) => c.path),
      ["$schema", "name"],
    );
    assert.deepEqual(diff.needsRestart, []);
    assert.ok(isLiveNoop(diff));
  });
});

describe("applying a diff to a live run", () => {
  it("a strategy switch goes before the hyperparameters, each as one command", () => {
    const diff = diffConfigs(
      parse({ training: { learningRate: 1e-3 } }),
      parse({ strategy: { name: "pcgrad" }, training: { learningRate: 2e-3, clipNorm: 1 } }),
    );
    assert.deepEqual(commandsFor(diff), [
      { type: "set-strategy", name: "pcgrad", params: {}, carryState: false },
      { type: "set-hyperparameters", learningRate: 2e-3, clipNorm: 1 },
    ]);
  });

  it("the report says what took effect at which step, what was refused, and what needs a restart", () => {
    const diff = diffConfigs(
      parse({ training: { learningRate: 1e-3, batchSize: 256 } }),
      parse({ strategy: { name: "nope" }, training: { learningRate: 2e-3, batchSize: 512 } }),
    );
    const [setStrategy, setHyper] = commandsFor(diff);
    const report = applyReport(diff, [
      { command: setStrategy, ok: false, error: 'unknown strategy "nope"' },
      { command: setHyper, ok: true, step: 41 },
    ]);
    assert.equal(report.level, "error");
    assert.match(report.text, /refused strategy nope: unknown strategy "nope"/);
    assert.match(report.text, /applied learningRate=0\.002 at step 41/);
    assert.match(report.text, /needs a restart to take effect: training\.batchSize: 256 → 512/);
  });

  it("restart-only edits are a warning, not a silent no-op", () => {
    const diff = diffConfigs(parse({ model: { dropout: 0.2 } }), parse({ model: { dropout: 0.1 } }));
    assert.deepEqual(commandsFor(diff), []);
    const report = applyReport(diff, []);
    assert.equal(report.level, "warning");
    assert.match(report.text, /model\.dropout: 0\.2 → 0\.1/);
  });
});
