import * as fs from "node:fs";
import type { AttachRequest, TrainerMessage } from "../messages";
import { monotoneLines } from "../resumes";

/**
 * The run so far, for a client that attaches mid-run: the event log as it stands (or, for a
 * trainer without a run folder, the run's preamble alone). Read synchronously, so that the
 * server can hand it over in the same tick as the client joins the live stream (LinkServer's
 * `join`): no gap, no duplicate.
 */
export class RunReplay {
  /** hello, config and the strategy in force: context for a replay of the log's tail. */
  private readonly preamble = new Map<string, string>();

  constructor(private readonly logPath: string | null) {}

  /** Called for every message sent, after it was appended to the log. */
  remember(message: TrainerMessage, line: string): void {
    if (message.type === "hello" || message.type === "config" || message.type === "strategy-changed")
      this.preamble.set(message.type, line);
  }

  /** The lines to replay for `mode`, as one text, and how many they are. */
  read(mode: AttachRequest["replay"]): { text: string; count: number } {
    if (mode === "none") return { text: "", count: 0 };
    let text: string;
    if (this.logPath) {
      try {
        text = fs.readFileSync(this.logPath, "utf8");
      } catch {
        text = "";
      }
    } else text = [...this.preamble.values()].join("");
    // Only whole lines: the appender writes whole lines, but be strict anyway.
    text = text.slice(0, text.lastIndexOf("\n") + 1);
    // Of a resumed run, the records the resume redid are left out: steps never go backwards.
    let lines = monotoneLines(text.length > 0 ? text.slice(0, -1).split("\n") : []);
    if (typeof mode === "number" && lines.length > mode) {
      // The tail, plus the run's preamble (hello, config, the strategy in force) for context.
      const tail = lines.slice(lines.length - mode);
      const head = [...this.preamble.values()].map((l) => l.slice(0, -1)).filter((l) => !tail.includes(l));
      lines = [...head, ...tail];
    }
    return { text: lines.length > 0 ? lines.join("\n") + "\n" : "", count: lines.length };
  }
}
