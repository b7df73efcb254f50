import assert from "node:assert/strict";
import fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it, mock } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { ZodError } from "zod";
import { FileDataConfig } from "../../../src/protocol/config";
import { loadDataset } from "../../../src/trainer/data";
import type { Dataset, Split } from "../../../src/trainer/data/types";

const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-data-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

type Row = Record<string, string | number>;

function toDelimited(rows: Row[], delimiter: string): string {
  const columns = Object.keys(rows[0]);
  return (
    [columns.join(delimiter), ...rows.map((r) => columns.map((c) => r[c]).join(delimiter))].join("\n") + "\n"
  );
}

function write(name: string, text: string | Buffer): string {
  fs.writeFileSync(join(dir, name), text);
  return name;
}

/** A seeded little log: users u0..u29, items i0..i59, a device, a watch time, two labels. */
function makeRows(count: number, seed: number): Row[] {
  let s = seed;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  return Array.from({ length: count }, () => {
    const user = Math.floor(next() * 30);
    const item = Math.floor(next() * 60);
    return {
      user: `u${user}`,
      item: `i${item}`,
      device: ["ios", "android", "web"][Math.floor(next() * 3)],
      watch: (next() * 100).toFixed(2),
      click: next() < 0.4 ? 1 : 0,
      like: next() < 0.1 ? 1 : 0,
    };
  });
}

function config(path: string, extra: Record<string, unknown> = {}): FileDataConfig {
  return FileDataConfig.parse({
    source: "file",
    path,
    features: ["user", "item", "device"],
    numericFeatures: ["watch"],
    labels: ["click", "like"],
    userColumn: "user",
    ...extra,
  });
}

const load = (c: FileDataConfig, extra: Partial<Parameters<typeof loadDataset>[1]> = {}) =>
  loadDataset(c, { baseDir: dir, ...extra });

function column(split: Split, feature: number): number[] {
  return Array.from({ length: split.size }, (_, r) => split.categorical[r * split.featureCount + feature]);
}

const rows = makeRows(400, 11);
const csv = write("log.csv", toDelimited(rows, ","));

describe("file loader: formats", () => {
  it("reads CSV, TSV, JSON lines and their gzipped forms into identical datasets", async () => {
    const tsv = write("log.tsv", toDelimited(rows, "\t"));
    const jsonl = write("log.jsonl", rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const gz = write("log.csv.gz", gzipSync(fs.readFileSync(join(dir, csv))));
    const jsonlGz = write("log.jsonl.gz", gzipSync(fs.readFileSync(join(dir, jsonl))));
    const reference = await load(config(csv));
    assert.equal(
      reference.stats.rows.train + reference.stats.rows.validation + reference.stats.rows.test,
      400,
    );
    for (const path of [tsv, jsonl, gz, jsonlGz]) {
      const d = await load(config(path));
      for (const s of ["train", "validation", "test"] as const) {
        assert.deepEqual(d[s].categorical, reference[s].categorical, `${path} ${s}`);
        assert.deepEqual(d[s].numeric, reference[s].numeric, `${path} ${s}`);
        assert.deepEqual(d[s].labels, reference[s].labels, `${path} ${s}`);
      }
    }
  });

  it("reads CRLF line ends and a byte-order mark in CSV and JSON lines", async () => {
    const text = "\ufeff" + toDelimited(rows.slice(0, 20), ",").replaceAll("\n", "\r\n");
    const jsonText =
      "\ufeff" +
      rows
        .slice(0, 20)
        .map((r) => JSON.stringify(r))
        .join("\r\n");
    const all = { split: { by: "ratio", validation: 0, test: 0 } };
    const a = await load(config(write("crlf.csv", text), all));
    const b = await load(config(write("crlf.jsonl", jsonText), all));
    const plain = await load(config(write("lf.csv", toDelimited(rows.slice(0, 20), ",")), all));
    assert.deepEqual(a.train, plain.train);
    assert.deepEqual(b.train, plain.train);
  });

  it("accepts JSON numbers and booleans for labels and ids", async () => {
    const path = write(
      "typed.jsonl",
      [
        { user: 1, item: 10, device: "ios", watch: 3.5, click: true, like: 0 },
        { user: 2, item: 11, device: "web", watch: 1, click: false, like: 1 },
      ]
        .map((r) => JSON.stringify(r))
        .join("\n"),
    );
    const d = await load(config(path, { split: { by: "ratio", validation: 0, test: 0 } }));
    assert.deepEqual(Array.from(d.train.labels), [1, 0, 0, 1]);
  });
});

describe("file loader: round trip", () => {
  it("keeps every row: equal strings get equal ids, distinct strings distinct ids, labels intact (CSV with quoting)", async () => {
    const quote = (v: string) => (/[",\n]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            user: fc.constantFrom("a", "b", "c,d", 'say "hi"', "line\nbreak", ""),
            item: fc.string({ maxLength: 4 }),
            click: fc.constantFrom(0, 1),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        async (table) => {
          const text =
            "user,item,click\n" +
            table.map((r) => [quote(r.user), quote(r.item), r.click].join(",")).join("\n");
          const path = write("roundtrip.csv", text);
          const d = await load(
            FileDataConfig.parse({
              source: "file",
              path,
              features: ["user", "item"],
              labels: ["click"],
              userColumn: "user",
              split: { by: "ratio", validation: 0, test: 0 },
            }),
          );
          assert.equal(d.train.size, table.length);
          for (const [j, key] of (["user", "item"] as const).entries()) {
            const ids = column(d.train, j);
            const idOf = new Map<string, number>();
            table.forEach((r, i) => {
              const seen = idOf.get(r[key]);
              if (seen === undefined) {
                assert.ok(
                  ![...idOf.values()].includes(ids[i]) && ids[i] > 0,
                  `${key} ${JSON.stringify(r[key])}`,
                );
                idOf.set(r[key], ids[i]);
              } else assert.equal(ids[i], seen);
            });
            assert.equal(d.vocabularySizes[j], idOf.size + 1);
          }
          assert.deepEqual(
            Array.from(d.train.labels),
            table.map((r) => r.click),
          );
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe("file loader: vocabularies and numeric features", () => {
  it("builds vocabularies from the training split only: a category first seen in test is OOV (0)", async () => {
    const train = write(
      "train.csv",
      "user,item,device,watch,click,like\nu1,a,ios,1,1,0\nu2,b,ios,2,0,0\nu1,a,web,3,0,1\n",
    );
    const test = write("test.csv", "user,item,device,watch,click,like\nu1,a,ios,4,1,0\nu3,zzz,tv,5,0,0\n");
    const d = await load(config(train, { split: { by: "files", testPath: test, validation: 0 } }));
    // user: u1,u2 + OOV; item: a,b + OOV; device: ios,web + OOV
    assert.deepEqual(d.vocabularySizes, [3, 3, 3]);
    assert.deepEqual(column(d.test, 0), [1, 0]);
    assert.deepEqual(column(d.test, 1), [1, 0]);
    assert.deepEqual(column(d.test, 2), [1, 0]);
    assert.deepEqual(d.stats.testOovRate, [0.5, 0.5, 0.5]);
    // GAUC user ids are not vocabulary ids: the unseen user u3 still gets its own group
    const [trainUsers, testUsers] = [d.train.users ?? [], d.test.users ?? []];
    assert.equal(testUsers[0], trainUsers[0]);
    assert.notEqual(testUsers[1], testUsers[0]);
    assert.ok(!Array.from(trainUsers).includes(testUsers[1]));
  });

  it("sends categories seen fewer than minCount times in training to the OOV bucket", async () => {
    const d = await load(config(csv, { minCount: 10, split: { by: "ratio", validation: 0, test: 0 } }));
    const counts = new Map<string, number>();
    for (const r of rows) counts.set(String(r.item), (counts.get(String(r.item)) ?? 0) + 1);
    const frequent = [...counts.values()].filter((c) => c >= 10).length;
    assert.equal(d.vocabularySizes[1], frequent + 1);
    const ids = column(d.train, 1);
    rows.forEach((r, i) => {
      assert.equal(ids[i] === 0, counts.get(String(r.item))! < 10);
    });
  });

  it("standardises numeric features with the training mean and deviation", async () => {
    const d = await load(config(csv, { split: { by: "ratio", validation: 0.2, test: 0.2, seed: 3 } }));
    const x = Array.from(d.train.numeric);
    const mean = x.reduce((a, b) => a + b, 0) / x.length;
    const sd = Math.sqrt(x.reduce((a, b) => a + (b - mean) ** 2, 0) / x.length);
    assert.ok(Math.abs(mean) < 1e-5 && Math.abs(sd - 1) < 1e-4, `${mean} ${sd}`);
    assert.deepEqual(d.numericNames, ["watch"]);
  });

  it("applies sign·log1p to logNumeric columns before standardising", async () => {
    const path = write(
      "skew.csv",
      "user,item,device,watch,click,like\na,x,d,0,1,0\nb,x,d,9,0,0\nc,x,d,99,0,1\n",
    );
    const d = await load(
      config(path, { logNumeric: ["watch"], split: { by: "ratio", validation: 0, test: 0 } }),
    );
    const logs = [0, Math.log(10), Math.log(100)];
    const m = logs.reduce((a, b) => a + b) / 3;
    const sd = Math.sqrt(logs.reduce((a, b) => a + (b - m) ** 2, 0) / 3);
    d.train.numeric.forEach((v, i) => {
      assert.ok(Math.abs(v - (logs[i] - m) / sd) < 1e-6);
    });
  });
});

describe("file loader: splits", () => {
  it("splits by ratio deterministically by seed, close to the requested shares", async () => {
    const c = config(csv, { split: { by: "ratio", validation: 0.2, test: 0.3, seed: 5 } });
    const a = await load(c);
    const b = await load(c);
    const other = await load(config(csv, { split: { by: "ratio", validation: 0.2, test: 0.3, seed: 6 } }));
    assert.deepEqual(a.test.categorical, b.test.categorical);
    assert.notDeepEqual(a.test.categorical, other.test.categorical);
    assert.ok(Math.abs(a.stats.rows.test / 400 - 0.3) < 0.08, JSON.stringify(a.stats.rows));
    assert.ok(Math.abs(a.stats.rows.validation / 400 - 0.2) < 0.08, JSON.stringify(a.stats.rows));
  });

  it("splits by a column's values; an unlisted value is a bad row or, with other: drop, dropped and counted", async () => {
    const withDay = rows.slice(0, 30).map((r, i) => ({ ...r, day: ["mon", "tue", "wed", "sun"][i % 4] }));
    const path = write("days.csv", toDelimited(withDay, ","));
    const split = { by: "column", column: "day", train: ["mon"], validation: ["tue"], test: ["wed"] };
    await assert.rejects(load(config(path, { split })), {
      message: `${join(dir, path)}:5: column "day": value "sun" is in none of the split lists`,
    });
    const d = await load(config(path, { split: { ...split, other: "drop" } }));
    assert.deepEqual(d.stats.rows, { train: 8, validation: 8, test: 7 });
    assert.equal(d.stats.droppedRows, 7);
  });

  it("uses a second file as the test split", async () => {
    const test = write("holdout.csv", toDelimited(makeRows(50, 99), ","));
    const d = await load(config(csv, { split: { by: "files", testPath: test, validation: 0.25 } }));
    assert.equal(d.stats.rows.test, 50);
    assert.equal(d.stats.rows.train + d.stats.rows.validation, 400);
  });
});

describe("file loader: joins", () => {
  it("adds side-table features by key; a missing key gives OOV and zero numerics and is counted", async () => {
    const log = write(
      "jlog.csv",
      "user,item,device,watch,click,like\nu1,a,ios,1,1,0\nu2,b,ios,2,0,0\nu9,a,web,3,0,1\n",
    );
    const users = write("users.tsv", "user\tage\tscore\nu1\tyoung\t10\nu2\told\t30\n");
    const d = await load(
      config(log, {
        split: { by: "ratio", validation: 0, test: 0 },
        joins: [{ path: users, key: "user", features: ["age"], numericFeatures: ["score"] }],
      }),
    );
    assert.deepEqual(d.featureNames, ["user", "item", "device", "age"]);
    assert.deepEqual(d.numericNames, ["watch", "score"]);
    assert.deepEqual(column(d.train, 3), [1, 2, 0]);
    assert.deepEqual(d.stats.joinMisses, [1]);
    // score: mean of the known values (20) -> 0 for the miss; 10 and 30 -> -1 and +1
    assert.deepEqual(
      Array.from({ length: 3 }, (_, r) => d.train.numeric[r * 2 + 1]),
      [-1, 1, 0],
    );
  });
});

describe("file loader: bad input", () => {
  const header = "user,item,device,watch,click,like\n";

  it("names file, line and column for a non-binary label, a bad number and a wrong column count", async () => {
    const cases: [string, string][] = [
      ["u1,a,ios,1,1,0\nu2,b,ios,2,2,0\n", ':3: column "click": label must be 0 or 1, got "2"'],
      ["u1,a,ios,1,1,0\nu1,a,ios,1,1,0\nu2,b,ios,fast,0,0\n", ':4: column "watch": not a number: "fast"'],
      ["u1,a,ios,1,1,0\nu2,b,ios,2,0\n", ":3: expected 6 columns as in the header, found 5"],
    ];
    for (const [body, expected] of cases) {
      const path = write("bad.csv", header + body);
      await assert.rejects(load(config(path)), (e: Error) => {
        assert.equal(e.message, join(dir, path) + expected);
        return true;
      });
    }
  });

  it("with onBadRow: skip, skips bad rows, counts them and keeps the first examples", async () => {
    const body = ["u1,a,ios,1,1,0", "u2,b,ios,2,7,0", "u3,c", "u4,d,ios,x,0,0", "u5,e,web,5,0,1"].join("\n");
    const path = write("skip.csv", header + body);
    const d = await load(config(path, { onBadRow: "skip", split: { by: "ratio", validation: 0, test: 0 } }));
    assert.equal(d.stats.rows.train, 2);
    assert.equal(d.stats.skippedRows, 3);
    assert.deepEqual(
      d.stats.badRowExamples.map((m) => m.slice(join(dir, path).length)),
      [
        ':3: column "click": label must be 0 or 1, got "7"',
        ":4: expected 6 columns as in the header, found 2",
        ':5: column "watch": not a number: "x"',
      ],
    );
  });

  it("reports missing header columns up front with the columns available", async () => {
    const path = write("nolike.csv", "user,item,device,watch,click\nu1,a,ios,1,1\n");
    await assert.rejects(load(config(path)), {
      message: `${join(dir, path)}:1: missing column "like"; available: user, item, device, watch, click`,
    });
  });

  it("in JSON lines, names a missing key and a broken line", async () => {
    const good = JSON.stringify(rows[0]);
    const { like: _, ...noLike } = rows[1];
    const path = write("holes.jsonl", `${good}\n${JSON.stringify(noLike)}\n{oops\n`);
    await assert.rejects(load(config(path)), {
      message: `${join(dir, path)}:2: column "like": missing value`,
    });
    const d = await load(config(path, { onBadRow: "skip", split: { by: "ratio", validation: 0, test: 0 } }));
    assert.equal(d.stats.skippedRows, 2);
    assert.match(d.stats.badRowExamples[1], /:3: not valid JSON/);
  });

  it("names a truncated or fake gzip file", async () => {
    const whole = gzipSync(toDelimited(rows, ","));
    const truncated = write("cut.csv.gz", whole.subarray(0, whole.length >> 1));
    await assert.rejects(load(config(truncated)), /cut\.csv\.gz: corrupt or truncated gzip data/);
    const fake = write("fake.jsonl.gz", "plain text");
    await assert.rejects(load(config(fake)), /fake\.jsonl\.gz: corrupt or truncated gzip data/);
  });

  it("names a file that does not exist and a file whose format cannot be told", async () => {
    await assert.rejects(load(config("nope.csv")), /nope\.csv: cannot open/);
    await assert.rejects(load(config(write("data.bin", "x"))), /cannot tell the format[\s\S]*set "format"/);
  });

  it("rejects a label that is also a feature, naming the field, before any file is read", () => {
    assert.throws(
      () => config("never-read.csv", { features: ["user", "click"] }),
      (e: unknown) =>
        e instanceof ZodError &&
        e.issues.some(
          (i) => i.path.join(".") === "labels.0" && /label "click" is also used as a feature/.test(i.message),
        ),
    );
  });

  it("stops when the signal is aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(load(config(csv), { signal: controller.signal }), { name: "AbortError" });
  });
});

describe("file loader: streaming", () => {
  it("reads through a stream in small chunks and never through a whole-file read", async (t) => {
    const big = write("big.csv.gz", gzipSync(toDelimited(makeRows(5_000, 3), ",")));
    const forbid = (name: string) => () => {
      throw new Error(`whole-file read ${name} used`);
    };
    t.mock.method(fs, "readFileSync", forbid("readFileSync"));
    t.mock.method(fs, "readFile", forbid("readFile"));
    t.mock.method(fs.promises, "readFile", forbid("promises.readFile"));
    const opened = t.mock.method(fs, "createReadStream");
    const fractions: number[] = [];
    const d: Dataset = await load(config(big), {
      readChunkBytes: 512,
      onProgress: (phase, fraction) => {
        if (phase.startsWith("read")) fractions.push(fraction);
      },
    });
    assert.equal(d.stats.rows.train + d.stats.rows.validation + d.stats.rows.test, 5_000);
    assert.equal(opened.mock.callCount(), 1);
    assert.equal((opened.mock.calls[0].arguments[1] as { highWaterMark: number }).highWaterMark, 512);
    const size = fs.statSync(join(dir, big)).size;
    assert.ok(fractions.length >= Math.floor(size / 512), `${fractions.length} chunks for ${size} bytes`);
    assert.equal(fractions.at(-1), 1);
    mock.restoreAll();
  });
});
