import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as esbuild from "esbuild";
import { buildOptions, bundles } from "../../../scripts/bundles.mjs";
import {
  parseReportJson,
  REPORT_DATA_ID,
  type ReportData,
  reportFileName,
  reportJson,
} from "../../../src/panel/reportData";
import { inlineScript, reportHtml } from "../../../src/panel/reportHtml";
import { RunModel } from "../../../src/panel/runModel";
import { PROTOCOL_VERSION as v } from "../../../src/protocol/messages";

const HOSTILE = `</script><script>alert(1)</script><!-- & \u2028`;

/** A small finished run: config, one switch, one learning-rate change, an evaluation without GAUC. */
function data(label = "tiny"): ReportData {
  const model = new RunModel("/runs/r1", label);
  model.ingest({
    v,
    type: "hello",
    trainer: { name: "t", version: "0" },
    backend: { name: "cpu", reason: "test" },
    tasks: ["click", "like"],
    strategies: [],
    runDir: null,
    startedAt: "2026-01-01T00:00:00.000Z",
  });
  model.ingest({
    v,
    type: "strategy-changed",
    step: 0,
    name: "ew",
    params: {},
    previous: null,
    reason: "initial",
  });
  model.ingest({
    v,
    type: "strategy-changed",
    step: 40,
    name: "pcgrad",
    params: { seed: 3 },
    previous: { name: "ew", params: {} },
    reason: "command",
  });
  model.ingest({
    v,
    type: "hyper-changed",
    step: 70,
    changes: [{ name: "learningRate", from: 0.001, to: 0.0005 }],
  });
  model.ingest({
    v,
    type: "eval",
    split: "test",
    step: 90,
    tasks: [
      { task: "click", auc: 0.71, gauc: null, logloss: 0.4 },
      { task: "like", auc: 0.66, gauc: null, logloss: 0.2 },
    ],
    mean: { auc: 0.685, gauc: null, logloss: 0.3 },
    best: false,
  });
  return {
    createdAt: "2026-12-03T19:30:00.000Z",
    generator: "GradCraft Studio 0.1.0",
    runs: [
      {
        snapshot: model.toSnapshot(),
        config: { name: label, strategy: { name: "ew", params: {} }, training: { learningRate: 0.001 } },
        folder: "20261203-193000-tiny",
        tags: ["baseline"],
      },
    ],
  };
}

/** The report bundle as the build makes it, in memory. */
async function reportBundle(): Promise<string> {
  const bundle = bundles.find((b) => Object.keys(b.entryPoints).includes("report"));
  assert.ok(bundle, "scripts/bundles.mjs has no report bundle");
  const result = await esbuild.build({ ...buildOptions(bundle), write: false });
  const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
  assert.ok(js);
  return js.text;
}

/** The text of the page's data element, as a browser's parser would end it. */
function dataElementText(html: string): string {
  const open = `<script type="application/json" id="${REPORT_DATA_ID}">`;
  const start = html.indexOf(open) + open.length;
  return html.slice(start, html.indexOf("</script>", start));
}

describe("the report's page", () => {
  it("holds everything it shows: no external src, href, url(), import or address, and a policy that refuses the network", async () => {
    const script = await reportBundle();
    const html = reportHtml({ data: data(), script, title: "t" });
    // The markup around the scripts: no attribute or style may name anything outside the file.
    const markup = html.replace(/(<script[^>]*>)[\s\S]*?(<\/script>)/g, "$1$2");
    const external = [
      ...markup.matchAll(/\b(?:src|href|action|srcset|poster)\s*=\s*["']?(?!data:|#)([^"'\s>]+)/gi),
      ...markup.matchAll(/url\(\s*["']?(?!data:)([^"')]+)/gi),
    ].map((m) => m[0]);
    assert.deepEqual(external, []);
    // The app inlines its stylesheets as text: none loads anything; no address but the SVG namespace.
    assert.deepEqual(
      [...script.matchAll(/url\(\s*["']?(?!data:)[^"')]*|@import/g)].map((m) => m[0]),
      [],
    );
    const addresses = new Set(
      [...script.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^"'`\s]*/gi)].map((m) => m[0]),
    );
    assert.deepEqual([...addresses], ["http://www.w3.org/2000/svg"]);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /connect-src 'none'/);
    assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/, "only the inlined script may run");
    assert.equal((html.match(/<script/g) ?? []).length, 2, "the data and the app, nothing else");
  });

  it("the inlined script's hash is the one the policy admits", async () => {
    const { createHash } = await import("node:crypto");
    const script = "console.log('</script>', '<!--')";
    const html = reportHtml({ data: data(), script, title: "t" });
    const body = /<script>([\s\S]*)<\/script>\s*<\/body>/.exec(html)?.[1] ?? "";
    assert.equal(body, inlineScript(script));
    assert.ok(!/<\/script|<!--/i.test(body), body);
    const hash = createHash("sha256").update(body, "utf8").digest("base64");
    assert.ok(html.includes(`'sha256-${hash}'`));
  });

  it("a run named to break out of the data element stays data, and reads back the same", () => {
    const report = data(HOSTILE);
    const html = reportHtml({ data: report, script: "", title: HOSTILE });
    const text = dataElementText(html);
    assert.ok(!/[<>&\u2028\u2029]/.test(text), "raw <, >, & or line separators in the data element");
    const back = parseReportJson(text);
    assert.equal(back.runs[0].snapshot.label, HOSTILE);
    assert.equal((back.runs[0].config as { name: string }).name, HOSTILE);
    assert.ok(!html.includes(`<title>${HOSTILE}`), "the title is escaped");
  });

  it("numbers JSON has no word for (a metric the run did not report) come back as they were", () => {
    const report = data();
    const gauc = report.runs[0].snapshot.evals[0].metrics.gauc;
    assert.ok(Number.isNaN(gauc[0]), "the run model keeps a missing GAUC as NaN");
    const back = parseReportJson(reportJson(report));
    assert.ok(Number.isNaN(back.runs[0].snapshot.evals[0].metrics.gauc[0]));
    assert.deepEqual(back.runs[0].snapshot.evals[0].metrics.auc, [0.71, 0.66]);
    // The tables' figures in full; the charts' points to 7 significant digits.
    assert.equal(back.runs[0].snapshot.latestEval["eval/test/logloss/mean"], 0.3);
    const before = report.runs[0].snapshot.series["eval/test/logloss/mean"].yMax;
    const after = back.runs[0].snapshot.series["eval/test/logloss/mean"].yMax;
    assert.equal(after.length, before.length);
    for (const [i, y] of before.entries())
      assert.ok(Math.abs(after[i] - y) <= Math.abs(y) * 5e-7, `${after[i]} vs ${y}`);
  });

  it("carries the config, the timeline of changes and the facts of the export", () => {
    const html = reportHtml({ data: data(), script: "", title: "t" });
    const back = parseReportJson(dataElementText(html));
    assert.equal(back.createdAt, "2026-12-03T19:30:00.000Z");
    assert.equal(back.generator, "GradCraft Studio 0.1.0");
    const run = back.runs[0];
    assert.deepEqual((run.config as { training: unknown }).training, { learningRate: 0.001 });
    assert.deepEqual(
      run.snapshot.markers.map((m) => [m.step, m.kind]),
      [
        [40, "strategy"],
        [70, "hyperparameters"],
      ],
    );
    assert.match(run.snapshot.markers[0].label, /pcgrad/);
    assert.match(run.snapshot.markers[1].label, /learningRate/);
    assert.match(html, /<noscript><p>tiny: made 2026-12-03T19:30:00.000Z by GradCraft Studio 0\.1\.0/);
  });

  it("is offered under the run's name, or the runs compared, in characters any file system takes", () => {
    assert.equal(reportFileName(["gradcraft-k3f9"]), "gradcraft-k3f9-report.html");
    assert.equal(reportFileName(["a b", "c/d"]), "a_b-vs-c_d-report.html");
    assert.equal(reportFileName([HOSTILE]), "script_script_alert_1_script-report.html");
    assert.equal(reportFileName(["///"]), "gradcraft-report.html");
  });
});
