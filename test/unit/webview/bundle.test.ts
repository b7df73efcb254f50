import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as esbuild from "esbuild";
import { buildOptions, bundles } from "../../../scripts/bundles.mjs";

/** A panel bundle built exactly as the build makes it (scripts/bundles.mjs), in memory. */
async function build(name: string) {
  const bundle = bundles.find((b) => Object.keys(b.entryPoints).includes(name));
  assert.ok(bundle, `no bundle named ${name}`);
  const result = await esbuild.build({
    ...buildOptions(bundle),
    sourcemap: false,
    write: false,
    metafile: true,
  });
  const js = result.outputFiles.find((f) => f.path.endsWith(".js"));
  assert.ok(js);
  return { text: js.text, inputs: Object.keys(result.metafile.inputs) };
}

describe("the panel bundles", () => {
  it("the shipped panel holds no test hooks; its test twin does", async () => {
    const shipped = await build("webview");
    const testing = await build("webview.test");
    assert.equal(shipped.text.includes("__gradcraft"), false, "dist/webview.js exposes test hooks");
    assert.equal(shipped.text.includes("heatmapCellCenter"), false);
    assert.ok(testing.text.includes("__gradcraft"), "dist/webview.test.js lost its test hooks");
  });

  it("the panel imports nothing of the extension host, the trainer or TensorFlow.js", async () => {
    const { inputs } = await build("webview");
    const forbidden = inputs.filter((path) =>
      /^src\/(extension|trainer|cli)\/|@tensorflow|node_modules\/zod\//.test(path),
    );
    assert.deepEqual(forbidden, []);
    assert.ok(
      inputs.some((path) => path.startsWith("src/panel/")),
      "it does use the shared panel code",
    );
  });
});
