import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { RunsPageToHost, refuseAction } from "../../../src/panel/runsMessages";

describe("what the runs page may ask the host", () => {
  const shown = new Set(["/runs/a", "/runs/b"]);

  test("an action on rows the page was not sent is refused, naming how many", () => {
    assert.match(
      refuseAction("delete", ["/runs/a", "/etc"], shown) ?? "",
      /1 of the runs asked for is not in the table/,
    );
  });

  test("each action takes its number of rows: compare two or more, open and export one, delete any", () => {
    assert.equal(refuseAction("compare", ["/runs/a", "/runs/b"], shown), null);
    assert.match(refuseAction("compare", ["/runs/a"], shown) ?? "", /select two or more/);
    assert.match(refuseAction("open", ["/runs/a", "/runs/b"], shown) ?? "", /select one/);
    assert.equal(refuseAction("export", ["/runs/b"], shown), null);
    assert.equal(refuseAction("delete", ["/runs/a", "/runs/b"], shown), null);
  });

  test("a message outside the contract does not validate", () => {
    assert.equal(
      RunsPageToHost.safeParse({ type: "run-action", action: "rm", ids: ["/runs/a"] }).success,
      false,
    );
    assert.equal(RunsPageToHost.safeParse({ type: "run-action", action: "open", ids: [] }).success, false);
    assert.equal(RunsPageToHost.safeParse({ type: "ready", extra: 1 }).success, false);
    assert.equal(RunsPageToHost.safeParse({ type: "refresh" }).success, true);
  });
});
