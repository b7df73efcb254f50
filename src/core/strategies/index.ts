import type { StrategyDefinition } from "../strategy";
import { ew } from "./ew";

/** Every strategy we ship, by name. Add one line per strategy module. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds strategies of every parameter and state type.
export const strategies: ReadonlyArray<StrategyDefinition<any, any>> = [ew];

// biome-ignore lint/suspicious/noExplicitAny: see above.
export function findStrategy(name: string): StrategyDefinition<any, any> | undefined {
  return strategies.find((s) => s.name === name);
}
