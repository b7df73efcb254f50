import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { TINY_SYNTHETIC_MMOE } from "../unit/helpers/configs";
import { repo, stdoutThroughSlowPipe, stdoutToFile, tempDir } from "./cli";

/**
 * Every command that writes to stdout writes all of it before it exits, also into a pipe whose
 * reader takes nothing for a while (`| less`, a busy host). The reference is the same command
 * with stdout a file, which is written synchronously and never cut.
 */

const SLOW_READER_MS = 4000;
const work = tempDir("stdout");
const grads = join(work, "grads.json");
const config = join(work, "tiny.gradcraft.json");
const short = join(work, "short.gradcraft.json");
let runDir = "";

before(async () => {
  // Four long gradient rows: the combined update alone is megabytes of JSON.
  const rows = Array.from({ length: 4 }, (_, t) =>
    Array.from({ length: 60_000 }, (_, i) => Math.sin((t + 1) * i)),
  );
  fs.writeFileSync(grads, JSON.stringify({ grads: rows }));
  const tiny = {
    name: "stdout",
    ...TINY_SYNTHETIC_MMOE,
    training: { batchSize: 32, maxSteps: 300, evalEvery: 100 },
  };
  fs.writeFileSync(config, JSON.stringify(tiny));
  fs.writeFileSync(short, JSON.stringify({ ...tiny, training: { ...tiny.training, maxSteps: 10 } }));
  await stdoutToFile(["train", config, "--out", join(work, "runs")]);
  const [name] = fs.readdirSync(join(work, "runs"));
  runDir = join(work, "runs", name);
});

/** Commands whose output is the same on every run: compared byte for byte. */
const exact: Array<[string, () => string[]]> = [
  ["combine (megabytes of JSON)", () => ["combine", "--strategy", "gradcraft", "--input", grads]],
  ["replay (the whole event log)", () => ["replay", runDir]],
  ["summary", () => ["summary", runDir]],
  ["summary --json", () => ["summary", runDir, "--json"]],
  [
    "conformance --json",
    () => ["conformance", join(repo, "..", "shared", "reference", "public.json"), "--json"],
  ],
  ["train (the results table)", () => ["train", short, "--out", join(work, "runs")]],
  ["--help", () => ["--help"]],
];

describe("every command that writes to stdout finishes writing before it exits", () => {
  for (const [name, args] of exact) {
    it(`${name}: a slow pipe gets every byte a file gets`, async () => {
      const expected = await stdoutToFile(args());
      const piped = await stdoutThroughSlowPipe(args(), SLOW_READER_MS);
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(piped.stdout.length, expected.length, "bytes through the pipe vs into a file");
      assert.ok(piped.stdout.equals(expected));
    });
  }

  it("the sizes that matter exceed a pipe's buffer, so the comparison can fail", async () => {
    for (const args of [exact[0][1](), exact[1][1]()])
      assert.ok((await stdoutToFile(args)).length > 256 * 1024, args.join(" "));
  });

  it("bench speed and bench quality --json: the slow pipe gets one whole JSON document", async () => {
    const commands = [
      ["bench", "speed", "--json", "--steps", "1", "--warmup", "0", "--model", "shared-bottom"],
      ["bench", "quality", "--json", "--dataset", "quick", "--rows", "800", "--seeds", "1"].concat([
        "--strategies",
        "ew",
        "--max-steps",
        "2",
        "--out",
        join(work, "bench"),
      ]),
    ];
    for (const args of commands) {
      const piped = await stdoutThroughSlowPipe(args, SLOW_READER_MS);
      assert.equal(piped.code, 0, piped.stderr);
      assert.doesNotThrow(() => JSON.parse(piped.stdout.toString("utf8")), args.join(" "));
    }
  });
});
