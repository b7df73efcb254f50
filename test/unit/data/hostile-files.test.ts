import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { FileDataConfig } from "../../../src/protocol/config";
import { loadDataset } from "../../../src/trainer/data";

const dir = fs.mkdtempSync(join(tmpdir(), "gradcraft-hostile-"));
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const config = (path: string, extra: Record<string, unknown> = {}) =>
  FileDataConfig.parse({
    source: "file",
    path,
    format: "csv",
    features: ["user", "item"],
    labels: ["click"],
    userColumn: "user",
    split: { by: "ratio", validation: 0, test: 0 },
    ...extra,
  });
const load = (c: FileDataConfig) => loadDataset(c, { baseDir: dir });

describe("file loader: files that must not be read", () => {
  it("refuses a device such as /dev/zero instead of reading it forever", async () => {
    await assert.rejects(load(config("/dev/zero")), {
      message: "/dev/zero: not a regular file (a device): refused",
    });
  });

  it("refuses a FIFO (as a log, a test file or a side table) without waiting for a writer", async () => {
    const fifo = join(dir, "log.csv");
    execFileSync("mkfifo", [fifo]);
    const plain = join(dir, "plain.csv");
    fs.writeFileSync(plain, "user,item,click\nu,i,1\n");
    await assert.rejects(load(config(fifo)), /log\.csv: not a regular file \(a FIFO\): refused/);
    await assert.rejects(
      load(config(plain, { split: { by: "files", testPath: fifo } })),
      /log\.csv: not a regular file \(a FIFO\)/,
    );
    await assert.rejects(
      load(config(plain, { joins: [{ path: fifo, key: "item", features: ["x"] }] })),
      /log\.csv: not a regular file \(a FIFO\)/,
    );
  });
});

describe("file loader: broken quotes", () => {
  const header = "user,item,click\n";

  it("a quote never closed is reported at the line it opened on, not at the end of the file", async () => {
    const body = ["u1,a,1", 'u2,"b,0', "u3,c,1", "u4,d,0", "u5,e,1"].join("\n");
    const path = join(dir, "open.csv");
    fs.writeFileSync(path, `${header}${body}\n`);
    await assert.rejects(load(config(path)), (e: Error) => {
      assert.match(e.message, new RegExp(`^${path}:3: a quote opened on this line is never closed`));
      return true;
    });
  });

  it("finds the opening line past blank lines and earlier multi-line fields of the same record", async () => {
    // Line 4 holds a field quoted over two lines (closed on line 5); line 5's next quote never closes.
    const text = `${header}u1,a,1\n\n"u2\nx","b,1\nu3,c,0\n`;
    const path = join(dir, "late.csv");
    fs.writeFileSync(path, text);
    await assert.rejects(load(config(path)), (e: Error) =>
      e.message.startsWith(`${path}:5: a quote opened on this line`),
    );
  });

  it("a quoted field that closes badly is reported where its quote opened", async () => {
    const path = join(dir, "closing.csv");
    fs.writeFileSync(path, `${header}u1,a,1\nu2,"b\nb"x,0\nu3,c,1\n`);
    await assert.rejects(load(config(path)), (e: Error) => {
      assert.match(e.message, new RegExp(`^${path}:3: the quoted field opened on this line closes badly`));
      return true;
    });
  });
});
