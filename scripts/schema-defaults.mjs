// Defaults and descriptions of the generated config schema (scripts/gen-schema.mjs).
//
// VS Code's JSON completion inserts a property's `default`. A config naming a preset runs with
// that preset's values, so a single default would silently change the run (completing
// `batchSize` in a quick config would insert 2048 over the preset's 512). So:
// - a section (an object: data, model, training, strategy, …) has no default: completion
//   inserts an empty object, which changes nothing;
// - a field whose value in effect depends on the preset has no default of its own; conditional
//   branches give each preset's value (and the plain default when no preset is named), so exactly
//   one default applies to any file;
// - every description ends with the field's unit and its default, the presets' where they differ.

/** Walks every property of `node` (through oneOf/anyOf/allOf/if-then and array items). */
function* properties(node, path = [], conditions = []) {
  if (!node || typeof node !== "object") return;
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const here = [...path, key];
    yield { key, node: child, parent: node, path: here, conditions };
    yield* properties(child, here, conditions);
  }
  for (const branch of [...(node.oneOf ?? []), ...(node.anyOf ?? [])])
    yield* properties(branch, path, discriminated(branch, path, conditions));
  for (const rule of node.allOf ?? []) {
    yield* properties(rule, path, conditions);
    // A rule's `then` holds when its `if` does: defaults set there must keep that condition.
    if (rule.then) yield* properties(rule.then, path, [...conditions, { at: path, if: rule.if }]);
  }
  if (node.items && typeof node.items === "object" && !Array.isArray(node.items))
    yield* properties(node.items, path, conditions);
}

/** A branch of a discriminated union (data.source, split.by) holds when its tag has its value. */
function discriminated(branch, path, conditions) {
  const tag = Object.entries(branch.properties ?? {}).find(
    ([key, node]) => "const" in node && branch.required?.includes(key),
  );
  if (!tag) return conditions;
  const [key, node] = tag;
  return [...conditions, { at: path, if: { properties: { [key]: { const: node.const } }, required: [key] } }];
}

function valueAt(config, path) {
  let value = config;
  for (const key of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = value[key];
  }
  return value;
}

function isSection(node) {
  return node.type === "object" || node.properties !== undefined || node.oneOf !== undefined;
}

/** A value for a hover: short, or named rather than spelt out. */
function show(value) {
  const text = typeof value === "number" ? String(value) : JSON.stringify(value);
  return text.length <= 60 ? text : "its own list";
}

/**
 * Rewrites `schema` in place. `presets` maps each preset's name to the config it resolves to;
 * `unknowable(value)` is true for a value that depends on the user's machine (a preset's data
 * folder): completion then inserts nothing for it rather than a guess.
 */
export function applyPresetDefaults(schema, presets, unknowable = () => false) {
  const branches = Object.fromEntries([["", {}], ...Object.keys(presets).map((name) => [name, {}])]);
  for (const { node, parent, path, conditions } of [...properties(schema)]) {
    if (isSection(node) && !Array.isArray(node.default)) delete node.default;
    const own = node.default;
    const differing =
      own === undefined
        ? []
        : Object.entries(presets)
            .map(([name, config]) => [name, valueAt(config, path) ?? own])
            .filter(([, value]) => JSON.stringify(value) !== JSON.stringify(own));
    if (differing.length > 0) {
      delete node.default;
      place(branches[""], path, conditions, own);
      for (const [name, config] of Object.entries(presets)) {
        const value = valueAt(config, path) ?? own;
        if (!unknowable(value)) place(branches[name], path, conditions, value);
      }
    }
    describe(node, parent, path, own, differing);
  }
  const rules = Object.entries(branches)
    .filter(([, then]) => Object.keys(then).length > 0)
    .map(([name, then]) => ({
      if:
        name === ""
          ? { not: { required: ["preset"] } }
          : { properties: { preset: { const: name } }, required: ["preset"] },
      then,
    }));
  if (rules.length > 0) schema.allOf = [...(schema.allOf ?? []), ...rules];
}

/** Sets `default: value` at `path` inside `root`, under the same if-conditions as the field. */
function place(root, path, conditions, value) {
  let node = root;
  let at = 0;
  const enter = (key) => {
    node.properties ??= {};
    node.properties[key] ??= {};
    node = node.properties[key];
  };
  for (const condition of conditions) {
    while (at < condition.at.length) enter(condition.at[at++]);
    node.allOf ??= [];
    const key = JSON.stringify(condition.if);
    let rule = node.allOf.find((r) => JSON.stringify(r.if) === key);
    if (!rule) {
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, not a thenable.
      rule = { if: structuredClone(condition.if), then: {} };
      node.allOf.push(rule);
    }
    node = rule.then;
  }
  while (at < path.length) enter(path[at++]);
  node.default = value;
}

function describe(node, parent, path, own, differing) {
  const parts = [node.description?.trim() ?? ""];
  if (node.unit) parts.push(`Unit: ${node.unit}.`);
  delete node.unit;
  if (own !== undefined && !isSection(node)) {
    const presets = differing.map(([name, value]) => `${name}: ${show(value)}`).join(", ");
    parts.push(`Default: ${show(own)}${presets ? ` (preset ${presets})` : ""}.`);
  } else if (parent.required?.includes(path[path.length - 1]) && !("const" in node)) parts.push("Required.");
  node.description = parts.filter(Boolean).join(" ");
}
