import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  configChoice,
  isTaskParam,
  strategyChoices,
  taskChoices,
} from "../../../src/extension/commands/choices";
import type { StrategyInfo } from "../../../src/protocol/messages";

describe("Start Training's config choice", () => {
  it("starts the workspace's only config without a question when it is the open one", () => {
    assert.deepEqual(configChoice(["/w/a.gradcraft.json"], "/w/a.gradcraft.json"), {
      start: "/w/a.gradcraft.json",
    });
    // Found twice (on disk and in the open editor): still the only one.
    assert.deepEqual(configChoice(["/w/a.gradcraft.json", "/w/a.gradcraft.json"], "/w/a.gradcraft.json"), {
      start: "/w/a.gradcraft.json",
    });
  });

  it("asks when the only config is not the open one, or when there are several, each listed once, the open one first", () => {
    assert.deepEqual(configChoice(["/w/a.gradcraft.json"], undefined), { ask: ["/w/a.gradcraft.json"] });
    assert.deepEqual(
      configChoice(
        ["/w/a.gradcraft.json", "/w/b.gradcraft.json", "/w/b.gradcraft.json"],
        "/w/b.gradcraft.json",
      ),
      {
        ask: ["/w/b.gradcraft.json", "/w/a.gradcraft.json"],
      },
    );
    assert.deepEqual(configChoice([], undefined), { ask: [] });
  });
});

describe("the strategy picker", () => {
  const info = (name: string): StrategyInfo =>
    ({
      name,
      title: name.toUpperCase(),
      summary: `${name} summary`,
      citation: "",
      paramsSchema: {},
      defaults: {},
    }) as unknown as StrategyInfo;
  const list = ["ew", "gradcraft", "pcgrad", "single"].map(info);

  it("opens on the running strategy and marks it", () => {
    const { items, active } = strategyChoices(list, "pcgrad");
    assert.equal(active, 2);
    assert.equal(items[active].description, "pcgrad (running)");
    assert.deepEqual(
      items.map((i) => i.info.name),
      ["ew", "gradcraft", "pcgrad", "single"],
    );
  });

  it("opens on the first when the running strategy is not offered", () => {
    assert.equal(strategyChoices(list, "unknown").active, 0);
  });

  it("offers the run's task names for a task-index parameter, the current task picked", () => {
    assert.ok(isTaskParam({ type: "integer", unit: "task index" }));
    assert.ok(!isTaskParam({ type: "integer", unit: "steps" }));
    const choices = taskChoices(["click", "like", "follow"], 1);
    assert.deepEqual(
      choices.map((c) => [c.label, c.index, c.picked]),
      [
        ["click", 0, false],
        ["like", 1, true],
        ["follow", 2, false],
      ],
    );
  });
});
