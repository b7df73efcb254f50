import assert from "node:assert/strict";
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
