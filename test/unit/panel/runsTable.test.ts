import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RunRow } from "../../../src/panel/runRows";
import {
  bestInColumns,
  filterRows,
  paramsText,
  runsColumns,
  sharedHyper,
  sortRows,
} from "../../../src/panel/runsTable";

/** The table's rules on the smallest rows that show them. */
function row(id: string, fields: Partial<RunRow> & { testAuc?: (number | null)[] } = {}): RunRow {
  const tasks = fields.tasks ?? ["click", "like"];
  const testAuc = fields.testAuc;
  return {
    id,
    folder: id,
    name: id,
    configName: id,
    tags: [],
    note: "",
    startedAt: null,
    status: "completed",
    steps: 10,
    epochs: null,
    wallMs: null,
    tasks,
    model: "ple",
    strategies: [{ step: 0, name: "ew", params: {} }],
    hyper: {},
    changes: [],
    validation: null,
    test: testAuc
      ? {
          split: "test",
          step: 10,
          metrics: {
            tasks: tasks.map((task, t) => ({ task, auc: testAuc[t], gauc: null, logloss: 0.5 })),
            mean: { auc: null, gauc: null, logloss: 0.5 },
          },
        }
      : null,
    dataKey: "",
    problems: [],
    ...fields,
  };
}

describe("runs table", () => {
  test("metric columns name their split and metric; one per task of any row, in first-seen order", () => {
    const columns = runsColumns([row("a"), row("b", { tasks: ["click", "share"] })], "gauc");
    const test = columns.filter((c) => c.key.startsWith("test."));
    assert.deepEqual(
      test.map((c) => [c.group, c.label]),
      [
        ["Test GAUC", "mean"],
        ["Test GAUC", "click"],
        ["Test GAUC", "like"],
        ["Test GAUC", "share"],
      ],
    );
    assert.ok(columns.some((c) => c.group === "Best validation GAUC"));
  });

  test("sorting: numbers by value either way, a missing value last in both directions, ties stable", () => {
    const rows = [
      row("none"),
      row("low", { testAuc: [0.6, 0.5] }),
      row("high", { testAuc: [0.8, 0.5] }),
      row("high-too", { testAuc: [0.8, 0.7] }),
    ];
    const columns = runsColumns(rows, "auc");
    const ids = (descending: boolean) =>
      sortRows(rows, columns, { column: "test.auc.click", descending }).map((r) => r.id);
    assert.deepEqual(ids(false), ["low", "high", "high-too", "none"]);
    assert.deepEqual(ids(true), ["high", "high-too", "low", "none"]);
  });

  test("sorting text orders numbers inside it numerically (run-9 before run-10)", () => {
    const rows = [row("run-10"), row("run-9"), row("Run-1")];
    const sorted = sortRows(rows, runsColumns(rows, "auc"), { column: "name", descending: false });
    assert.deepEqual(
      sorted.map((r) => r.id),
      ["Run-1", "run-9", "run-10"],
    );
  });

  test("filtering: every term must match; field:text narrows; -term excludes", () => {
    const rows = [
      row("a", { tags: ["baseline"], strategies: [{ step: 0, name: "gradcraft", params: {} }] }),
      row("b", { tags: ["sweep"], status: "failed" }),
      row("c", { note: "tried a baseline idea" }),
    ];
    const ids = (query: string) => filterRows(rows, query).map((r) => r.id);
    assert.deepEqual(ids(""), ["a", "b", "c"]);
    assert.deepEqual(ids("baseline"), ["a", "c"], "bare terms search every field, the note too");
    assert.deepEqual(ids("tag:baseline"), ["a"]);
    assert.deepEqual(ids("strategy:GRAD"), ["a"], "case-insensitive");
    assert.deepEqual(ids("-status:failed"), ["a", "c"]);
    assert.deepEqual(ids("baseline -tag:baseline"), ["c"]);
  });

  test("the best row per metric column; log loss lower is better; a column one row has is not ranked", () => {
    const rows = [
      row("a", { testAuc: [0.7, null] }),
      row("b", { testAuc: [0.9, 0.6] }),
      row("c", { testAuc: [0.9, null] }),
    ];
    const best = bestInColumns(rows, runsColumns(rows, "auc"));
    assert.deepEqual([...(best.get("test.auc.click") ?? [])], ["b", "c"], "ties all win");
    assert.equal(best.has("test.auc.like"), false);
    const loss = bestInColumns(
      [row("x", { testAuc: [0.5, 0.5] }), row("y")],
      runsColumns([row("x", { testAuc: [0.5, 0.5] })], "logloss"),
    );
    assert.equal(loss.has("test.logloss.click"), false, "only x has a value");
  });

  test("parameters read the same whatever order the strategy listed them in", () => {
    const a = row("a", {
      strategies: [{ step: 0, name: "gradcraft", params: { tau: 0.5, epsilon: 1e-10 } }],
    });
    const b = row("b", {
      strategies: [{ step: 0, name: "gradcraft", params: { epsilon: 1e-10, tau: 0.5 } }],
    });
    assert.equal(paramsText(a), "epsilon=1.0e-10, tau=0.5");
    assert.equal(paramsText(a), paramsText(b));
  });

  test("hyperparameters equal in every run are stated once, not as a column; one changed mid-run stays a column", () => {
    const rows = [
      row("a", { hyper: { batchSize: 64, learningRate: 0.01, seed: 1 } }),
      row("b", {
        hyper: { batchSize: 64, learningRate: 0.01, seed: 2 },
        changes: [{ step: 5, name: "learningRate", from: 0.01, to: 0.005 }],
      }),
    ];
    assert.deepEqual(sharedHyper(rows), { batchSize: 64 });
    const hyperColumns = runsColumns(rows, "auc").filter((c) => c.key.startsWith("hyper."));
    assert.deepEqual(
      hyperColumns.map((c) => [c.key, c.value(rows[1])]),
      [
        ["hyper.learningRate", 0.005],
        ["hyper.seed", 2],
      ],
    );
    assert.deepEqual(sharedHyper([rows[0]]), {}, "one run: every value is a column");
  });
});
