import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { findStrategy } from "../../../src/core/strategies/index";
import { paramEntries, parseParam } from "../../../src/extension/commands/paramInput";
import { describeStrategy } from "../../../src/protocol/messages";

describe("strategy parameter input", () => {
  // The schema the trainer publishes in hello, from the shipped GradCraft definition.
  const gradcraft = findStrategy("gradcraft");
  const info = describeStrategy(gradcraft!);
  const params = Object.fromEntries(paramEntries(info.paramsSchema));

  it("the published GradCraft schema lists tau, eps and projection", () => {
    assert.deepEqual(Object.keys(params).sort(), ["eps", "projection", "tau"]);
  });

  it("accepts a value in range and refuses one outside it, naming the bound", () => {
    assert.deepEqual(parseParam("tau", params.tau, "0.3"), { ok: true, value: 0.3 });
    assert.deepEqual(parseParam("tau", params.tau, "1.5"), { ok: false, message: "tau must be ≤ 1" });
    assert.deepEqual(parseParam("eps", params.eps, "-1e-9"), { ok: false, message: "eps must be ≥ 0" });
    assert.deepEqual(parseParam("tau", params.tau, "abc"), {
      ok: false,
      message: 'tau must be a finite number (got "abc")',
    });
  });

  it("enums accept only their options", () => {
    assert.deepEqual(parseParam("projection", params.projection, "local"), { ok: true, value: "local" });
    assert.equal(parseParam("projection", params.projection, "both").ok, false);
  });

  it("integers, exclusive bounds and booleans follow their schema", () => {
    const schema = z.toJSONSchema(
      z.object({ n: z.number().int().positive(), on: z.boolean(), r: z.number().gt(0).lt(1) }),
    ) as Record<string, unknown>;
    const p = Object.fromEntries(paramEntries(schema));
    assert.equal(parseParam("n", p.n, "2.5").ok, false);
    assert.equal(parseParam("n", p.n, "0").ok, false);
    assert.deepEqual(parseParam("n", p.n, "3"), { ok: true, value: 3 });
    assert.deepEqual(parseParam("on", p.on, "false"), { ok: true, value: false });
    assert.equal(parseParam("r", p.r, "1").ok, false);
    assert.deepEqual(parseParam("r", p.r, "0.5"), { ok: true, value: 0.5 });
  });
});
