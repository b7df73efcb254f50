import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parse } from "csv-parse/sync";
import type { WebviewToHost } from "../../../src/panel/messages";
import { RunModel } from "../../../src/panel/runModel";
import type { Card } from "../../../webview/cards/card";
import { compareCsv, Exporter } from "../../../webview/export";
import { fakeRun } from "../../webview/fakeRun";

function runOf(label: string, seed: number): RunModel {
  const model = new RunModel(label, label);
  for (const message of fakeRun({ tasks: ["a", "b"], steps: 20, seed })) model.ingest(message);
  return model;
}

function exporter(runs: RunModel[], cards: Record<string, Partial<Card>> = {}) {
  const posted: WebviewToHost[] = [];
  const exports = new Exporter({
    runs: () => runs,
    card: (id) => cards[id] as Card | undefined,
    post: (message) => posted.push(message),
  });
  return { exports, posted };
}

describe("the panel's exports", () => {
  it("one run's chart CSV asks the host for that chart's series", () => {
    const run = runOf("r", 1);
    const { exports, posted } = exporter([run], {
      loss: { csvSeries: (r) => r.tasks.map((t) => `loss/${t}`) },
    });
    exports.csv("loss");
    assert.deepEqual(posted, [
      { type: "export-csv", runId: "r", series: ["loss/a", "loss/b"], suggestedName: "loss" },
    ]);
  });

  it("a card without a PNG exports none", () => {
    const { exports, posted } = exporter([runOf("r", 1)], { table: {} });
    exports.png("table");
    exports.png("no-such-card");
    assert.deepEqual(posted, []);
  });

  it("compare mode sends one long-form file with every run's rows under its name", () => {
    const runs = [runOf("gradcraft", 1), runOf("pcgrad", 2)];
    const { exports, posted } = exporter(runs, { loss: { csvSeries: () => ["loss/a"] } });
    exports.csv("loss");
    const message = posted[0];
    assert.ok(message.type === "export-csv" && message.csv !== undefined);
    assert.equal(message.suggestedName, "loss");
    const lines = message.csv.trim().split("\n");
    assert.equal(lines[0], "run,series,step,time_ms,value");
    const rows = lines.slice(1).map((line) => line.split(","));
    assert.deepEqual([...new Set(rows.map((r) => r[0]))], ["gradcraft", "pcgrad"]);
    assert.ok(rows.every((r) => r[1] === "loss/a"));
    assert.equal(
      rows.length,
      runs.reduce((n, r) => n + (r.series.get("loss/a")?.length ?? 0), 0),
    );
  });

  it("a series name with a line break stays one cell, under its run", () => {
    const run = new RunModel("r", "baseline");
    run.seriesFor("loss/a\nb").append(1, 10, 0.5);
    assert.deepEqual(parse(compareCsv([run], () => ["loss/a\nb"])), [
      ["run", "series", "step", "time_ms", "value"],
      ["baseline", "loss/a\nb", "1", "10", "0.5"],
    ]);
  });

  it("a run label with a comma or a quote stays one cell", () => {
    const run = runOf('lr 0.1, "fast"', 1);
    const csv = compareCsv([run], () => ["loss/a"]);
    assert.match(csv.split("\n")[1], /^"lr 0\.1, ""fast""",loss\/a,1,/);
  });
});
