import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { PanelFeed } from "../../src/extension/panel/feed";
import { routeWebviewMessage } from "../../src/extension/panel/webviewRouter";
import { RunModel } from "../../src/panel/runModel";
import { fakeRun } from "./fakeRun";
import { chromiumPanels, type PanelWindow, waitFrames } from "./harness";

/** A live run at trainer speed in Chromium: the host's feed with real timers, the panel keeping up. */

const { openPanel } = chromiumPanels();

describe("a live panel in Chromium", () => {
  it("keeps up with a fast trainer: a 10,000-step burst, then 4,000 steps/s, shown to the last step, the history whole", async () => {
    const { page, errors } = await openPanel("dark", "dashboard");
    const model = new RunModel("fast", "fast", { maxPoints: 400 });
    const sent: string[] = [];
    let unconfirmed = 0;
    let mostUnconfirmed = 0;
    // As in VS Code: the host's postMessage does not wait for the panel (real timers, no hand
    // delivery), and what the panel posts back goes through the router.
    const feed = new PanelFeed(
      model,
      (message) => {
        sent.push(message.type);
        unconfirmed++;
        mostUnconfirmed = Math.max(mostUnconfirmed, unconfirmed);
        void page
          .evaluate((m) => window.postMessage(m, "*"), JSON.parse(JSON.stringify(message)))
          .catch(() => {});
      },
      {},
      "dashboard",
    );
    await page.exposeFunction("__toHost", (raw: unknown) =>
      routeWebviewMessage(raw, {
        runId: model.runId,
        runLabel: model.label,
        canCommand: false,
        post: () => {},
        ready: () => feed.ready(),
        applied: () => {
          unconfirmed--;
          feed.applied();
        },
        save: async () => undefined,
        exportRun: async () => {},
        seriesCsv: () => undefined,
        openDashboard: async () => {},
        exportReport: async () => undefined,
        warn: (reason) => assert.fail(reason),
      }),
    );
    await page.evaluate(() => {
      const w = window as unknown as { __posted: unknown[]; __toHost(m: unknown): void };
      const list = w.__posted;
      list.push = (...items: unknown[]) => {
        for (const m of items) w.__toHost(m);
        return Array.prototype.push.apply(list, items);
      };
    });
    const shownStep = () =>
      page.evaluate(() => {
        for (const fact of document.querySelectorAll(".fact"))
          if (fact.firstChild?.textContent?.trim() === "step")
            return Number(fact.querySelector("b")?.textContent);
        return -1;
      });
    const stream = [...fakeRun({ steps: 14_000, seed: 5, evalEvery: 1000, spikeAt: 4321 })];
    const burstEnd = stream.findIndex((m) => m.type === "step" && m.step === 10_000) + 1;
    feed.ready();
    await page.waitForFunction(() => (window as unknown as PanelWindow).__gradcraft.runs().length === 1);

    // The burst, as a fast link hands it over: one synchronous run of messages.
    for (const m of stream.slice(0, burstEnd)) feed.push(m);
    await page.waitForFunction(
      () => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.step === 10_000,
      undefined,
      { timeout: 20_000 },
    );
    assert.ok(sent.length <= 3, `the burst came as ${sent.join(", ")}`);

    // Then 4,000 steps/s for a second: 40 steps every 10 ms. Meanwhile, at moments when every
    // card on screen has had its redraw, they all show one latest step: the charts of every
    // step's series and the heatmap, whichever frame of the redraw drew each.
    const perStep = ["loss", "norm", "weight", "conflicting-pairs", "update-cosine", "step-time"];
    const sample = () =>
      page.evaluate(
        (ids) =>
          new Promise<{ pending: boolean; charts: Record<string, number>; heatmap: number }>((resolve) => {
            let frames = 0;
            const look = () => {
              const { pending, charts } = (window as unknown as PanelWindow).__gradcraft.latestSteps(ids);
              if (pending && ++frames < 120) return void requestAnimationFrame(look);
              const caption = document.querySelector("#heatmap-caption")?.textContent ?? "";
              resolve({ pending, charts, heatmap: Number(/^Step (\d+)\./.exec(caption)?.[1]) });
            };
            look();
          }),
        perStep,
      );
    const samples: Awaited<ReturnType<typeof sample>>[] = [];
    let feeding = true;
    const sampling = (async () => {
      while (feeding) samples.push(await sample());
    })();
    const rest = stream.slice(burstEnd);
    for (let i = 0; i < rest.length; i += 40) {
      for (const m of rest.slice(i, i + 40)) feed.push(m);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    feeding = false;
    await sampling;
    await page.waitForFunction(
      () => (window as unknown as PanelWindow).__gradcraft.runs()[0]?.step === 14_000,
      undefined,
      { timeout: 20_000 },
    );
    await waitFrames(page, 2);
    assert.equal(await shownStep(), 14_000, "the header shows the last step sent");
    const settled = samples.filter((s) => !s.pending);
    assert.ok(settled.length >= 3, `only ${settled.length} of ${samples.length} samples between redraws`);
    for (const s of settled) {
      const steps = new Set([...Object.values(s.charts), s.heatmap]);
      assert.ok(Object.keys(s.charts).length >= 4, `the charts on screen: ${JSON.stringify(s)}`);
      assert.equal(steps.size, 1, `one latest step on every chart and the heatmap: ${JSON.stringify(s)}`);
    }
    assert.ok(mostUnconfirmed <= 2, `${mostUnconfirmed} deltas were waiting in the panel at once`);
    // The panel's mirror is the host's model: every kept extreme (the spike too) with its step.
    const mirror = await page.evaluate(() =>
      JSON.stringify(
        (window as unknown as { __gradcraft: { runs(): { toSnapshot(): unknown }[] } }).__gradcraft
          .runs()[0]
          .toSnapshot(),
      ),
    );
    assert.deepEqual(JSON.parse(mirror), JSON.parse(JSON.stringify(model.toSnapshot())));
    assert.ok(
      model.series
        .get("loss/click")
        ?.points()
        .some((p) => p.x === 4321 && p.y === 50),
    );
    assert.deepEqual(errors, []);
    await page.close();
  });
});
