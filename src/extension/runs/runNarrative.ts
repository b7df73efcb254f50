import type {
  DoneMessage,
  EvalMessage,
  MetricSet,
  StepMessage,
  TrainerMessage,
} from "../../protocol/messages";
import type { CommandBody } from "./connection";

/**
 * What the GradCraft Output channel says about a run, from its messages: starts and resumes,
 * switches and changes, pauses, requests and refusals, losses by task, evaluations, checkpoints
 * and how the run ended. Free of vscode: the run manager writes the lines.
 */
export interface NarrativeLine {
  readonly level: "debug" | "info" | "warn" | "error";
  readonly text: string;
}

/** Loss lines at most this often (the first step's always): a run makes many steps a second. */
export const LOSS_LINE_EVERY_MS = 5000;

export class RunNarrative {
  private tasks: string[] = [];
  private lastLossLineAt = Number.NEGATIVE_INFINITY;
  /** Evaluations seen, by split and step: a second one at the same step says so. */
  private readonly evaluated = new Set<string>();
  /** The step of the best mean validation AUC so far (eval.best), the weights a run keeps. */
  private bestStep: number | null = null;
  private evalEvery: number | null = null;
  private patience: number | null = null;
  /** Evaluations this window asked for, by split, not yet seen (their ack follows the eval). */
  private readonly requested: string[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** The line for a message; null when it has nothing to say (or a loss line is not due). */
  line(message: TrainerMessage): NarrativeLine | null {
    const info = (text: string): NarrativeLine => ({ level: "info", text });
    switch (message.type) {
      case "hello": {
        this.tasks = [...message.tasks];
        const resumed = message.resumedFrom
          ? `; resumed from the checkpoint at step ${message.resumedFrom.step}`
          : "";
        return info(
          `${message.trainer.name} ${message.trainer.version} on ${message.backend.name} (${message.backend.reason}); run folder ${message.runDir ?? "none"}${resumed}`,
        );
      }
      case "config":
        this.evalEvery = message.config.training.evalEvery;
        this.patience = message.config.training.patience;
        return null;
      case "step":
        return this.lossLine(message);
      case "eval":
        return info(this.evalLine(message));
      case "strategy-changed": {
        const now = `${message.name}${params(message.params)}`;
        if (message.previous === null || message.reason === "initial") return info(`strategy ${now}`);
        if (message.reason === "resume")
          return info(`step ${message.step}: strategy ${now}, as at the checkpoint`);
        const before = message.previous.name === message.name ? "" : `${message.previous.name} → `;
        return info(`step ${message.step}: strategy ${before}${now} from the next step`);
      }
      case "hyper-changed":
        for (const change of message.changes)
          if (change.name === "evalEvery" && typeof change.to === "number") this.evalEvery = change.to;
        return info(
          `step ${message.step}: ${message.changes.map((c) => `${c.name} ${value(c.from)} → ${value(c.to)}`).join(", ")} from the next step`,
        );
      case "paused":
        return info(`paused after step ${message.step}`);
      case "resumed":
        return info(`resumed after step ${message.step} (paused ${seconds(message.pausedMs)})`);
      case "checkpoint":
        return info(`checkpoint at step ${message.step} (${message.reason}): ${message.path}`);
      case "ack":
        if (message.ok)
          return message.command === "stop"
            ? info(
                `stop acknowledged after step ${message.step}: final evaluation, checkpoint and summary follow`,
              )
            : null;
        return {
          level: "warn",
          text: `${message.command ?? "command"} refused at step ${message.step}: ${message.error ?? "no reason given"}`,
        };
      case "log":
        return { level: message.level, text: message.message };
      case "error":
        return { level: message.fatal ? "error" : "warn", text: message.message };
      case "done":
        return { level: message.reason === "failed" ? "error" : "info", text: this.doneLine(message) };
      default:
        return null;
    }
  }

  /** The line for a command this window sent (the trainer's answer has its own). */
  request(command: CommandBody): string {
    switch (command.type) {
      case "set-strategy":
        return `→ switch to ${command.name}${params(command.params ?? {})} requested`;
      case "set-hyperparameters": {
        const { type: _type, ...changes } = command;
        const list = Object.entries(changes).map(([name, v]) => `${name} ${value(v)}`);
        return `→ ${list.join(", ")} requested`;
      }
      case "evaluate":
        this.requested.push(command.split ?? "validation");
        return `→ evaluation on ${command.split ?? "validation"} requested`;
      default:
        return `→ ${command.type} requested`;
    }
  }

  /** The end of the run in one sentence: how, where, and which weights it keeps. */
  doneLine(done: DoneMessage): string {
    const { summary } = done;
    const kept =
      summary.bestStep !== undefined && summary.bestStep !== summary.steps
        ? `; it keeps the weights of step ${summary.bestStep}, the best validation, evaluated again at step ${summary.steps} above`
        : "";
    const metrics = ["validation", "test"].flatMap((split) => {
      const mean = summary.splits[split as "validation" | "test"]?.mean;
      return mean ? [`${split} ${means(mean)}`] : [];
    });
    const scores = metrics.length > 0 ? ` (${metrics.join("; ")})` : "";
    const after = `${summary.steps} steps in ${seconds(summary.wallMs)}`;
    switch (done.reason) {
      case "completed":
        return `completed: ${after}${kept}${scores}`;
      case "early-stopped":
        return `stopped early: ${after}: ${this.earlyStopReason(summary.steps, summary.bestStep)}${kept}${scores}`;
      case "stopped":
        return `stopped on request: ${after}${kept}${scores}`;
      case "failed":
        return `failed after ${after}`;
      default:
        return `${done.reason}: ${after}${kept}${scores}`;
    }
  }

  /** Which evaluation ended the run, and what patience it exhausted. */
  earlyStopReason(step: number, bestStep = this.bestStep ?? undefined): string {
    const than = bestStep !== undefined ? ` on step ${bestStep}'s` : "";
    const times =
      this.patience !== null
        ? ` for ${this.patience} evaluations in a row (the patience${this.evalEvery !== null ? `; one every ${this.evalEvery} steps` : ""})`
        : "";
    return `the mean validation AUC had not improved${than}${times}, the last at step ${step}`;
  }

  private lossLine(step: StepMessage): NarrativeLine | null {
    const at = this.now();
    if (at - this.lastLossLineAt < LOSS_LINE_EVERY_MS) return null;
    this.lastLossLineAt = at;
    const losses = step.losses.map((loss, t) => `${this.tasks[t] ?? `task ${t + 1}`} ${loss.toFixed(4)}`);
    return {
      level: "info",
      text: `step ${step.step} (epoch ${step.epoch.toFixed(2)}): loss ${losses.join(", ")}`,
    };
  }

  private evalLine(message: EvalMessage): string {
    const key = `${message.split}@${message.step}`;
    const again = this.evaluated.has(key);
    this.evaluated.add(key);
    const asked = this.requested.indexOf(message.split);
    if (asked >= 0) this.requested.splice(asked, 1);
    if (message.split === "validation" && message.best && !again) this.bestStep = message.step;
    const tasks = message.tasks.map((t) => `${t.task} ${metric(t.auc)}`).join(", ");
    // A run's end evaluates the weights it keeps (the best validation's) at its last step, right
    // after the last periodic evaluation of that step: the same step twice, different numbers.
    const note =
      asked >= 0
        ? " (requested)"
        : again && this.bestStep !== null && this.bestStep !== message.step
          ? ` (again: the weights of step ${this.bestStep}, the best validation, which the run keeps)`
          : again
            ? " (again)"
            : message.best
              ? " (best so far)"
              : "";
    return `step ${message.step} ${message.split}: ${means(message.mean)}; AUC by task ${tasks}${note}`;
  }
}

function means(mean: MetricSet): string {
  return `mean AUC ${metric(mean.auc)}, GAUC ${metric(mean.gauc)}, log loss ${metric(mean.logloss)}`;
}

function metric(x: number | null): string {
  return x === null ? "-" : x.toFixed(4);
}

function params(values: Record<string, unknown>): string {
  const entries = Object.entries(values);
  return entries.length > 0 ? ` (${entries.map(([k, v]) => `${k} ${value(v)}`).join(", ")})` : "";
}

function value(v: unknown): string {
  return typeof v === "number" ? String(Number(v.toPrecision(6))) : JSON.stringify(v);
}

function seconds(ms: number): string {
  return ms < 60_000
    ? `${(ms / 1000).toFixed(1)} s`
    : `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
