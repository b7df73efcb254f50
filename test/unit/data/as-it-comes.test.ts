import assert from "node:assert/strict";
import fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileDataConfig } from "../../../src/protocol/config";
import { configProblems } from "../../../src/protocol/configIssues";
import { type Dataset, loadDataset, type Split } from "../../../src/trainer/data";

const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-as-it-comes-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  fs.writeFileSync(join(dir, name), text);
  return name;
}

const ALL_TRAIN = { split: { by: "ratio", validation: 0, test: 0 } };
const load = (c: Record<string, unknown>) =>
  loadDataset(FileDataConfig.parse({ source: "file", ...ALL_TRAIN, ...c }), { baseDir: dir });

/** The ids of feature `j` (its first slot) down a split. */
function ids(d: Dataset, split: Split, j: number): number[] {
  const offset = d.featureSlots.slice(0, j).reduce((a, b) => a + b, 0);
  return Array.from({ length: split.size }, (_, r) => split.categorical[r * split.featureCount + offset]);
}

/** Each id stands for exactly one raw value and back: the encoding is a bijection on these rows. */
function assertSameGrouping(got: number[], raw: string[]): void {
  assert.equal(got.length, raw.length);
  const forward = new Map<number, string>();
  const backward = new Map<string, number>();
  got.forEach((id, i) => {
    assert.equal(forward.get(id) ?? raw[i], raw[i], `id ${id} stands for two values`);
    assert.equal(backward.get(raw[i]) ?? id, id, `value ${raw[i]} got two ids`);
    forward.set(id, raw[i]);
    backward.set(raw[i], id);
  });
}

// A UCI-style file: no header, ", " between values, "?" for missing, labels as text.
const UCI = [
  "39, State-gov, 77516, Bachelors, <=50K",
  "50, Self-emp-not-inc, ?, Bachelors, >50K.",
  "38, ?, 215646, HS-grad, <=50K.",
  "53, Private, 234721, 11th, >50K",
  "28, Private, 338409, ?, <=50K",
];
const UCI_COLUMNS = ["age", "workclass", "fnlwgt", "education", "income"];

describe("file loader: files without a header", () => {
  it("reads rows by the configured column names from the first line, with a multi-character separator", async () => {
    const path = write("adult.data", `${UCI.join("\n")}\n`);
    const d = await load({
      path,
      format: "csv",
      columns: UCI_COLUMNS,
      separator: ", ",
      missingValues: ["?"],
      features: ["workclass", "education"],
      numericFeatures: ["fnlwgt"],
      labels: [{ column: "income", positive: [">50K", ">50K."] }],
    });
    assert.equal(d.train.size, 5, "the first line is a row, not a header");
    assert.deepEqual(Array.from(d.train.labels), [0, 1, 0, 1, 0]);
    assert.deepEqual(d.taskNames, ["income"]);
  });

  it("a missing value goes to the OOV bucket (categorical) or the training mean (numeric), and is counted", async () => {
    const path = write("adult2.data", `${UCI.join("\n")}\n`);
    const d = await load({
      path,
      columns: UCI_COLUMNS,
      separator: ",",
      trim: true,
      missingValues: ["?"],
      features: ["workclass", "education"],
      numericFeatures: ["fnlwgt"],
      labels: [{ column: "income", positive: [">50K", ">50K."] }],
    });
    assert.deepEqual(ids(d, d.train, 0), [1, 2, 0, 3, 3]);
    assert.deepEqual(ids(d, d.train, 1), [1, 1, 2, 3, 0]);
    // The mean of the four known values stands in for the missing one: 0 once standardised.
    assert.equal(d.train.numeric[1], 0);
    const known = [77516, 215646, 234721, 338409];
    const mean = known.reduce((a, b) => a + b, 0) / 4;
    assert.ok(Math.sign(d.train.numeric[0]) === Math.sign(77516 - mean));
    assert.deepEqual(d.stats.missingValues, { workclass: 1, education: 1, fnlwgt: 1 });
  });

  it("with trim off, the spaces after the separator are part of the value", async () => {
    const path = write("spaced.data", "a, x, 1\nb, y, 0\n");
    const d = await load({
      path,
      columns: ["u", "v", "y"],
      features: ["v"],
      labels: [{ column: "y", positive: ["1"] }],
    });
    assert.deepEqual(d.featureNames, ["v"]);
    // " x" and " y" are still two values; a rule compares trimmed values, so " 1" is positive.
    assert.deepEqual(Array.from(d.train.labels), [1, 0]);
  });

  it("skips a preamble and comment lines, and reads another quote character (Weka's ARFF data section)", async () => {
    const arff = [
      "% a comment",
      "@relation credit",
      "@attribute purpose {'new car', radio/tv}",
      "@attribute amount numeric",
      "@attribute class {good, bad}",
      "@data",
      "'new car',1169,good",
      "% a comment inside the data",
      "radio/tv,5951,bad",
      "'new car',2096,good",
    ];
    const path = write("credit.arff", `${arff.join("\n")}\n`);
    const d = await load({
      path,
      format: "csv",
      columns: ["purpose", "amount", "class"],
      skipLines: 6,
      comment: "%",
      quote: "'",
      features: ["purpose"],
      numericFeatures: ["amount"],
      labels: [{ column: "class", positive: ["bad"], negative: ["good"] }],
    });
    assert.equal(d.train.size, 3);
    assert.deepEqual(ids(d, d.train, 0), [1, 2, 1], "'new car' unquoted is one value");
    assert.deepEqual(Array.from(d.train.labels), [0, 1, 0]);
  });

  it("a row with another number of columns than the names given is a bad row at its line", async () => {
    const path = write("short.data", "a,1\nb\n");
    await assert.rejects(load({ path, columns: ["u", "y"], features: ["u"], labels: ["y"] }), (e: Error) => {
      assert.equal(e.message, `${join(dir, path)}:2: expected 2 columns as data.columns names, found 1`);
      return true;
    });
  });

  it("reads a list of files with the same columns in order, as one log", async () => {
    const a = write("part1.csv", "u,y\na,1\nb,0\n");
    const b = write("part2.csv", "u,y\nc,1\n");
    const d = await load({ path: [a, b], features: ["u"], labels: ["y"] });
    assert.deepEqual(ids(d, d.train, 0), [1, 2, 3]);
    assert.deepEqual(Array.from(d.train.labels), [1, 0, 1]);
  });
});

describe("file loader: label rules", () => {
  const log = write(
    "plays.csv",
    "user,play_time_ms,income\nu1,0,- 50000.\nu2,1200, 50000+.\nu3,35,- 50000.\n",
  );

  it("a numeric comparison and a set of positive values each make a task", async () => {
    const d = await load({
      path: log,
      features: ["user"],
      labels: [
        { column: "play_time_ms", op: ">", value: 0, name: "played" },
        { column: "play_time_ms", op: ">=", value: 1000, name: "long" },
        { column: "income", positive: ["50000+."] },
      ],
    });
    assert.deepEqual(d.taskNames, ["played", "long", "income"]);
    assert.deepEqual(Array.from(d.train.labels), [0, 0, 0, 1, 1, 1, 1, 0, 0]);
  });

  it("a value a rule cannot read is a bad row naming file, line and column", async () => {
    const path = write("bad-play.csv", "user,play_time_ms\nu1,0\nu2,fast\n");
    await assert.rejects(
      load({ path, features: ["user"], labels: [{ column: "play_time_ms", op: ">", value: 0 }] }),
      { message: `${join(dir, path)}:3: column "play_time_ms": not a number: "fast"` },
    );
    const strict = write("bad-income.csv", "user,income\nu1,- 50000.\nu2,unknown\n");
    await assert.rejects(
      load({
        path: strict,
        features: ["user"],
        labels: [{ column: "income", positive: ["50000+."], negative: ["- 50000."] }],
      }),
      {
        message: `${join(dir, strict)}:3: column "income": "unknown" is neither positive (50000+.) nor negative (- 50000.)`,
      },
    );
  });

  it("a missing label is a bad row even where missing features are allowed", async () => {
    const path = write("missing-label.csv", "user,y\nu1,1\nu2,?\n");
    await assert.rejects(load({ path, missingValues: ["?"], features: ["user"], labels: ["y"] }), {
      message: `${join(dir, path)}:3: column "y": missing value`,
    });
  });
});

describe("file loader: derived features", () => {
  it("hour from hourmin, age bands, the first item and a multi-hot list, applied while streaming", async () => {
    const path = write(
      "feed.csv",
      ["hourmin,age,tag,y", '0,17,"11,28",1', "130,30,28,0", '2359,64,"5,11,28",1', "1305,65,,0"].join("\n"),
    );
    const d = await load({
      path,
      derived: [
        { name: "hour", from: "hourmin", kind: "divide", by: 100 },
        { name: "age_band", from: "age", kind: "bucket", edges: [18, 30, 65] },
        { name: "first_tag", from: "tag", kind: "first-item" },
        { name: "tags", from: "tag", kind: "multi-hot", maxItems: 2 },
      ],
      missingValues: [""],
      features: ["hour", "age_band", "first_tag", "tags"],
      labels: ["y"],
    });
    assertSameGrouping(ids(d, d.train, 0), ["0", "1", "23", "13"]);
    // Buckets: <18 | [18, 30) | [30, 65) | >= 65
    assertSameGrouping(ids(d, d.train, 1), ["0", "2", "2", "3"]);
    assertSameGrouping(ids(d, d.train, 2), ["11", "28", "5", "missing"]);
    assert.deepEqual(d.featureSlots, [1, 1, 1, 2]);
    assert.equal(d.train.featureCount, 5);
    // tags: the first two items, -1 where a list is shorter, OOV (0) for an empty one.
    const tags = Array.from({ length: 4 }, (_, r) =>
      Array.from(d.train.categorical.subarray(r * 5 + 3, r * 5 + 5)),
    );
    const tagId = (t: string) => tags[0][["11", "28"].indexOf(t)];
    assert.deepEqual(tags, [
      [tagId("11"), tagId("28")],
      [tagId("28"), -1],
      [tags[2][0], tagId("11")],
      [0, -1],
    ]);
    assert.equal(d.stats.missingValues.first_tag, 1);
  });

  it("derives from a side table's column when the join lists the derived feature", async () => {
    const log = write("views.csv", "video,y\nv1,1\nv2,0\nv3,1\n");
    const videos = write("videos.csv", 'video,tag\nv1,"11,28"\nv2,28\nv3,"11"\n');
    const d = await load({
      path: log,
      derived: [{ name: "first_tag", from: "tag", kind: "first-item" }],
      features: ["video"],
      joins: [{ path: videos, key: "video", features: ["first_tag"] }],
      labels: ["y"],
    });
    assertSameGrouping(ids(d, d.train, 1), ["11", "28", "11"]);
  });

  it("a value a derived feature cannot read is a bad row naming its source column", async () => {
    const path = write("bad-hour.csv", "hourmin,y\n100,1\nnoon,0\n");
    await assert.rejects(
      load({
        path,
        derived: [{ name: "hour", from: "hourmin", kind: "divide", by: 100 }],
        features: ["hour"],
        labels: ["y"],
      }),
      { message: `${join(dir, path)}:3: column "hourmin": not a number: "noon"` },
    );
  });
});

describe("file data config: every rule is checked before a file is opened", () => {
  // The path does not exist: an error about it would mean the file was opened.
  const base = { source: "file", path: "no-such-file.csv", features: ["u"], labels: ["y"] };
  const cases: Array<[string, Record<string, unknown>, string, RegExp]> = [
    [
      "a rule with no condition",
      { labels: [{ column: "y" }] },
      "labels.0",
      /give positive .* or op and value/,
    ],
    [
      "a comparison without its value",
      { labels: [{ column: "y", op: ">" }] },
      "labels.0.value",
      /value is missing/,
    ],
    ["an unknown operator", { labels: [{ column: "y", op: "=>", value: 1 }] }, "labels.0.op", /./],
    [
      "negative without positive",
      { labels: [{ column: "y", op: ">", value: 0, negative: ["0"] }] },
      "labels.0.negative",
      /goes with positive/,
    ],
    [
      "a value both positive and negative",
      { labels: [{ column: "y", positive: ["1"], negative: ["1"] }] },
      "labels.0.negative",
      /both positive and negative/,
    ],
    [
      "two tasks with one name",
      { labels: ["y", { column: "y", op: ">", value: 0 }] },
      "labels.1",
      /task "y" appears twice/,
    ],
    [
      "a derived feature not listed",
      { derived: [{ name: "h", from: "t", kind: "divide", by: 100 }] },
      "derived.0.name",
      /"h" is not used/,
    ],
    [
      "a derived feature as numeric",
      { numericFeatures: ["h"], derived: [{ name: "h", from: "t", kind: "divide", by: 100 }] },
      "derived.0.name",
      /is categorical/,
    ],
    [
      "edges that do not increase",
      { features: ["u", "b"], derived: [{ name: "b", from: "a", kind: "bucket", edges: [30, 18] }] },
      "derived.0.edges.1",
      /edges must increase/,
    ],
    [
      "a zero divisor",
      { features: ["u", "h"], derived: [{ name: "h", from: "t", kind: "divide", by: 0 }] },
      "derived.0.by",
      /./,
    ],
    [
      "a derived feature of a derived one",
      {
        features: ["u", "a", "b"],
        derived: [
          { name: "a", from: "t", kind: "first-item" },
          { name: "b", from: "a", kind: "first-item" },
        ],
      },
      "derived.1.from",
      /itself derived/,
    ],
    [
      "an unknown kind",
      { features: ["u", "h"], derived: [{ name: "h", from: "t", kind: "sqrt" }] },
      "derived.0.kind",
      /./,
    ],
    [
      "a name missing from columns",
      { columns: ["user", "y"] },
      "features.0",
      /"u" is not one of the file's columns/,
    ],
    [
      "a label column missing from columns, with a suggestion",
      { columns: ["u", "income"], labels: [{ column: "incom", positive: ["x"] }] },
      "labels.0.column",
      /did you mean "income"/,
    ],
    [
      "a label that is a derived feature's source",
      { features: ["u", "h"], derived: [{ name: "h", from: "y", kind: "divide", by: 2 }] },
      "labels.0",
      /also used as a feature/,
    ],
  ];
  for (const [what, extra, path, message] of cases)
    it(`${what}: an error on ${path}`, () => {
      const input = { ...base, ...extra };
      const parsed = FileDataConfig.safeParse(input);
      assert.ok(!parsed.success, "accepted");
      const problems = configProblems(parsed.error, input, FileDataConfig);
      const problem = problems.find((p) => p.path === path);
      assert.ok(problem, problems.map((p) => `${p.path}: ${p.message}`).join("\n"));
      assert.match(problem.message, message);
    });
});
