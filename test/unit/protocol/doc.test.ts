import assert from "node:assert/strict";
import * as fs from "node:fs";
import { describe, it } from "node:test";
import { DOC_PATH, renderMessageTables, updateDocument } from "../../../src/protocol/doc";
import { HOST_COMMAND_TYPES, PROTOCOL_VERSION, TRAINER_MESSAGE_TYPES } from "../../../src/protocol/messages";

const doc = fs.readFileSync(DOC_PATH, "utf8");
const version = PROTOCOL_VERSION.replace(".", "\\.");

describe("docs/protocol.md", () => {
  it("documents every message and command type with a table and an example", () => {
    for (const type of [...TRAINER_MESSAGE_TYPES, ...HOST_COMMAND_TYPES, "attach"]) {
      const heading = doc.indexOf(`### \`${type}\` (`);
      assert.ok(heading >= 0, `no section for "${type}"`);
      const body = doc.slice(heading, doc.indexOf("\n### ", heading + 1));
      assert.match(body, /\| field \| type \| required \| meaning \|/, `"${type}" has no field table`);
      assert.match(
        body,
        new RegExp(`\`\`\`json\\n\\{"v":"${version}","type":"${type}"`),
        `"${type}" has no example`,
      );
    }
  });

  it("its generated tables match the definitions (regenerate: npx tsx src/protocol/doc.ts)", () => {
    assert.equal(updateDocument(doc), doc);
    assert.ok(renderMessageTables().includes("`coalesced`"));
  });

  it("its version table names the current version", () => {
    assert.match(doc, new RegExp(`The current version is \\*\\*${version}\\*\\*`));
  });
});
