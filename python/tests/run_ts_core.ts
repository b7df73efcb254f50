// Runs the TypeScript core's strategies on sequences of Gram matrices for the Python
// cross-implementation test (test_cross_implementation.py): JSON on stdin, JSON on stdout.
// Input: {"cases": [{"strategy", "params", "k", "steps": [{"gram": [[...]], "losses": [...]}]}]}.
// Output: per case, per step: weights, towerWeights, flags, the state after the step and the
// step's diagnostics.
import { readFileSync } from "node:fs";
import { parseStrategyParams, requireStrategy } from "../../src/core/combine";
import { diagnose } from "../../src/core/diagnostics";

interface Case {
  strategy: string;
  params: Record<string, unknown>;
  k: number;
  steps: { gram: number[][]; losses: number[] }[];
}

const input = JSON.parse(readFileSync(0, "utf8")) as { cases: Case[] };
const results = input.cases.map((c) => {
  const definition = requireStrategy(c.strategy);
  const params = parseStrategyParams(definition, c.params);
  let state = definition.init(c.k, params);
  return c.steps.map((s, index) => {
    const gram = Float64Array.from(s.gram.flat());
    const result = definition.step(
      { k: c.k, gram, losses: Float64Array.from(s.losses), step: index + 1 },
      params,
      state,
    );
    state = result.state;
    return {
      weights: Array.from(result.weights),
      towerWeights: result.towerWeights ? Array.from(result.towerWeights) : null,
      flags: result.flags ?? [],
      state,
      diagnostics: diagnose(c.k, gram, result.weights),
    };
  });
});
process.stdout.write(JSON.stringify({ results }));
