import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { checkConfig, readFirstLine } from "../../../src/extension/config/checks";
import { locateJson, nearestSpan } from "../../../src/extension/config/jsonLocate";

const kuairand = join(__dirname, "../../../../shared/data/kuairand-pure");

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "gradcraft-checks-"));
  writeFileSync(join(dir, "log.csv"), "user_id,video_id,is_click,long_view\n1,2,0,1\n");
  writeFileSync(join(dir, "users.tsv.gz"), gzipSync("user_id\tage\tgender\n1\t3\t1\n"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const fileConfig = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    data: {
      source: "file",
      path: "log.csv",
      features: ["video_id"],
      labels: ["is_click"],
      userColumn: "user_id",
      ...data,
    },
    strategy: { name: "ew" },
    ...extra,
  });

describe("config checks the schema cannot express", () => {
  it("a config whose files and columns exist has no issues", async () => {
    const issues = await checkConfig(fileConfig({}), join(dir, "a.gradcraft.json"));
    assert.deepEqual(issues, []);
  });

  it("a data file that does not exist is an error on data.path, resolved from the config's folder", async () => {
    const issues = await checkConfig(fileConfig({ path: "missing.csv" }), join(dir, "a.gradcraft.json"));
    assert.equal(issues.length, 1);
    assert.equal(issues[0].path, "data.path");
    assert.equal(issues[0].severity, "error");
    assert.ok(issues[0].message.includes(join(dir, "missing.csv")));
  });

  it("a label column missing from the header is an error on that label, listing the columns", async () => {
    const issues = await checkConfig(
      fileConfig({ labels: ["is_click", "is_like"] }),
      join(dir, "a.gradcraft.json"),
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      ["data.labels.1"],
    );
    assert.match(
      issues[0].message,
      /"is_like" is not in the header .*columns: user_id, video_id, is_click, long_view/,
    );
  });

  it("join tables are read through gzip and their columns checked", async () => {
    const join0 = { path: "users.tsv.gz", key: "user_id", features: ["age", "income"] };
    const issues = await checkConfig(
      fileConfig({ joins: [join0], features: ["video_id"] }),
      join(dir, "x.gradcraft.json"),
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      ["data.joins.0.features.1"],
    );
  });

  it("the real KuaiRand log header has the KuaiRand labels (first line only, gzip)", async () => {
    const path = join(kuairand, "kuairand_pure_standard_val_20220425_0430.csv.gz");
    const line = await readFirstLine(path);
    assert.ok(line, `cannot read ${path}: the shared data set is required`);
    const issues = await checkConfig(
      fileConfig({
        path,
        labels: ["is_click", "long_view", "is_like", "is_cool"],
        features: ["video_id", "tab"],
      }),
      join(dir, "k.gradcraft.json"),
    );
    assert.deepEqual(
      issues.map((i) => i.path),
      ["data.labels.3"],
    );
  });

  it("a label used as a feature is an error; once fixed, a leaky column is a warning", async () => {
    writeFileSync(join(dir, "wide.csv"), "user_id,video_id,is_click,play_time_ms\n");
    const check = async (features: string[]) =>
      Object.fromEntries(
        (await checkConfig(fileConfig({ path: "wide.csv", features }), join(dir, "w.gradcraft.json"))).map(
          (i) => [i.path, i.severity],
        ),
      );
    // The config's own rules come first: the rest is checked on a config that parses.
    assert.deepEqual(await check(["video_id", "is_click", "play_time_ms"]), { "data.labels.0": "error" });
    assert.deepEqual(await check(["video_id", "play_time_ms"]), { "data.features.1": "warning" });
  });

  it("cross-field rules of the config (which no JSON Schema carries) are reported at their path", async () => {
    const issues = await checkConfig(fileConfig({ taskNames: ["a", "b"] }), join(dir, "t.gradcraft.json"));
    assert.deepEqual(
      issues.map((i) => [i.path, i.severity]),
      [["data.taskNames", "error"]],
    );
  });

  it("model sizes that do not fit together are warned about, and fields the architecture ignores noted", async () => {
    const text = JSON.stringify({
      model: { type: "mmoe", experts: [64, 128], towers: [256], levels: 2 },
      strategy: { name: "ew" },
    });
    const issues = await checkConfig(text, join(dir, "m.gradcraft.json"));
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.severity]));
    assert.deepEqual(byPath, {
      "model.levels": "info",
      "model.towers.0": "warning",
      "model.experts.1": "warning",
    });
  });

  it("an unknown strategy is an error naming the known ones", async () => {
    const issues = await checkConfig(
      JSON.stringify({ strategy: { name: "nope" } }),
      join(dir, "s.gradcraft.json"),
    );
    assert.equal(issues[0].path, "strategy.name");
    assert.match(issues[0].message, /unknown strategy "nope"; known: .*ew/);
  });

  it("a synthetic batch bigger than the training split is an error", async () => {
    const text = JSON.stringify({
      data: { source: "synthetic", rows: 1000 },
      training: { batchSize: 4096 },
      strategy: { name: "ew" },
    });
    const issues = await checkConfig(text, join(dir, "b.gradcraft.json"));
    assert.deepEqual(
      issues.map((i) => [i.path, i.severity]),
      [["training.batchSize", "error"]],
    );
  });

  it("a config with its own trainer: a missing script is an error at its argument; model and data are noted as unused", async () => {
    writeFileSync(join(dir, "train.py"), "");
    const ok = await checkConfig(
      JSON.stringify({ trainer: { command: ["python3", "train.py"] }, strategy: { name: "ew" } }),
      join(dir, "p.gradcraft.json"),
    );
    assert.deepEqual(ok, []);
    const text = JSON.stringify({
      trainer: { command: ["python3", "-u", "nowhere.py"] },
      model: { type: "mmoe" },
      data: { source: "synthetic", rows: 10 },
      training: { batchSize: 4096 },
      strategy: { name: "ew" },
    });
    const issues = await checkConfig(text, join(dir, "p.gradcraft.json"));
    assert.deepEqual(
      issues.map((i) => [i.path, i.severity]),
      [
        ["trainer.command.2", "error"],
        ["model", "info"],
        ["data", "info"],
      ],
      "the built-in trainer's data checks (batch size against synthetic rows) do not apply",
    );
    assert.ok(issues[0].message.includes(join(dir, "nowhere.py")));
  });

  it("text the schema rejects, or that is not JSON, gives no semantic issues (the editor reports it)", async () => {
    assert.deepEqual(await checkConfig("{ not json", join(dir, "z.gradcraft.json")), []);
    assert.deepEqual(
      await checkConfig(JSON.stringify({ training: { batchSize: -1 } }), join(dir, "z.gradcraft.json")),
      [],
    );
  });
});

describe("locating JSON values in the text", () => {
  it("finds nested values and array items, with comments in between", () => {
    const text = '{\n  // data\n  "data": { "labels": ["a", "bb"] },\n  "n": 1.5e3\n}';
    const spans = locateJson(text);
    const at = (path: string) => {
      const span = spans.get(path)!;
      return text.slice(span.start, span.end);
    };
    assert.equal(at("data.labels.1"), '"bb"');
    assert.equal(at("n"), "1.5e3");
    assert.equal(at("data"), '{ "labels": ["a", "bb"] }');
  });

  it("falls back to the nearest located ancestor for a path that is not written (a default)", () => {
    const text = '{"model": {"type": "ple"}}';
    const spans = locateJson(text);
    const span = nearestSpan(spans, "model.towers.0");
    assert.equal(text.slice(span.start, span.end), '{"type": "ple"}');
  });

  it("keeps what it located before a syntax error", () => {
    const spans = locateJson('{"a": 1, "b": [1, 2');
    assert.ok(spans.has("a"));
    assert.ok(!spans.has(""));
  });
});
