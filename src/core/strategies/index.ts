import type { StrategyDefinition } from "../strategy";
import { alignedMtl } from "./aligned-mtl";
import { cagrad } from "./cagrad";
import { dbMtl } from "./db-mtl";
import { dwa } from "./dwa";
import { ew } from "./ew";
import { gradcraft } from "./gradcraft";
import { gradnorm } from "./gradnorm";
import { gradvac } from "./gradvac";
import { imtlG } from "./imtl-g";
import { mgda } from "./mgda";
import { nashMtl } from "./nash-mtl";
import { pcgrad } from "./pcgrad";
import { pcgradPlus } from "./pcgrad-plus";
import { single } from "./single";
import { upgrad } from "./upgrad";
import { uw } from "./uw";

/** Every strategy we ship, by name. Add one line per strategy module. */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds strategies of every parameter and state type.
export const strategies: ReadonlyArray<StrategyDefinition<any, any>> = [
  ew,
  gradcraft,
  single,
  pcgrad,
  pcgradPlus,
  mgda,
  cagrad,
  imtlG,
  alignedMtl,
  gradvac,
  dbMtl,
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
