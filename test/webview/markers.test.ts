import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { artifacts, assertLaneClear, chromiumPanels, hostFor, type PanelWindow } from "./harness";

/** Timeline markers in Chromium: short labels in a lane above the plot, never over data or each other. */

const { openPanel } = chromiumPanels();

/** Switches every 15 steps from step 200: far more labels than a chart has room for. */
const CROWDED = Object.fromEntries(
  Array.from({ length: 20 }, (_, i) => [
    200 + 15 * i,
    i % 2 === 0
      ? { name: "cagrad", params: { c: 0.5, rescale: 1 } }
      : { name: "gradcraft", params: { tau: 0.5, epsilon: 0.001 } },
  ]),
);

describe("timeline markers in Chromium", () => {
  it("a crowded timeline: short labels in the lane, no two intersecting, none over the plot; the full text on hover", async () => {
    const { page, errors } = await openPanel("dark", "dashboard", 1100, 1400);
    await hostFor(page, "dashboard", "run-1", 1, CROWDED).showAll();
    for (const id of ["loss", "norm", "auc"]) {
      const boxes = await assertLaneClear(page, id);
      assert.ok(boxes.length >= 3, `${id}: ${boxes.length} labels shown`);
      assert.ok(
        boxes.every((b) => b.text.length <= 18),
        `short labels: ${boxes.map((b) => b.text)}`,
      );
    }
    const styles = await page.evaluate(() =>
      (window as unknown as PanelWindow).__gradcraft.markerStyles("loss"),
    );
    assert.equal(styles.length, 20, "every switch keeps its line");
    assert.ok(styles.at(-1)?.labelled, "the latest switch is labelled");
    assert.ok(
      styles.some((m) => !m.labelled),
      "more labels than room: some are left out rather than drawn over each other",
    );

    // Hover a label: the canvas' title is the marker's full text.
    const lane = await page.evaluate(() => (window as unknown as PanelWindow).__gradcraft.laneBoxes("loss"));
    assert.ok(lane);
    const box = lane.boxes[0];
    await page.mouse.move(box.left + box.width / 2, box.top + box.height / 2);
    const title = await page.getAttribute('[data-card="loss"] canvas', "title");
    assert.equal(title, box.detail);
    assert.match(title ?? "", /^→ (cagrad \(c=0\.5, rescale=1\)|gradcraft \(tau=0\.5, epsilon=0\.001\))$/);
    await page.screenshot({
      path: join(artifacts, "markers-crowded-dark.png"),
      clip: { x: 0, y: 0, width: 1100, height: 700 },
    });
    assert.deepEqual(errors, []);
    await page.close();
  });
});
