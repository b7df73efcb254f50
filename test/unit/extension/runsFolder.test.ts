import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { deletableRunFolder } from "../../../src/extension/runs/runsFolder";

describe("which run folder Delete Run may remove", () => {
  const base = realpathSync(mkdtempSync(join(tmpdir(), "gc-delete-")));
  after(() => rmSync(base, { recursive: true, force: true }));
  const runs = join(base, "runs");
  const run = join(runs, "20260101-120000-a");
  const outside = join(base, "precious");
  mkdirSync(run, { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(runs, "notes.txt"), "x");
  const reason = (dir: string, root = runs) => {
    const answer = deletableRunFolder(root, dir);
    return answer.ok ? `ok ${answer.path}` : answer.reason;
  };

  it("a folder inside the runs folder, by its real path, also when the runs folder is reached by a link", () => {
    assert.equal(reason(run), `ok ${run}`);
    const linkedRoot = join(base, "runs-link");
    symlinkSync(runs, linkedRoot);
    assert.equal(reason(join(linkedRoot, "20260101-120000-a"), linkedRoot), `ok ${run}`);
  });

  it("refuses anything else, saying why", () => {
    assert.match(reason(outside), /precious is not inside the runs folder .*runs$/);
    assert.match(reason(join(runs, "..", "precious")), /precious is not inside the runs folder/);
    assert.match(reason(runs), /runs is not inside the runs folder/, "the runs folder itself");
    assert.match(reason(join(runs, "notes.txt")), /notes\.txt is not a folder/);
    assert.match(reason(join(runs, "gone")), /gone does not exist/);
    assert.match(reason(run, join(base, "no-runs")), /the runs folder .*no-runs does not exist/);
    const planted = join(runs, "20260101-130000-link");
    symlinkSync(outside, planted);
    assert.match(reason(planted), /20260101-130000-link is a symbolic link/);
  });
});
