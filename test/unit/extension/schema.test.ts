import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { strategies } from "../../../src/core/strategies/index";
import { TrainingConfig } from "../../../src/protocol/config";

// biome-ignore lint/suspicious/noExplicitAny: a JSON Schema document is walked by key.
type Schema = Record<string, any>;

describe("generated JSON Schema of *.gradcraft.json", async () => {
  const { generateSchema } = await import(
    pathToFileURL(join(__dirname, "../../../scripts/gen-schema.mjs")).href
  );
  const schema: Schema = await generateSchema();

  it("has a property for every top-level config field, with the config's defaults and descriptions", () => {
    const fields = Object.keys(TrainingConfig.shape);
    assert.deepEqual(Object.keys(schema.properties).sort(), fields.sort());
    assert.equal(schema.properties.training.properties.learningRate.default, 1e-3);
    assert.match(schema.properties.training.properties.evalEvery.description, /Evaluate on validation/);
  });

  it("refuses unknown fields at every level and accepts what the trainer accepts (JSONC)", () => {
    assert.equal(schema.additionalProperties, false, "a misspelt top-level field is flagged");
    for (const block of ["model", "training", "strategy"])
      assert.equal(schema.properties[block].additionalProperties, false, block);
    for (const source of schema.properties.data.oneOf) assert.equal(source.additionalProperties, false);
    // The trainer reads configs as JSONC (comments, trailing commas): so does the editor.
    assert.equal(schema.allowTrailingCommas, true);
    const pkg = JSON.parse(fs.readFileSync(join(__dirname, "../../../package.json"), "utf8"));
    assert.deepEqual(pkg.contributes.languages, [{ id: "jsonc", filenamePatterns: ["*.gradcraft.json"] }]);
  });

  it("offers every shipped strategy by name, each with its own parameter schema", () => {
    const strategy = schema.properties.strategy;
    assert.deepEqual(
      strategy.properties.name.enum,
      strategies.map((s) => s.name),
    );
    assert.equal(strategy.allOf.length, strategies.length);
    const gradcraft = strategy.allOf.find((rule: Schema) => JSON.stringify(rule.if).includes('"gradcraft"'));
    const params = gradcraft.then.properties.params;
    assert.equal(params.properties.tau.maximum, 1);
    assert.equal(params.properties.tau.minimum, 0);
    assert.equal(params.additionalProperties, false, "a misspelt parameter is flagged");
  });

  it("the config's default strategy applies its parameter schema when the name is left out", () => {
    const fallback = TrainingConfig.parse({}).strategy.name;
    const rule = schema.properties.strategy.allOf.find((r: Schema) =>
      JSON.stringify(r.if).includes(`"${fallback}"`),
    );
    assert.ok(JSON.stringify(rule.if).includes('"not":{"required":["name"]}'));
  });
});
