import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { csvRow } from "../../panel/csv";
import { seriesName } from "../../panel/snapshot";
import type { TrainerMessage } from "../../protocol/messages";
import { replay } from "../../protocol/runlog";

/**
 * Every series of a run as long-form CSV (series,step,time_ms,value), the same columns as the
 * dashboard's own export, but at full resolution: every step of the event log, not the panel's
 * downsampled history. Rows come in the log's order, so a run of any length streams through.
 */
export const CSV_HEADER = "series,step,time_ms,value";

export class CsvExporter {
  private tasks: string[] = [];
  private lastWallMs = 0;

  /** The CSV rows (without newline) one message contributes. */
  rows(message: TrainerMessage): string[] {
    const out: string[] = [];
    const push = (name: string, step: number, value: number | null | undefined) => {
      if (value === null || value === undefined || !Number.isFinite(value)) return;
      out.push(csvRow([name, step, Math.round(this.lastWallMs), value]));
    };
    switch (message.type) {
      case "hello":
        this.tasks = [...message.tasks];
        break;
      case "step": {
        const { step } = message;
        this.lastWallMs = message.wallMs;
        const k = message.losses.length;
        const task = (t: number) => this.tasks[t] ?? `task${t}`;
        for (let t = 0; t < k; t++) {
          push(seriesName.loss(task(t)), step, message.losses[t]);
          push(seriesName.norm(task(t)), step, message.norms[t]);
          push(seriesName.weight(task(t)), step, message.weights[t]);
          push(seriesName.updateCosine(task(t)), step, message.updateCosines[t]);
          if (message.towerWeights) push(`towerWeight/${task(t)}`, step, message.towerWeights[t]);
          if (message.projection) {
            push(seriesName.conflictSet(task(t)), step, message.projection.conflictSetSize[t]);
            push(seriesName.correction(task(t)), step, message.projection.correctionNorm[t]);
            push(seriesName.scale(task(t)), step, message.projection.magnitudeScale[t]);
          }
        }
        for (let i = 0; i < k; i++)
          for (let j = i + 1; j < k; j++)
            push(`cosine/${task(i)}~${task(j)}`, step, message.cosines[i * k + j]);
        push(seriesName.conflictingPairs, step, message.conflictingPairs);
        push(seriesName.updateNorm, step, message.updateNorm);
        push(seriesName.lr, step, message.learningRate);
        push(seriesName.stepTime, step, message.stepTimeMs);
        break;
      }
      case "eval":
        for (const entry of message.tasks) {
          push(seriesName.evalMetric(message.split, "auc", entry.task), message.step, entry.auc);
          push(seriesName.evalMetric(message.split, "gauc", entry.task), message.step, entry.gauc);
          push(seriesName.evalMetric(message.split, "logloss", entry.task), message.step, entry.logloss);
        }
        push(seriesName.evalMean(message.split, "auc"), message.step, message.mean.auc);
        push(seriesName.evalMean(message.split, "gauc"), message.step, message.mean.gauc);
        push(seriesName.evalMean(message.split, "logloss"), message.step, message.mean.logloss);
        break;
      default:
        break;
    }
    return out;
  }
}

/** The whole CSV of a message sequence (tests, small runs). */
export function toCsv(messages: Iterable<TrainerMessage>): string {
  const exporter = new CsvExporter();
  const lines = [CSV_HEADER];
  for (const message of messages) lines.push(...exporter.rows(message));
  return `${lines.join("\n")}\n`;
}

/** Streams the run's event log into a long-form CSV of every series; returns the data rows written. */
export async function exportRunCsv(runDir: string, destination: string): Promise<number> {
  const out = createWriteStream(destination, { encoding: "utf8" });
  const exporter = new CsvExporter();
  let rows = 0;
  try {
    out.write(`${CSV_HEADER}\n`);
    for await (const message of replay(runDir)) {
      const lines = exporter.rows(message);
      if (lines.length === 0) continue;
      rows += lines.length;
      if (!out.write(`${lines.join("\n")}\n`)) await once(out, "drain");
    }
  } finally {
    out.end();
    await once(out, "close");
  }
  return rows;
}
