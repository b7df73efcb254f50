import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Page } from "playwright-core";
import { parseWebviewMessage, toHostCommand } from "../../src/panel/messages";
import { TRAINER_EXAMPLES } from "../../src/protocol/examples";
import type { StepMessage } from "../../src/protocol/messages";
import { DEFAULT_TASKS } from "./fakeRun";
import { artifacts, chromiumPanels, hostFor, LAST, posted, SWITCH_AT, waitFrames } from "./harness";

/** The insights card in Chromium: its text from the run's figures, and Apply posting the switch. */

const { openPanel } = chromiumPanels();

const insight = async (page: Page, name: string) =>
  ((await page.textContent(`[data-insight="${name}"]`)) ?? "").trim();

/**
 * The most conflicting pair of the last 200 steps and its share, counted here from the stream's
 * step messages (to six decimals, as the run model keeps cosines).
 */
function topPair(stream: ReturnType<typeof hostFor>["stream"]) {
  const steps = stream.filter((m): m is StepMessage => m.type === "step").slice(-200);
  const k = DEFAULT_TASKS.length;
  let best = { a: "", b: "", count: -1 };
  for (let i = 0; i < k; i++)
    for (let j = i + 1; j < k; j++) {
      const count = steps.filter((s) => Math.round(s.cosines[i * k + j] * 1e6) / 1e6 < 0).length;
      if (count > best.count) best = { a: DEFAULT_TASKS[i], b: DEFAULT_TASKS[j], count };
    }
  return { ...best, percent: Math.round((best.count / steps.length) * 100) };
}

describe("the insights card in Chromium", () => {
  it("the Conflicts view says which pairs conflict, how unequal the norms are and what to switch to; Apply posts the switch", async () => {
    const { page, errors } = await openPanel("dark", "conflicts", 360, 1300);
    // The fake run's tasks 3.. pull against 0..2, and its norms grow with the task's index; it
    // switched to PCGrad at step 300, which projects the conflicts but leaves the magnitudes.
    const host = hostFor(page, "conflicts");
    await host.showAll();
    const top = topPair(host.stream);
    assert.ok(top.percent >= 30, `the fake run conflicts (${JSON.stringify(top)})`);
    assert.equal(await insight(page, "window"), `Over the last 200 steps (${LAST - 199}–${LAST}).`);
    const pairs = await insight(page, "pairs");
    assert.ok(pairs.startsWith(`Conflicts (share of steps): ${top.a} ↔ ${top.b} ${top.percent} %`), pairs);
    assert.match(
      await insight(page, "norms"),
      /^Gradient norms \d+(\.\d)?× apart: \w+ largest \(.+\), \w+ smallest \(.+\)\.$/,
    );
    const advice = await insight(page, "suggestion");
    assert.ok(advice.startsWith("Suggested: gradcraft (τ = 0.5, epsilon = 0). "), advice);
    assert.ok(
      advice.includes(`${top.a} and ${top.b} conflict in ${top.percent} % of the last 200 steps`),
      advice,
    );
    await page.screenshot({ path: join(artifacts, "insights-conflicts-dark.png"), fullPage: true });

    // Apply: the same set-strategy command the switch form sends, waiting for the trainer's ack.
    const apply = page.locator('button[data-control="apply-suggestion"]');
    assert.equal(await apply.isDisabled(), false);
    await apply.click();
    const sent = (await posted(page)).filter((m) => m.type === "command");
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0].command, {
      type: "set-strategy",
      name: "gradcraft",
      params: { tau: 0.5, epsilon: 0 },
    });
    const parsed = parseWebviewMessage(sent[0]);
    assert.ok(
      parsed.ok && parsed.message.type === "command" && toHostCommand(parsed.message).ok,
      "the host accepts it",
    );
    assert.equal(await apply.textContent(), "Switching…");
    await page.evaluate((ack) => window.postMessage(ack, "*"), {
      type: "ack",
      id: sent[0].id,
      ok: true,
      step: LAST,
    });
    await page.waitForFunction(
      (step) =>
        document.querySelector('[data-status="apply-suggestion"]')?.textContent ===
        `switched at step ${step}`,
      LAST,
    );
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("once GradCraft runs, nothing is suggested, and says why", async () => {
    const { page, errors } = await openPanel("light", "dashboard", 1400, 1600);
    const host = hostFor(page, "dashboard", "run-1", 1, {
      [SWITCH_AT]: { name: "pcgrad", params: { seed: 0 } },
      [LAST - 1]: { name: "gradcraft", params: { tau: 0.5, epsilon: 0 } },
    });
    await host.showAll();
    await page.locator('[data-card="insights"]').scrollIntoViewIfNeeded();
    await waitFrames(page, 3);
    assert.equal(
      await insight(page, "suggestion"),
      "No switch suggested: gradcraft already evens out the magnitudes and handles the conflicts.",
    );
    assert.equal(await page.isHidden('button[data-control="apply-suggestion"]'), true);
    await page
      .locator('[data-card="insights"]')
      .screenshot({ path: join(artifacts, "insights-dashboard-light.png") });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("a finished run: the suggestion stays, Apply is disabled and says there is no trainer to switch", async () => {
    const { page, errors } = await openPanel("dark", "conflicts", 360, 1300);
    const host = hostFor(page, "conflicts");
    host.stream.push(TRAINER_EXAMPLES.done);
    await host.showAll();
    assert.match(await insight(page, "suggestion"), /^Suggested: gradcraft/);
    assert.equal(await page.isDisabled('button[data-control="apply-suggestion"]'), true);
    assert.equal(await insight(page, "apply-note"), "The run is not live: there is no trainer to switch.");
    assert.deepEqual(errors, []);
    await page.close();
  });

  it("too few steps: the card says how many more it needs", async () => {
    const { page, errors } = await openPanel("dark", "conflicts", 360, 1300);
    const host = hostFor(page, "conflicts");
    // Up to step 30 only: hello, config, the initial strategy and thirty steps.
    const cut = host.stream.findIndex((m) => m.type === "step" && m.step === 30) + 1;
    for (const m of host.stream.slice(0, cut)) host.feed.push(m);
    host.feed.ready();
    await host.deliver();
    await page.waitForFunction(() =>
      document.querySelector('[data-insight="window"]')?.textContent?.startsWith("Needs"),
    );
    assert.equal(await insight(page, "window"), "Needs 20 more steps: 30 of the 50 the figures need so far.");
    assert.equal(await page.isHidden('[data-insight="suggestion"]'), true);
    assert.equal(await page.isHidden('button[data-control="apply-suggestion"]'), true);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
