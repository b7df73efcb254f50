import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import { toCsv as runExportCsv } from "../../../src/extension/runs/exportCsv";
import { csvField, csvRow } from "../../../src/panel/csv";
import { RunModel } from "../../../src/panel/runModel";
import { compareCsv } from "../../../webview/export";
import { fakeRun, helloMessage } from "../../webview/fakeRun";

/** What a spreadsheet reads back from one CSV line. */
const cells = (line: string): string[] => parse(line, { relax_column_count: true })[0];

describe("CSV cells (every export: a run's, a chart's, a comparison's)", () => {
  it("text a spreadsheet would run as a formula is written inert, with a quote mark first", () => {
    for (const text of ["=1+2", "+1", "-x", "@SUM(A1:A9)", "\tx", "\rx", '=HYPERLINK("http://e","x")']) {
      const [cell] = cells(csvField(text));
      assert.equal(cell, `'${text}`, JSON.stringify(text));
    }
    assert.equal(csvField("loss/a"), "loss/a", "ordinary text is left alone");
    assert.equal(csvField("a=b-c"), "a=b-c", "only the first character matters");
  });

  it("quotes a cell with a quote, a comma, a newline or a bare carriage return", () => {
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField("a,b"), '"a,b"');
    assert.equal(csvField("a\nb"), '"a\nb"');
    assert.equal(csvField("a\rb"), '"a\rb"');
    assert.deepEqual(cells(csvRow(["a\rb", "c"])), ["a\rb", "c"]);
  });

  it("numbers are values, not text: a negative number stays a number", () => {
    assert.equal(csvField(-0.25), "-0.25");
    assert.equal(csvRow(["loss/a", 3, -1e-7]), "loss/a,3,-1e-7");
  });

  it("a run's export, a chart's export and a comparison write a cell the same way", () => {
    const tasks = ["a\rb", "c"];
    const stream = [...fakeRun({ tasks, steps: 3 })];
    const model = new RunModel("r", "=1+2");
    for (const message of stream) model.ingest(message);
    const name = "loss/a\rb";
    const written = csvField(name);
    assert.equal(written, '"loss/a\rb"');
    const chart = model.toCsv([name]);
    assert.ok(chart.split("\n")[1].startsWith(`${written},1,`), JSON.stringify(chart));
    const run = runExportCsv([helloMessage(tasks), ...stream.filter((m) => m.type === "step")]);
    assert.ok(run.includes(`\n${written},1,`), "the run export writes the same cell");
    const comparison = compareCsv([model], () => [name]);
    const row = parse(comparison)[1];
    assert.deepEqual(row.slice(0, 3), ["'=1+2", name, "1"], "the run's label is inert");
  });
});
