import * as fs from "node:fs";
import * as os from "node:os";
import { join } from "node:path";
import { SingleBar } from "cli-progress";
import {
  compareWithPaper,
  formatRate,
  markdownTable,
  meanOf,
  type QualityEvent,
  type QualityReport,
  tableRows,
  textTable,
} from "../trainer/quality";

/**
 * What `gradcraft bench quality` shows and writes: the report as JSON and Markdown (with the
 * command, machine and date it was measured with), the tables on stdout, and progress on stderr.
 */

export interface BenchIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** True: draw a progress bar on stderr. */
  interactive: boolean;
}

export function writeReport(outDir: string, stem: string, report: QualityReport, context: RunContext) {
  const jsonPath = join(outDir, `${stem}.json`);
  const mdPath = join(outDir, `${stem}.md`);
  fs.writeFileSync(jsonPath, `${JSON.stringify({ ...context, ...report }, null, 2)}\n`);
  fs.writeFileSync(mdPath, qualityMarkdown(report, context));
  return { jsonPath, mdPath };
}

export function printReport(
  io: BenchIo,
  asJson: boolean,
  report: QualityReport,
  jsonPath: string,
  mdPath: string,
) {
  if (asJson) {
    io.stdout(`${fs.readFileSync(jsonPath, "utf8")}`);
    return;
  }
  const n = report.seeds.length;
  io.stdout(
    `\nTest AUC (${report.dataset}; mean ± std over ${n} seed${n > 1 ? "s" : ""})${report.complete ? "" : " (INCOMPLETE: runs missing)"}\n`,
  );
  io.stdout(`${textTable(tableRows(report, "auc"))}\n\nTest GAUC\n${textTable(tableRows(report, "gauc"))}\n`);
  io.stdout(`\nwrote ${jsonPath} and ${mdPath}\n`);
}

export interface RunContext {
  command: string;
  date: string;
  machine: string;
  node: string;
}

export function runContext(command: string): RunContext {
  const cpus = os.cpus();
  return {
    command,
    date: new Date().toISOString(),
    machine: `${cpus.length}× ${cpus[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, ${os.platform()} ${os.release()}`,
    node: process.version,
  };
}

export function qualityMarkdown(report: QualityReport, context: RunContext): string {
  const b = report.budget;
  const lines = [
    `## Quality: ${report.dataset}`,
    "",
    `Command: \`${context.command}\``,
    `Machine: ${context.machine}; Node ${context.node}; backend ${report.backend}; ${context.date}; ${(report.wallMs / 60000).toFixed(1)} min.`,
    `Budget per run: ${b.maxSteps !== undefined ? `at most ${b.maxSteps} steps, ` : ""}at most ${b.epochs} epochs, validation every ${b.evalEvery} steps, patience ${b.patience}; seeds ${report.seeds.join(", ")}.`,
    ...(b.learningRates
      ? [
          `Learning rate tuned on validation over ${b.learningRates.map(formatRate).join(", ")} for each row (Single: each task); the lr column shows the rate chosen.`,
        ]
      : []),
    ...(report.settings ? [`Settings: \`${JSON.stringify(report.settings)}\``] : []),
    ...(report.partialSeeds ?? []).map(
      (p) =>
        `Seed ${p.seed} is left out of the tables: ${p.runs} of its ${p.of} runs finished (they are listed below).`,
    ),
    "",
    "Test AUC (mean ± std over seeds); AV = mean over tasks; RI = mean over tasks of the relative improvement over Single, paired by seed.",
    "",
    markdownTable(tableRows(report, "auc")),
    "",
    "Test GAUC",
    "",
    markdownTable(tableRows(report, "gauc")),
    "",
    ...paperLines(report),
    "Runs (Single: one run per task, selected on that task's validation AUC):",
    "",
    markdownTable([
      ["run", "seed", ...(b.learningRates ? ["lr"] : []), "steps", "best step", "stopped", "wall s"],
      ...report.runs.map((r) => [
        r.task !== undefined ? `${r.label} [${report.taskNames[r.task]}]` : r.label,
        String(r.seed),
        ...(b.learningRates ? [formatRate(r.learningRate ?? null)] : []),
        String(r.steps),
        r.bestStep === null ? "–" : String(r.bestStep),
        r.reason,
        (r.wallMs / 1000).toFixed(0),
      ]),
    ]),
    "",
  ];
  return lines.join("\n");
}

/** Our averages and ranks beside the paper's WeChat ones, with Spearman's ρ of the rankings. */
function paperLines(report: QualityReport): string[] {
  const c = compareWithPaper(report);
  if (c.rows.length === 0) return [];
  const f = (x: number | null) => (x === null ? "–" : x.toFixed(4).replace(/^0\./, "."));
  const rho = (x: number | null) => (x === null ? "–" : x.toFixed(2));
  return [
    `Beside the paper (WeChat, PLE; different data, so compare rankings, not values). Spearman's ρ of the AV rankings: AUC ${rho(c.rhoAuc)}, GAUC ${rho(c.rhoGauc)}.`,
    "",
    markdownTable([
      ["strategy", "AV AUC (ours)", "rank", "AV AUC (paper)", "rank", "AV GAUC (ours)", "AV GAUC (paper)"],
      ...c.rows
        .slice()
        .sort((a, b) => a.rank.ours - b.rank.ours)
        .map((r) => [
          r.label,
          f(r.ours.auc),
          String(r.rank.ours),
          f(r.paper.auc),
          String(r.rank.paper),
          f(r.ours.gauc),
          f(r.paper.gauc),
        ]),
    ]),
    "",
  ];
}

/** A bar on a terminal; otherwise a line per run and at most one progress line per 30 s. */
export function progressDisplay(io: BenchIo): { update: (event: QualityEvent) => void; stop: () => void } {
  const started = Date.now();
  const units = 1000;
  let lastLine = 0;
  const done = (event: QualityEvent) =>
    event.type === "run-end"
      ? event.index + 1
      : event.index +
        (event.type === "run-step" ? Math.min(1, event.step / Math.max(1, event.stepBudget)) : 0);
  const eta = (fraction: number) => {
    if (fraction <= 0) return "?";
    const seconds = ((Date.now() - started) / 1000) * (1 / fraction - 1);
    return seconds >= 3600
      ? `${(seconds / 3600).toFixed(1)} h`
      : seconds >= 60
        ? `${Math.round(seconds / 60)} min`
        : `${Math.round(seconds)} s`;
  };
  const name = (event: QualityEvent) =>
    `${event.run.label}${event.run.task !== undefined ? ` [task ${event.run.task}]` : ""} seed ${event.run.seed}`;
  if (io.interactive) {
    // Our own ETA: cli-progress's {eta} (a reserved name) extrapolates from the last updates only.
    const bar = new SingleBar({
      format: "{bar} {percentage}% | run {run}/{runs}: {name} step {step} | ETA {remaining}",
      stream: process.stderr,
      hideCursor: true,
    });
    let startedBar = false;
    return {
      update: (event) => {
        if (!startedBar) {
          bar.start(event.total * units, 0, {
            run: 1,
            runs: event.total,
            name: name(event),
            step: 0,
            remaining: "?",
          });
          startedBar = true;
        }
        const fraction = done(event) / event.total;
        bar.update(Math.round(done(event) * units), {
          run: event.index + 1,
          name: name(event),
          step: event.type === "run-step" ? event.step : event.type === "run-end" ? event.record.steps : 0,
          remaining: eta(fraction),
        });
      },
      stop: () => bar.stop(),
    };
  }
  return {
    update: (event) => {
      const prefix = `[${event.index + 1}/${event.total}] ${name(event)}`;
      if (event.type === "run-start")
        io.stderr(
          `${prefix}: started (at most ${Number.isFinite(event.stepBudget) ? event.stepBudget : "∞"} steps)\n`,
        );
      else if (event.type === "run-end") {
        const r = event.record;
        const auc = r.task !== undefined ? r.testAuc[r.task] : meanOf(r.testAuc);
        io.stderr(
          `${prefix}: ${r.reason} after ${r.steps} steps (best ${r.bestStep ?? "–"}), test AUC ${auc === null ? "–" : auc.toFixed(4)}, ${(r.wallMs / 1000).toFixed(0)} s; ETA ${eta(done(event) / event.total)}\n`,
        );
      } else if (Date.now() - lastLine > 30_000) {
        lastLine = Date.now();
        io.stderr(`${prefix}: step ${event.step}; ETA ${eta(done(event) / event.total)}\n`);
      }
    },
    stop: () => {},
  };
}
