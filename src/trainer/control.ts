import { parseStrategyParams } from "../core/combine";
import type { CommandOutcome } from "../protocol/link/commands";
import { type HostCommand, PROTOCOL_VERSION, type TrainerMessage } from "../protocol/messages";
import { type ActiveStrategy, activeStrategy } from "./gradients";
import type { Adam } from "./optimizer";

/**
 * Host commands at a step boundary (docs/protocol.md, "Commands and acks"): each takes effect
 * before the next step and is acknowledged with the number of steps completed. An invalid one
 * gets an error ack and changes nothing. An interruption (a signal, the host gone) is seen at the
 * same boundary, and wakes a paused run.
 */

/** What the loop needs from the live link (TrainerLink implements it; tests use a fake). */
export interface CommandChannel {
  send(message: TrainerMessage): void;
  takeCommands(): HostCommand[];
  nextCommand(): Promise<HostCommand | null>;
  ack(command: HostCommand, outcome: CommandOutcome): unknown;
}

export interface Controls {
  /** Number of tasks. */
  readonly k: number;
  strategy: ActiveStrategy;
  readonly optimizer: Adam;
  evalEvery: number;
  /** Side effects the loop owns. */
  checkpoint(reason: string): Promise<string | null>;
  evaluate(split: "train" | "validation" | "test"): Promise<void>;
  /** Aborted when the run must stop at the next boundary (its reason: an Interruption). */
  readonly interrupt?: AbortSignal;
}

/** What stopped a run from outside: a signal, or the loss of the host that commanded it. */
export interface Interruption {
  /** "SIGINT", "SIGTERM", "SIGHUP" or "host-lost". */
  readonly by: string;
  /** One line for the run's log. */
  readonly message: string;
}

export type BoundaryOutcome = "continue" | "stop" | "interrupted";

const v = PROTOCOL_VERSION;

/** Applies every pending command; blocks while paused. */
export async function applyCommands(
  channel: CommandChannel,
  controls: Controls,
  step: number,
): Promise<BoundaryOutcome> {
  // Let the event loop run: a step's device reads resolve as microtasks on wasm/cpu, so without
  // this, stdin and socket data (the commands) would never be read during training.
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (controls.interrupt?.aborted) return "interrupted";
  for (const command of channel.takeCommands()) {
    const outcome = await applyOne(channel, controls, command, step, false);
    if (outcome !== "continue") return outcome;
  }
  return controls.interrupt?.aborted ? "interrupted" : "continue";
}

/** The next command while paused, or "interrupted" as soon as the run is interrupted. */
function nextCommand(channel: CommandChannel, interrupt: AbortSignal | undefined) {
  if (!interrupt) return channel.nextCommand();
  if (interrupt.aborted) return Promise.resolve("interrupted" as const);
  return Promise.race([
    channel.nextCommand(),
    new Promise<"interrupted">((resolve) =>
      interrupt.addEventListener("abort", () => resolve("interrupted"), { once: true }),
    ),
  ]);
}

async function applyOne(
  channel: CommandChannel,
  controls: Controls,
  command: HostCommand,
  step: number,
  paused: boolean,
): Promise<BoundaryOutcome> {
  const ok = (result?: unknown) => channel.ack(command, { ok: true, step, result });
  const refuse = (error: unknown) =>
    channel.ack(command, { ok: false, step, error: error instanceof Error ? error.message : String(error) });
  switch (command.type) {
    case "set-strategy": {
      try {
        const previous = controls.strategy;
        const carry = command.carryState === true && previous.definition.name === command.name;
        const next = activeStrategy(
          command.name,
          command.params,
          controls.k,
          carry ? previous.state : undefined,
        );
        const { definition, params } = next;
        controls.strategy = next;
        channel.send({
          v,
          type: "strategy-changed",
          step,
          name: definition.name,
          params,
          previous: { name: previous.definition.name, params: previous.params },
          stateCarried: carry,
          reason: "command",
          commandId: command.id,
        });
        ok({ name: definition.name, params, stateCarried: carry });
      } catch (error) {
        refuse(error);
      }
      return "continue";
    }
    case "set-hyperparameters": {
      const settings = controls.optimizer.settings;
      try {
        const strategyParams = command.strategyParams
          ? parseStrategyParams(controls.strategy.definition, {
              ...controls.strategy.params,
              ...command.strategyParams,
            })
          : undefined;
        const changes: Array<{ name: string; from: unknown; to: unknown }> = [];
        const set = <K extends "learningRate" | "l2" | "clipNorm">(key: K, value: number | undefined) => {
          if (value === undefined || value === settings[key]) return;
          changes.push({ name: key, from: settings[key], to: value });
          settings[key] = value;
        };
        set("learningRate", command.learningRate);
        set("l2", command.l2);
        set("clipNorm", command.clipNorm);
        if (command.evalEvery !== undefined && command.evalEvery !== controls.evalEvery) {
          changes.push({ name: "evalEvery", from: controls.evalEvery, to: command.evalEvery });
          controls.evalEvery = command.evalEvery;
        }
        if (strategyParams) {
          for (const [key, value] of Object.entries(strategyParams))
            if (JSON.stringify(value) !== JSON.stringify(controls.strategy.params[key]))
              changes.push({ name: `strategy.${key}`, from: controls.strategy.params[key], to: value });
          controls.strategy = { ...controls.strategy, params: strategyParams };
        }
        if (changes.length > 0)
          channel.send({ v, type: "hyper-changed", step, changes, commandId: command.id });
        ok({ changes });
      } catch (error) {
        refuse(error);
      }
      return "continue";
    }
    case "pause": {
      if (paused) {
        ok({ paused: true });
        return "continue";
      }
      ok({ paused: true });
      channel.send({ v, type: "paused", step, commandId: command.id });
      const since = Date.now();
      for (;;) {
        const next = await nextCommand(channel, controls.interrupt);
        if (next === "interrupted") return "interrupted";
        // The link closed (its host gone, seen as an interruption): nobody can resume us.
        if (next === null) return controls.interrupt?.aborted ? "interrupted" : "stop";
        if (next.type === "resume") {
          channel.ack(next, { ok: true, step, result: { paused: false } });
          channel.send({ v, type: "resumed", step, pausedMs: Date.now() - since, commandId: next.id });
          return "continue";
        }
        const outcome = await applyOne(channel, controls, next, step, true);
        if (outcome !== "continue") return outcome;
      }
    }
    case "resume":
      ok({ paused: false, note: "the run was not paused" });
      return "continue";
    case "stop":
      ok({ stopping: true });
      return "stop";
    case "checkpoint": {
      try {
        const path = await controls.checkpoint("requested");
        if (path === null) refuse(new Error("this run has no run folder to write a checkpoint into"));
        else ok({ path });
      } catch (error) {
        refuse(error);
      }
      return "continue";
    }
    case "evaluate": {
      try {
        await controls.evaluate(command.split);
        ok({ split: command.split });
      } catch (error) {
        refuse(error);
      }
      return "continue";
    }
    default: {
      const unknown = command as { type: string };
      refuse(new Error(`unknown command "${unknown.type}"`));
      return "continue";
    }
  }
}
