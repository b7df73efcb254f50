import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { TrainerMessage } from "../../src/protocol/messages";
import { type Finished, finished, gradcraft } from "./cli";

/**
 * A real `gradcraft train --protocol stdio` process, as the extension runs it: its messages read
 * from stdout as they come, commands written to its stdin, its exit awaited.
 */
export class LiveTrainer {
  readonly messages: TrainerMessage[] = [];
  readonly exited: Promise<Finished>;
  private readonly child: ChildProcess;

  constructor(args: string[]) {
    this.child = gradcraft(["train", ...args, "--protocol", "stdio"], { stdin: "pipe" });
    this.exited = finished(this.child);
    const stdout = this.child.stdout;
    if (!stdout) throw new Error("the trainer has no stdout pipe");
    createInterface({ input: stdout }).on("line", (line) => this.messages.push(JSON.parse(line)));
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error("the trainer did not start");
    return this.child.pid;
  }

  get runDir(): string {
    const hello = this.messages.find((m) => m.type === "hello");
    if (!hello?.runDir) throw new Error("no hello with a run folder yet");
    return hello.runDir;
  }

  lastStep(): number {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const m = this.messages[i];
      if (m.type === "step") return m.step;
    }
    return 0;
  }

  /** Resolves once a message matches, or fails naming what was awaited when the trainer exits first. */
  async until(what: string, matches: (m: TrainerMessage) => boolean): Promise<TrainerMessage> {
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    for (;;) {
      const found = this.messages.find(matches);
      if (found) return found;
      if (exited) {
        const { code, stderr } = await this.exited;
        throw new Error(`the trainer exited (${code}) before ${what}: ${stderr.slice(-2000)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  untilStep(step: number): Promise<TrainerMessage> {
    return this.until(`step ${step}`, (m) => m.type === "step" && m.step >= step);
  }

  command(command: Record<string, unknown>): void {
    this.child.stdin?.write(`${JSON.stringify({ v: "1.1", ...command })}\n`);
  }

  /** The host goes away: its end of the trainer's stdin closes. */
  closeStdin(): void {
    this.child.stdin?.end();
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }
}

/** The run folder's event log, every line parsed (a torn last line left by kill -9 is skipped). */
export function eventLog(runDir: string): TrainerMessage[] {
  const text = fs.readFileSync(join(runDir, "events.ndjson"), "utf8");
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .flatMap((line) => {
      try {
        return [JSON.parse(line) as TrainerMessage];
      } catch {
        return [];
      }
    });
}

/**
 * The steps a reader keeps of a log that runs were resumed into (docs/protocol.md, "The run
 * folder and replay"): each session starts with a hello; a later session's `resumedFrom.step`
 * supersedes the earlier sessions' steps past it. Written here from the rule, independently of
 * the readers it checks.
 */
export function keptSteps(log: TrainerMessage[]): Array<{ step: number; losses: number[] }> {
  const sessions: Array<{ from: number; steps: Array<{ step: number; losses: number[] }> }> = [];
  for (const m of log) {
    if (m.type === "hello") sessions.push({ from: m.resumedFrom?.step ?? 0, steps: [] });
    else if (m.type === "step") sessions.at(-1)?.steps.push({ step: m.step, losses: m.losses });
  }
  return sessions.flatMap((session, i) => {
    const cut = Math.min(...sessions.slice(i + 1).map((later) => later.from), Number.POSITIVE_INFINITY);
    return session.steps.filter((s) => s.step <= cut);
  });
}

export function readJson(path: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path, "utf8"));
}
