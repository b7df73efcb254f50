import assert from "node:assert/strict";
import fs from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { after, describe, it, mock, type TestContext } from "node:test";
import { gunzipSync } from "node:zlib";
import { parse as parseCsv } from "csv-parse/sync";
import { runTrain } from "../../../src/cli/train";
import { TrainingConfig } from "../../../src/protocol/config";
import { parseJsonc } from "../../../src/protocol/configFile";
import { RunSummary } from "../../../src/protocol/messages";
import { type Dataset, loadDataset } from "../../../src/trainer/data";
import { hashUniform } from "../../../src/trainer/data/random";
import { ensureWekaExamples, NotRunError, wekaDir } from "../../provision.mjs";

// The configs of docs/data.md run here, against the real files they name, so they never rot.
const repo = join(import.meta.dirname, "../../..");
const doc = fs.readFileSync(join(repo, "docs/data.md"), "utf8");
const work = fs.mkdtempSync(join(tmpdir(), "gradcraft-documented-"));
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** Every ```jsonc block of the page, by the name of the `<!-- config: NAME -->` before it ("" if none). */
function blocks(): Array<{ name: string; text: string }> {
  const found: Array<{ name: string; text: string }> = [];
  const pattern = /(?:<!-- config: ([\w-]+) -->\n)?```jsonc\n([\s\S]*?)```/g;
  for (let m = pattern.exec(doc); m; m = pattern.exec(doc)) found.push({ name: m[1] ?? "", text: m[2] });
  return found;
}

/** A block as a whole config: a `"data": {...}` fragment is wrapped in braces. */
function configOf(text: string): TrainingConfig {
  const raw = text.trimStart().startsWith('"data"') ? `{${text}}` : text;
  return TrainingConfig.parse(parseJsonc(raw, "docs/data.md"));
}

function documented(name: string): { text: string; config: TrainingConfig } {
  const block = blocks().find((b) => b.name === name);
  assert.ok(block, `docs/data.md has no config "${name}"`);
  return { text: block.text, config: configOf(block.text) };
}

/**
 * The folder that holds `weka/` (Debian's weka package unpacked, as docs/data.md's paths expect),
 * or a skip (outside CI) saying what to install.
 */
async function weka(t: TestContext): Promise<string | undefined> {
  try {
    await ensureWekaExamples();
    return dirname(wekaDir);
  } catch (error) {
    if (!(error instanceof NotRunError)) throw error; // under CI=true: a failure
    t.skip(error.message);
    return undefined;
  }
}

const ids = (d: Dataset, split: Dataset["train"], j: number) => {
  const offset = d.featureSlots.slice(0, j).reduce((a, b) => a + b, 0);
  return Array.from({ length: split.size }, (_, r) => split.categorical[r * split.featureCount + offset]);
};

/** Each id stands for one value and each value has one id. */
function assertBijection(got: number[], expected: string[], what: string): void {
  assert.equal(got.length, expected.length, what);
  const forward = new Map<number, string>();
  const backward = new Map<string, number>();
  got.forEach((id, i) => {
    assert.equal(forward.get(id) ?? expected[i], expected[i], `${what}: id ${id} stands for two values`);
    assert.equal(backward.get(expected[i]) ?? id, id, `${what}: "${expected[i]}" got two ids`);
    forward.set(id, expected[i]);
    backward.set(expected[i], id);
  });
}

/** The data lines of an ARFF file: after @data, without comments or blank lines. */
function arffRows(path: string): string[][] {
  const text = fs.readFileSync(path, "utf8");
  return text
    .slice(text.indexOf("@data") + "@data".length)
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("%"))
    .map((line) => line.split(",").map((v) => v.replace(/^'(.*)'$/, "$1")));
}

describe("docs/data.md: every config block", () => {
  it("is a valid config (JSONC, every field known, every rule satisfied)", () => {
    const all = blocks();
    assert.ok(all.length >= 5, `found ${all.length} blocks`);
    for (const { name, text } of all) assert.doesNotThrow(() => configOf(text), name || text.slice(0, 60));
  });
});

describe("docs/data.md: a UCI file without a header (German credit, from Debian's weka)", () => {
  it("loads all 1,000 applicants with both tasks as the raw file says, age bands derived", async (t) => {
    const base = await weka(t);
    if (!base) return;
    const { config } = documented("german-credit");
    assert.equal(config.data.source, "file");
    const d = await loadDataset(config.data, { baseDir: base });
    const raw = arffRows(join(base, basename(wekaDir), "usr/share/doc/weka/examples/credit-g.arff"));
    assert.equal(raw.length, 1000);
    assert.equal(d.stats.rows.train + d.stats.rows.validation + d.stats.rows.test, 1000);
    assert.equal(d.stats.skippedRows, 0);
    assert.deepEqual(d.taskNames, ["bad_credit", "long_loan"]);
    // Counted from the raw file: class is the last value, duration the second.
    const positives = (task: number) =>
      [d.train, d.validation, d.test].reduce(
        (n, s) => n + s.labels.filter((label, i) => i % 2 === task && label === 1).length,
        0,
      );
    assert.equal(positives(0), raw.filter((r) => r[20] === "bad").length);
    assert.equal(positives(1), raw.filter((r) => Number(r[1]) > 24).length);
    // Rows keep the file's order within a split: the age bands line up with the raw ages.
    const band = (age: number) => [25, 35, 45, 55, 65].filter((edge) => age >= edge).length;
    const trainRows = raw.filter((_, i) => {
      const u = hashUniform(7, i + 1);
      return u >= 0.15 + 0.15;
    });
    assertBijection(
      ids(d, d.train, d.featureNames.indexOf("age_band")),
      trainRows.map((r) => String(band(Number(r[12])))),
      "age_band",
    );
    assert.equal(d.train.users, null);
  });

  it("trains, and reports GAUC as not applicable: there is no user column", async (t) => {
    const base = await weka(t);
    if (!base) return;
    const { text } = documented("german-credit");
    // The doc's relative path is "weka/...": put the config beside a link to the unpacked package.
    fs.mkdirSync(join(work, "credit"));
    fs.symlinkSync(wekaDir, join(work, "credit", "weka"));
    const path = join(work, "credit", "german-credit.gradcraft.json");
    fs.writeFileSync(path, text);
    // (stdout is the test runner's channel: the run's table is printed, not silenced.)
    const stderr = mock.method(process.stderr, "write", () => true);
    let code: number;
    try {
      code = await runTrain(path, { out: join(work, "runs"), maxSteps: "6", backend: "cpu" });
    } finally {
      stderr.mock.restore();
    }
    assert.equal(code, 0);
    const run = fs.readdirSync(join(work, "runs")).find((r) => r.endsWith("german-credit"));
    assert.ok(run);
    const summary = RunSummary.parse(
      JSON.parse(fs.readFileSync(join(work, "runs", run, "summary.json"), "utf8")),
    );
    assert.equal(summary.splits.test?.gaucApplicable, false);
    assert.ok(summary.splits.test?.tasks.every((m) => m.gauc === null && typeof m.auc === "number"));
  });
});

describe("docs/data.md: missing values (breast cancer, from Debian's weka)", () => {
  it("sends the nine ? to the OOV bucket and counts them per feature, as the file's description says", async (t) => {
    const base = await weka(t);
    if (!base) return;
    const { config } = documented("breast-cancer");
    const d = await loadDataset(config.data, { baseDir: base });
    // The file's own description: 286 instances, 85 recurrence events, missing values 8 in
    // node-caps and 1 in breast-quad.
    assert.equal(d.stats.rows.train + d.stats.rows.validation + d.stats.rows.test, 286);
    const positives = [d.train, d.validation, d.test].reduce(
      (n, s) => n + s.labels.filter((v, i) => i % 2 === 0 && v === 1).length,
      0,
    );
    assert.equal(positives, 85);
    assert.deepEqual(d.stats.missingValues, { node_caps: 8, breast_quad: 1 });
    const nodeCaps = d.featureNames.indexOf("node_caps");
    const oov = [d.train, d.validation, d.test].reduce(
      (n, s) => n + ids(d, s, nodeCaps).filter((id) => id === 0).length,
      0,
    );
    assert.equal(oov, 8);
  });
});

// KuaiRand-Pure lives beside the repository (../shared), never inside it.
const kuairandDir = join(repo, "../shared/data/kuairand-pure");
const kuairandPresent = fs.existsSync(join(kuairandDir, "video_features_basic_pure.csv.gz"));
if (!kuairandPresent && process.env.CI === "true")
  throw new Error(`KuaiRand-Pure not found in ${kuairandDir}: required under CI=true`);

describe("docs/data.md: KuaiRand with a derived hour, the first tag and all tags", {
  skip: kuairandPresent ? false : `KuaiRand-Pure not found in ${kuairandDir}`,
}, () => {
  it("derives hour = hourmin ÷ 100, the first tag and the tag list row by row, and played = play_time_ms > 0", async () => {
    const { config } = documented("kuairand-derived");
    const d = await loadDataset(config.data, { baseDir: repo });
    assert.equal(d.stats.rows.test, 133_545);
    assert.equal(d.stats.rows.train + d.stats.rows.validation, 94_784);
    // The raw log and video table, read here on their own.
    const log = gunzipSync(
      fs.readFileSync(join(kuairandDir, "kuairand_pure_standard_val_20220425_0430.csv.gz")),
    )
      .toString("utf8")
      .trim()
      .split("\n");
    const header = log[0].split(",");
    const column = (name: string) => header.indexOf(name);
    const videos = parseCsv(
      gunzipSync(fs.readFileSync(join(kuairandDir, "video_features_basic_pure.csv.gz"))),
      {
        columns: true,
      },
    ) as Array<Record<string, string>>;
    const tagOf = new Map(videos.map((v) => [v.video_id, v.tag]));
    // The documented split: a seeded 10 % of the file's rows (by ordinal) is validation.
    const train = log
      .slice(1)
      .filter((_, i) => hashUniform(7, i + 1) >= 0.1)
      .map((line) => line.split(","));
    assert.equal(train.length, d.train.size);
    const hourmin = train.map((r) => String(Math.floor(Number(r[column("hourmin")]) / 100)));
    assertBijection(ids(d, d.train, d.featureNames.indexOf("hour")), hourmin, "hour");
    assert.equal(d.vocabularySizes[d.featureNames.indexOf("hour")], new Set(hourmin).size + 1);
    const tags = train.map((r) => (tagOf.get(r[column("video_id")]) ?? "").split(","));
    assertBijection(
      ids(d, d.train, d.featureNames.indexOf("first_tag")),
      tags.map((t) => t[0]),
      "first_tag",
    );
    // tags: each row's slots hold its first four tags' ids (in order), -1 after them.
    const tagSlots = d.featureSlots[d.featureNames.indexOf("tags")];
    const offset = d.featureSlots.slice(0, d.featureNames.indexOf("tags")).reduce((a, b) => a + b, 0);
    const slotIds = train.map((_, r) =>
      Array.from(
        d.train.categorical.subarray(
          r * d.train.featureCount + offset,
          r * d.train.featureCount + offset + tagSlots,
        ),
      ),
    );
    assertBijection(
      slotIds.flatMap((s) => s.filter((id) => id >= 0)),
      tags.flatMap((t) => t.slice(0, 4)),
      "tags",
    );
    slotIds.forEach((s, r) => {
      assert.equal(s.filter((id) => id >= 0).length, Math.min(4, tags[r].length));
    });
    const k = d.taskNames.length;
    assert.equal(d.taskNames[k - 1], "played");
    train.forEach((r, i) => {
      assert.equal(d.train.labels[i * k + k - 1], Number(r[column("play_time_ms")]) > 0 ? 1 : 0);
    });
  });
});
