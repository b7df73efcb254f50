import assert from "node:assert/strict";
import * as fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runReport } from "../../../src/cli/report";
import { parseReportJson, REPORT_DATA_ID } from "../../../src/panel/reportData";
import { TRAINER_EXAMPLES } from "../../../src/protocol/examples";
import { type TrainerMessage, PROTOCOL_VERSION as v } from "../../../src/protocol/messages";
import { createRunDir, EventLogWriter, runPaths } from "../../../src/protocol/runlog";

let runs: string;
let bundle: string;
before(() => {
  runs = fs.mkdtempSync(join(tmpdir(), "gc-report-cli-"));
  // The page's app is the Chromium suite's business: here a stand-in marks where it goes.
  bundle = join(runs, "report.js");
  fs.writeFileSync(bundle, "/* the report app */");
});
after(() => fs.rmSync(runs, { recursive: true, force: true }));

function capture() {
  const out = { stdout: "", stderr: "" };
  const io = {
    stdout: (t: string) => {
      out.stdout += t;
    },
    stderr: (t: string) => {
      out.stderr += t;
    },
  };
  return { out, io };
}

/** A run folder as a trainer leaves it: config.json, the event log, and (given) run.json. */
function write(name: string, strategy: string, messages: TrainerMessage[], identity?: object): string {
  const dir = createRunDir(runs, name, new Date(Date.UTC(2026, 11, 3, 19, 30)));
  const config = TRAINER_EXAMPLES.config.type === "config" ? TRAINER_EXAMPLES.config.config : undefined;
  fs.writeFileSync(
    runPaths(dir).config,
    JSON.stringify({ ...config, name, strategy: { name: strategy, params: {} } }),
  );
  if (identity) fs.writeFileSync(join(dir, "run.json"), JSON.stringify(identity));
  const log = new EventLogWriter(runPaths(dir).events);
  for (const m of messages) log.append(m);
  log.close();
  return dir;
}

const switched: TrainerMessage = {
  v,
  type: "strategy-changed",
  step: 50,
  name: "pcgrad",
  params: { seed: 1 },
  previous: { name: "gradcraft", params: {} },
  reason: "command",
};

function dataOf(file: string) {
  const html = fs.readFileSync(file, "utf8");
  const open = `id="${REPORT_DATA_ID}">`;
  const start = html.indexOf(open) + open.length;
  return { html, data: parseReportJson(html.slice(start, html.indexOf("</script>", start))) };
}

describe("gradcraft report", () => {
  it("writes one run as the report the extension writes: its name, config, tags, switches and evaluations", async () => {
    const messages = [
      TRAINER_EXAMPLES.hello,
      TRAINER_EXAMPLES.config,
      TRAINER_EXAMPLES.step,
      switched,
      TRAINER_EXAMPLES.eval,
      TRAINER_EXAMPLES.done,
    ];
    const dir = write("one", "gradcraft", messages, {
      name: "my baseline",
      tags: ["kuairand"],
      note: "lr sweep",
    });
    const out = join(runs, "one.html");
    const { out: streams, io } = capture();
    assert.equal(await runReport([dir], { out, generator: "GradCraft Studio 1.2.3", bundle }, io), 0);
    assert.equal(streams.stderr, "");
    assert.match(streams.stdout, new RegExp(`^wrote ${out} \\(\\d+\\.\\d MB\\): my baseline\\n$`));
    const { html, data } = dataOf(out);
    assert.ok(html.includes("<script>/* the report app */</script>"));
    assert.equal(data.generator, "GradCraft Studio 1.2.3");
    const [run] = data.runs;
    assert.equal(run.snapshot.label, "my baseline");
    assert.deepEqual(run.tags, ["kuairand"]);
    assert.equal(run.note, "lr sweep");
    assert.equal(run.folder, dir.split("/").pop());
    assert.equal((run.config as { strategy: { name: string } }).strategy.name, "gradcraft");
    assert.deepEqual(
      run.snapshot.markers.filter((m) => m.kind === "strategy").map((m) => m.step),
      [50],
    );
    const evalMessage = TRAINER_EXAMPLES.eval;
    assert.ok(evalMessage.type === "eval");
    const first = evalMessage.tasks[0];
    assert.equal(run.snapshot.latestEval[`eval/${evalMessage.split}/auc/${first.task}`], first.auc);
    assert.equal(run.snapshot.state, "done");
  });

  it("several runs make a comparison, named after them by default; a log without done reads as stopped", async () => {
    const a = write(
      "alpha",
      "gradcraft",
      [TRAINER_EXAMPLES.hello, TRAINER_EXAMPLES.config, TRAINER_EXAMPLES.step, TRAINER_EXAMPLES.done],
      { name: "alpha" },
    );
    const b = write(
      "beta",
      "pcgrad",
      [TRAINER_EXAMPLES.hello, TRAINER_EXAMPLES.config, TRAINER_EXAMPLES.step],
      { name: "beta" },
    );
    const cwd = process.cwd();
    process.chdir(runs);
    try {
      const { io } = capture();
      assert.equal(await runReport([a, b], { generator: "g", bundle }, io), 0);
    } finally {
      process.chdir(cwd);
    }
    const { data } = dataOf(join(runs, "alpha-vs-beta-report.html"));
    assert.deepEqual(
      data.runs.map((r) => [r.snapshot.label, r.snapshot.state]),
      [
        ["alpha", "done"],
        ["beta", "stopped"],
      ],
    );
  });

  it("a run that is not there is named on stderr, exit 2, and nothing is written", async () => {
    const { out: streams, io } = capture();
    const out = join(runs, "none.html");
    assert.equal(await runReport(["no-such-run"], { out, runsDir: runs, generator: "g", bundle }, io), 2);
    assert.match(streams.stderr, /^gradcraft report: no run "no-such-run" in /);
    assert.equal(fs.existsSync(out), false);
  });
});
