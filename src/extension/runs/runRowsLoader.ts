import { promises as fsp } from "node:fs";
import { type RunRow, runRow } from "../../panel/runRows";
import type { TrainerMessage } from "../../protocol/messages";
import { RUN_FILES, type RunInfo, replay, runPaths, scanRuns } from "../../protocol/runlog";

/**
 * The runs table's rows from the runs folder: scanRuns lists the folders (status, summary, steps)
 * and each event log is replayed once for what only the whole log holds (every switch and
 * hyperparameter change, the evaluations). A log is read again only when it changed (size or
 * time), so reopening the table on a big workspace costs one pass over what is new.
 */
export class RunRowsLoader {
  private readonly logs = new Map<
    string,
    { stamp: string; messages: TrainerMessage[]; problems: string[] }
  >();

  async rows(runsRoot: string): Promise<RunRow[]> {
    const infos = await scanRuns(runsRoot);
    const present = new Set(infos.map((info) => info.dir));
    for (const dir of this.logs.keys()) if (!present.has(dir)) this.logs.delete(dir);
    return Promise.all(infos.map((info) => this.row(info)));
  }

  private async row(info: RunInfo): Promise<RunRow> {
    const log = await this.log(info.dir);
    return runRow({ ...info, problems: [...info.problems, ...log.problems] }, log.messages);
  }

  private async log(dir: string): Promise<{ messages: TrainerMessage[]; problems: string[] }> {
    const stamp = await stampOf(runPaths(dir).events);
    const cached = this.logs.get(dir);
    if (cached && cached.stamp === stamp) return cached;
    const messages: TrainerMessage[] = [];
    const problems: string[] = [];
    try {
      // Steps are most of a log and the row needs none of them (scanRuns counted them).
      for await (const message of replay(dir)) if (message.type !== "step") messages.push(message);
    } catch (error) {
      // scanRuns already reported a missing or unreadable log; a refused protocol version is new.
      if (stamp !== "none") problems.push(`${RUN_FILES.events}: ${(error as Error).message}`);
    }
    const entry = { stamp, messages, problems };
    this.logs.set(dir, entry);
    return entry;
  }
}

async function stampOf(path: string): Promise<string> {
  try {
    const stat = await fsp.stat(path);
    return `${stat.size}:${stat.mtimeMs}`;
  } catch {
    return "none";
  }
}
