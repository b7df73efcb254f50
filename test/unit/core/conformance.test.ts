import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, it } from "node:test";
import { runConformanceCommand } from "../../../src/cli/conformance";
import {
  parseReferenceFile,
  type ReferenceFile,
  runReference,
  runReferenceCase,
} from "../../../src/core/conformance";

const repoRoot = path.join(__dirname, "..", "..", "..");
const publicFile = path.join(repoRoot, "..", "shared", "reference", "public.json");
const present = existsSync(publicFile);
const reason = `reference vectors not found at ${publicFile} (they live beside the repository, in ../shared)`;
if (!present && process.env.CI === "true") throw new Error(`CI=true: ${reason}`);

function load(): ReferenceFile {
  return parseReferenceFile(JSON.parse(readFileSync(publicFile, "utf8")));
}

describe("conformance against the peers' own numbers (../shared/reference/public.json)", {
  skip: present ? false : reason,
}, () => {
  const file = present ? load() : { cases: [] };
  const report = runReference(file);

  it("every case passes; peer-error cases get a finite update", () => {
    const failures = report.outcomes
      .filter((o) => o.status === "fail")
      .map((o) => `#${o.index} ${o.method} ${o.caseType} K=${o.k} d=${o.d} seed=${o.seed}: ${o.message}`);
    assert.deepEqual(failures, []);
    assert.equal(report.total, file.cases.length);
    assert.ok(report.total >= 464, `only ${report.total} cases`);
    for (const o of report.outcomes.filter((x) => x.status === "peer-error")) assert.ok(o.finite);
  });

  it("covers every peer method of the file", () => {
    const methods = report.methods.map((m) => m.method).sort();
    for (const m of [
      "aligned_mtl",
      "cagrad",
      "dbmtl",
      "gradcraft",
      "gradvac",
      "imtl_g",
      "mgda",
      "pcgrad",
      "pcgrad_libmtl",
    ])
      assert.ok(methods.includes(m), `no ${m} cases`);
  });

  it("a zero-gradient task where GradCraft's code returns NaN is flagged, with a finite update", () => {
    const zero = report.outcomes.filter((o) => o.method === "gradcraft" && o.caseType === "zero_task");
    assert.ok(zero.length > 0);
    for (const o of zero) {
      assert.equal(o.status, "peer-error");
      assert.ok(o.flags.includes("zero-gradient"));
    }
  });

  it("a tampered expected vector fails the comparison", () => {
    const c = file.cases.find((x) => x.method === "gradcraft" && x.expected !== null)!;
    const tampered = {
      ...c,
      expected: c.expected!.map((v, i) => (i === 0 ? v + 1e-3 * (Math.abs(v) + 1) : v)),
    };
    assert.equal(runReferenceCase(c).status, "pass");
    assert.equal(runReferenceCase(tampered).status, "fail");
  });

  it("the CLI prints the per-method table and exits 0 when everything passes", () => {
    let out = "";
    const code = runConformanceCommand(
      publicFile,
      {},
      {
        stdout: (t) => {
          out += t;
        },
        stderr: () => {},
        readFile: (p) => readFileSync(p, "utf8"),
      },
    );
    assert.equal(code, 0);
    assert.match(out, /^method\s+cases\s+passed\s+failed\s+peer-error/);
    assert.match(out, /\ngradcraft\s+\d+/);
    assert.match(out, /\ntotal\s+\d+/);
  });
});

describe("gradcraft conformance command", () => {
  const io = (text: string) => {
    const captured = { out: "", err: "" };
    return {
      captured,
      io: {
        stdout: (t: string) => {
          captured.out += t;
        },
        stderr: (t: string) => {
          captured.err += t;
        },
        readFile: () => text,
      },
    };
  };
  const oneCase = {
    method: "pcgrad",
    params: {
      reduction: "mean",
      orders: [
        [0, 1],
        [1, 0],
      ],
    },
    K: 2,
    d: 2,
    case_type: "random",
    seed: 1,
    grads: [
      [1, 0],
      [-1, 2],
    ],
    // PCGrad of g1=(1,0), g2=(-1,2): p1 = g1 + g2/5 = (0.8, 0.4), p2 = g2 + g1 = (0, 2); mean.
    expected: [0.4, 1.2],
    tol_f64: 1e-12,
    atol_f64: 1e-15,
  };

  it("exits 0 on a passing file, 1 on a failing one, with --json giving the report", () => {
    const ok = io(JSON.stringify({ cases: [oneCase] }));
    assert.equal(runConformanceCommand("x.json", { json: true }, ok.io), 0);
    const report = JSON.parse(ok.captured.out);
    assert.equal(report.passed, 1);
    const bad = io(JSON.stringify({ cases: [{ ...oneCase, expected: [0.25, 0.7] }] }));
    assert.equal(runConformanceCommand("x.json", {}, bad.io), 1);
    assert.match(bad.captured.out, /failed cases:\n {2}#0 pcgrad random/);
  });

  it("exits 2 with a one-line error for a file that is not in the schema", () => {
    const broken = io(JSON.stringify({ cases: [{ method: "pcgrad" }] }));
    assert.equal(runConformanceCommand("x.json", {}, broken.io), 2);
    assert.match(broken.captured.err, /^gradcraft conformance: reference file: cases\.0\./);
    const notJson = io("{");
    assert.equal(runConformanceCommand("x.json", {}, notJson.io), 2);
  });

  it("reproduces the GradCraft repo's quirk (a): a gradient summing to exactly 0 is dropped, the rest summed", () => {
    // g2 = (-1, 1) sums to 0: the official code zeroes it, so nothing conflicts, and sums.
    const c = {
      ...oneCase,
      grads: [
        [1, 0],
        [-1, 1],
      ],
      expected: [1, 0],
    };
    const o = runReferenceCase(c as never);
    assert.equal(o.status, "pass");
    assert.match(o.quirk!, /quirk \(a\)/);
  });

  it("an unknown reference method is a failed case naming it", () => {
    const o = runReferenceCase({ ...oneCase, method: "famo", expected: [0, 0] } as never);
    assert.equal(o.status, "fail");
    assert.match(o.message!, /unknown reference method "famo"/);
  });
});
