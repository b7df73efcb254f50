export interface Stage {
  name: string;
  cmd?: string[];
  runner?: string;
}
export interface StageResult {
  name: string;
  outcome: "passed" | "NOT RUN" | "FAILED" | string;
  seconds: string;
  why?: string;
}
export const STAGES: Stage[];
export function runStage(stage: Stage, cwd?: string): StageResult;
export function summarize(results: StageResult[], ci?: boolean, print?: (line: string) => void): number;
