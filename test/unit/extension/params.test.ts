import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { findStrategy } from "../../../src/core/strategies/index";
import { isOptionalParam, paramEntries, parseParam } from "../../../src/extension/commands/paramInput";
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

describe("optional strategy parameters", () => {
  const pcgrad = describeStrategy(findStrategy("pcgrad")!);
  const entries = Object.fromEntries(paramEntries(pcgrad.paramsSchema));

  it("PCGrad's replayed orders may be left out, and when given must be JSON lists", () => {
    assert.ok("orders" in entries, `pcgrad params: ${Object.keys(entries)}`);
    assert.equal(isOptionalParam(pcgrad.paramsSchema, "orders", entries.orders), true);
    assert.deepEqual(parseParam("orders", entries.orders, "", true), { ok: true, value: undefined });
    assert.deepEqual(parseParam("orders", entries.orders, "[[1,2],[0,2],[0,1]]", true), {
      ok: true,
      value: [
        [1, 2],
        [0, 2],
        [0, 1],
      ],
    });
    assert.equal(parseParam("orders", entries.orders, "1,2", true).ok, false);
    assert.deepEqual(parseParam("orders", entries.orders, '"1,2"', true), {
      ok: false,
      message: "orders must be a JSON list",
    });
  });

  it("a parameter with a default is not optional: an empty value is refused", () => {
    const gradcraft = describeStrategy(findStrategy("gradcraft")!);
    const tau = Object.fromEntries(paramEntries(gradcraft.paramsSchema)).tau;
    assert.equal(isOptionalParam(gradcraft.paramsSchema, "tau", tau), false);
    assert.equal(parseParam("tau", tau, "", false).ok, false);
  });
});
