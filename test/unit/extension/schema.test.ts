import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { strategies } from "../../../src/core/strategies/index";
import { TrainingConfig } from "../../../src/protocol/config";
import { PRESETS, presetConfig } from "../../../src/trainer/presets";

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
    assert.equal(schema.properties.training.properties.clipNorm.default, 0);
    assert.match(schema.properties.training.properties.evalEvery.description, /Evaluate on validation/);
  });

  it("describes every field, with the unit of every numeric one and the default of every one that has it", () => {
    const problems: string[] = [];
    for (const { path, node, required } of fields(schema)) {
      const text: string = node.description ?? "";
      const numeric = [node.type, node.items?.type].some((t) => t === "number" || t === "integer");
      if (!text.trim()) problems.push(`${path}: no description`);
      else if (numeric && !/Unit: [^.]+\./.test(text)) problems.push(`${path}: no unit in "${text}"`);
      else if (!required && !("const" in node) && !/Default: /.test(text) && !isSection(node))
        problems.push(`${path}: no default in "${text}"`);
    }
    assert.deepEqual(problems, []);
    // The fields the first user hovered in vain.
    for (const name of ["learningRate", "batchSize", "l2"])
      assert.match(schema.properties.training.properties[name].description, /Unit: .*Default: /);
    assert.match(schema.properties.model.description, /network/);
  });

  it("gives a field without a description away: the walk sees every level (the test above can fail)", () => {
    const copy: Schema = structuredClone(schema);
    delete copy.properties.data.oneOf[0].properties.signal.description;
    const paths = [...fields(copy)].filter((f) => !f.node.description).map((f) => f.path);
    assert.deepEqual(paths, ["data.signal"]);
  });

  it("completes a section as an empty object, never as the schema's defaults", () => {
    // VS Code inserts a property's `default` on completion: a section's would override the preset.
    for (const { path, node } of fields(schema))
      if (isSection(node)) assert.equal(node.default, undefined, `${path} has a default`);
  });

  it("offers, in a file naming a preset, the preset's value of every field it sets (one default each)", () => {
    const cases: [string | undefined, unknown][] = [
      [undefined, TrainingConfig.parse({})],
      ...PRESETS.map((name): [string, unknown] => [
        name,
        TrainingConfig.parse(presetConfig(name, { dataDir: "/data" })),
      ]),
    ];
    for (const [preset, resolved] of cases) {
      const file = preset === undefined ? {} : { preset };
      for (const path of [
        "training.batchSize",
        "training.epochs",
        "training.learningRate",
        "training.evalEvery",
        "training.patience",
        "model.experts",
        "name",
      ]) {
        const offered = defaultsAt(schema, file, path.split("."));
        assert.deepEqual(offered, [valueAt(resolved, path)], `${preset ?? "no preset"}: ${path}`);
      }
      // Fields inside a branch: synthetic data, GradCraft's parameters.
      const synthetic = { ...file, data: { source: "synthetic" } };
      const rows = (resolved as { data: { rows?: number } }).data.rows ?? 120_000;
      assert.deepEqual(defaultsAt(schema, synthetic, ["data", "rows"]), [rows], `${preset}: data.rows`);
      const tau = (resolved as { strategy: { params: { tau?: number } } }).strategy.params.tau ?? 1;
      assert.deepEqual(defaultsAt(schema, file, ["strategy", "params", "tau"]), [tau], `${preset}: tau`);
    }
    // The defect as found: a Quick config's training values are the preset's, not 2048 / 1e-3.
    assert.deepEqual(defaultsAt(schema, { preset: "quick" }, ["training", "batchSize"]), [512]);
    assert.deepEqual(defaultsAt(schema, { preset: "quick" }, ["training", "learningRate"]), [3e-3]);
    // A preset's data folder is the user's: nothing is guessed for the kuairand joins.
    const file = { preset: "kuairand", data: { source: "file" } };
    assert.deepEqual(defaultsAt(schema, file, ["data", "joins"]), []);
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

function isSection(node: Schema): boolean {
  return node.type === "object" || node.properties !== undefined || node.oneOf !== undefined;
}

/** Every property of the schema, through unions, rules and array items, with its dotted path. */
function* fields(node: Schema, path = ""): Generator<{ path: string; node: Schema; required: boolean }> {
  for (const [key, child] of Object.entries<Schema>(node.properties ?? {})) {
    const here = path ? `${path}.${key}` : key;
    yield { path: here, node: child, required: (node.required ?? []).includes(key) };
    yield* fields(child, here);
  }
  for (const branch of [...(node.oneOf ?? []), ...(node.anyOf ?? []), ...(node.allOf ?? [])])
    yield* fields(branch, path);
  // The per-preset rules only overlay defaults on the fields above: not fields of their own.
  for (const rule of node.allOf ?? [])
    if (rule.then && !JSON.stringify(rule.if).includes('"preset"')) yield* fields(rule.then, path);
  if (node.items && !Array.isArray(node.items)) yield* fields(node.items, path);
}

function valueAt(value: unknown, path: string): unknown {
  return path
    .split(".")
    .reduce<unknown>((v, key) => (v as Record<string, unknown> | undefined)?.[key], value);
}

/**
 * The defaults VS Code's JSON completion can find for the property at `path` of `doc`: those of
 * every schema that applies there, following if/then where the `if` holds (the keywords this
 * schema uses in its conditions: properties/const, required, not, anyOf).
 */
function defaultsAt(node: Schema, doc: unknown, path: string[]): unknown[] {
  const found: unknown[] = [];
  const visit = (schema: Schema, value: unknown, rest: string[]) => {
    for (const rule of schema.allOf ?? []) {
      if (rule.if === undefined) visit(rule, value, rest);
      else if (holds(rule.if, value) && rule.then) visit(rule.then, value, rest);
    }
    for (const branch of schema.oneOf ?? []) if (holds(branch, value)) visit(branch, value, rest);
    if (rest.length === 0) {
      if (schema.default !== undefined) found.push(schema.default);
      return;
    }
    const child = schema.properties?.[rest[0]];
    if (child) visit(child, (value as Record<string, unknown> | undefined)?.[rest[0]], rest.slice(1));
  };
  visit(node, doc, path);
  return found;
}

function holds(condition: Schema, value: unknown): boolean {
  const object = (value ?? {}) as Record<string, unknown>;
  if (condition.not) return !holds(condition.not, value);
  if (condition.anyOf) return condition.anyOf.some((c: Schema) => holds(c, value));
  if ((condition.required ?? []).some((key: string) => !(key in object))) return false;
  return Object.entries<Schema>(condition.properties ?? {}).every(
    ([key, sub]) => !("const" in sub) || !(key in object) || object[key] === sub.const,
  );
}
