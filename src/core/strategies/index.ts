import type { StrategyDefinition } from "../strategy";
import { dwa } from "./dwa";
import { ew } from "./ew";
import { gradnorm } from "./gradnorm";
import { nashMtl } from "./nash-mtl";
import { upgrad } from "./upgrad";
import { uw } from "./uw";

/** Every strategy we ship, by name. Add one line per strategy module. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds strategies of every parameter and state type.
export const strategies: ReadonlyArray<StrategyDefinition<any, any>> = [
  ew,
  uw,
  dwa,
  gradnorm,
  nashMtl,
  upgrad,
];

// biome-ignore lint/suspicious/noExplicitAny: see above.
export function findStrategy(name: string): StrategyDefinition<any, any> | undefined {
  return strategies.find((s) => s.name === name);
}
