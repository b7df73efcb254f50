import { Command, CommanderError } from "commander";
import { registerBench } from "./bench";
import { registerBenchQuality } from "./bench-quality";
import { registerCombine } from "./combine";
import { registerConformance } from "./conformance";
import { registerReplay, registerSummary } from "./replay";
import { registerReport } from "./report";
import { registerTrain } from "./train";

/**
 * `gradcraft`: the command-line face of the trainer. Each subcommand lives in its own module
 * and registers itself here; keep this file a list.
 */
export function buildProgram(): Command {
  const program = new Command("gradcraft")
    .description("GradCraft Studio: multi-task training with gradient balancing, headless.")
    .version(process.env.GRADCRAFT_VERSION ?? "0.1.0")
    .showHelpAfterError();
  registerCombine(program);
  registerConformance(program);
  registerTrain(program);
  registerBenchQuality(registerBench(program));
  registerReplay(program);
  registerSummary(program);
  registerReport(program);
  return program;
}

/** Usage errors exit with 2, as the CLI's contract says; anything else with 1. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  // Subcommands do not inherit exitOverride: set it on every level so usage errors reach the catch.
  const override = (command: Command): void => {
    command.exitOverride();
    command.commands.forEach(override);
  };
  override(program);
  try {
    await program.parseAsync(argv, { from: "user" });
    return process.exitCode === undefined ? 0 : Number(process.exitCode);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
}

/**
 * Resolves once everything written to the stream has been handed to the operating system. On a
 * pipe into a slow reader, writes queue in the process; `process.exit` would drop them.
 */
export function drained(stream: NodeJS.WritableStream & { destroyed?: boolean }): Promise<void> {
  return new Promise((resolve) => {
    if (stream.destroyed || !stream.writable) return resolve();
    stream.write("", () => resolve());
  });
}

/**
 * A reader that went away (`gradcraft replay RUN | head`, a closed terminal) ends the output, not
 * the command with a stack.
 */
function ignoreClosedReader(stream: NodeJS.WritableStream): void {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE" && error.code !== "EIO") throw error;
  });
}

if (require.main === module) {
  ignoreClosedReader(process.stdout);
  ignoreClosedReader(process.stderr);
  const exit = async (code: number) => {
    await Promise.all([drained(process.stdout), drained(process.stderr)]);
    process.exit(code);
  };
  main(process.argv.slice(2)).then(exit, (error: unknown) => {
    console.error(`gradcraft: ${error instanceof Error ? error.message : String(error)}`);
    return exit(1);
  });
}
