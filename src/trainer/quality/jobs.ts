import { type ChildProcess, fork } from "node:child_process";

/**
 * Runs of a quality benchmark in parallel processes (`bench quality --jobs N`): N child processes,
 * each loading the dataset once and then training the runs it is handed, one at a time, as they
 * free up (runs end early at different steps, so a queue balances better than a fixed split).
 * Parent and children talk over Node's IPC channel with structured clone ("advanced"
 * serialization), so NaN and nested records arrive as they left.
 *
 *   parent → child: {type: "init", setup} then {type: "run", id, job} ...
 *   child → parent: {type: "ready"} | {type: "failed", message}
 *                   {type: "step", id, step} ... then {type: "record", id, record} | {type: "error", id, message}
 */

/** How to start a child: a module run with Node, with its arguments (the CLI's hidden worker mode). */
export interface WorkerCommand {
  readonly modulePath: string;
  readonly args: readonly string[];
  /** Node options (e.g. a TypeScript loader); default: this process's. */
  readonly execArgv?: readonly string[];
}

type ToChild<Setup, Job> = { type: "init"; setup: Setup } | { type: "run"; id: number; job: Job };

type FromChild<Result> =
  | { type: "ready" }
  | { type: "failed"; message: string }
  | { type: "step"; id: number; step: number }
  | { type: "record"; id: number; record: Result }
  | { type: "error"; id: number; message: string };

interface Pending<Job, Result> {
  readonly id: number;
  readonly job: Job;
  readonly onStep: (step: number) => void;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: Error) => void;
}

export class JobPool<Setup, Job, Result> {
  private readonly queue: Pending<Job, Result>[] = [];
  private readonly busy = new Map<ChildProcess, Pending<Job, Result>>();
  private readonly idle: ChildProcess[] = [];
  private nextId = 0;
  private closed = false;

  private constructor(private readonly children: ChildProcess[]) {}

  /** Starts `count` children and hands each `setup`; resolves when all are ready. */
  static async start<Setup, Job, Result>(
    count: number,
    command: WorkerCommand,
    setup: Setup,
  ): Promise<JobPool<Setup, Job, Result>> {
    const children = Array.from({ length: count }, () =>
      fork(command.modulePath, [...command.args], {
        execArgv: [...(command.execArgv ?? process.execArgv)],
        serialization: "advanced",
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      }),
    );
    const pool = new JobPool<Setup, Job, Result>(children);
    try {
      await Promise.all(children.map((child, i) => pool.initialise(child, i, setup)));
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  get size(): number {
    return this.children.length;
  }

  /** Queues a job; it runs on the next free child. */
  run(job: Job, onStep: (step: number) => void = () => {}): Promise<Result> {
    if (this.closed) return Promise.reject(new Error("the job pool is closed"));
    return new Promise<Result>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, onStep, resolve, reject });
      this.dispatch();
    });
  }

  /** Ends the children (they exit when their IPC channel closes). */
  close(): void {
    this.closed = true;
    for (const child of this.children) if (child.connected) child.disconnect();
  }

  private initialise(child: ChildProcess, index: number, setup: Setup): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(new Error(`worker ${index + 1} exited before it was ready (${signal ?? `code ${code}`})`));
      child.once("exit", onExit);
      child.once("message", (message: FromChild<Result>) => {
        child.off("exit", onExit);
        if (message.type !== "ready") {
          reject(
            new Error(
              `worker ${index + 1}: ${message.type === "failed" ? message.message : `unexpected ${message.type}`}`,
            ),
          );
          return;
        }
        child.on("message", (m: FromChild<Result>) => this.receive(child, m));
        child.on("exit", (code, signal) => this.lost(child, index, code, signal));
        this.idle.push(child);
        resolve();
      });
      child.send({ type: "init", setup } satisfies ToChild<Setup, Job>);
    });
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const child = this.idle.pop() as ChildProcess;
      const pending = this.queue.shift() as Pending<Job, Result>;
      this.busy.set(child, pending);
      child.send({ type: "run", id: pending.id, job: pending.job } satisfies ToChild<Setup, Job>);
    }
  }

  private receive(child: ChildProcess, message: FromChild<Result>): void {
    const pending = this.busy.get(child);
    if (!pending || !("id" in message) || message.id !== pending.id) return;
    if (message.type === "step") {
      pending.onStep(message.step);
      return;
    }
    this.busy.delete(child);
    this.idle.push(child);
    if (message.type === "record") pending.resolve(message.record);
    else pending.reject(new Error(message.message));
    this.dispatch();
  }

  /** A child died: its run fails; the others go on. */
  private lost(child: ChildProcess, index: number, code: number | null, signal: NodeJS.Signals | null): void {
    const pending = this.busy.get(child);
    this.busy.delete(child);
    const at = this.idle.indexOf(child);
    if (at >= 0) this.idle.splice(at, 1);
    if (pending)
      pending.reject(new Error(`worker ${index + 1} exited during a run (${signal ?? `code ${code}`})`));
    if (this.closed) return;
    if (this.idle.length + this.busy.size === 0)
      for (const queued of this.queue.splice(0)) queued.reject(new Error("every worker has exited"));
  }
}

/**
 * The child's side: waits for its setup, prepares once (`prepare`, e.g. load the dataset), then
 * answers each job with `execute`'s result. Resolves when the parent disconnects.
 */
export function serveJobs<Setup, Job, Result>(
  prepare: (setup: Setup) => Promise<(job: Job, onStep: (step: number) => void) => Promise<Result>>,
): Promise<void> {
  const send = (message: FromChild<Result>) => process.send?.(message);
  if (!process.send) throw new Error("the worker mode needs a parent process with an IPC channel");
  let execute: ((job: Job, onStep: (step: number) => void) => Promise<Result>) | undefined;
  // Runs arrive one at a time (the parent waits for each record), so a chain keeps them in order.
  let chain = Promise.resolve();
  process.on("message", (message: ToChild<Setup, Job>) => {
    if (message.type === "init")
      prepare(message.setup).then(
        (run) => {
          execute = run;
          send({ type: "ready" });
        },
        (error: unknown) => send({ type: "failed", message: errorText(error) }),
      );
    else
      chain = chain.then(async () => {
        try {
          if (!execute) throw new Error("a run arrived before the worker was set up");
          const record = await execute(message.job, (step) => send({ type: "step", id: message.id, step }));
          send({ type: "record", id: message.id, record });
        } catch (error) {
          send({ type: "error", id: message.id, message: errorText(error) });
        }
      });
  });
  return new Promise<void>((resolve) => process.once("disconnect", resolve));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
