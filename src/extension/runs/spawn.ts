/**
 * How the extension starts a trainer: the command line, without a shell. The default is the
 * trainer bundled with the extension (dist/cli.js) run by the editor's own executable with
 * ELECTRON_RUN_AS_NODE=1 (in desktop VS Code process.execPath is Electron, in code-server it is
 * Node: one code path serves both). A setting may name another Node, or a whole other
 * trainer command (a PyTorch script speaking the protocol, say).
 */
export interface TrainerSettings {
  /** Node executable to run the bundled trainer with; empty: the editor's own runtime. */
  readonly nodePath: string;
  /** Another trainer command, program then arguments; empty: the bundled trainer. */
  readonly command: readonly string[];
  /** Backend to force, or "config" to let the config (or the trainer) choose. */
  readonly backend: string;
  /** Serve the link on the run's socket too, so a terminal client can attach. */
  readonly listen: boolean;
  /** Extra arguments appended to the trainer's command line. */
  readonly extraArgs: readonly string[];
  /** Interpreter for a config's trainer command whose program is python, python3 or ${python}; empty: as written. */
  readonly python: string;
}

export interface TrainRequest {
  /** Absolute path of the config file; undefined: the embedded quick preset. */
  readonly configPath?: string;
  /** Folder under which the trainer creates the run's folder. */
  readonly runsFolder: string;
  /** A run folder to resume from its last checkpoint. */
  readonly resume?: string;
  /** The config's own trainer (`"trainer": {"command": [...]}`), e.g. a PyTorch script. */
  readonly trainerCommand?: readonly string[];
}

export interface SpawnPlan {
  readonly command: string;
  readonly args: string[];
  readonly env: Record<string, string>;
  readonly cwd: string;
  /** Always false: arguments reach the trainer verbatim, whatever characters paths hold. */
  readonly shell: false;
}

export const BACKEND_CHOICES = [
  "config",
  "auto",
  "tensorflow-gpu",
  "tensorflow",
  "webgpu",
  "wasm",
  "cpu",
] as const;

/**
 * The trainer's arguments: `train [CONFIG] --protocol stdio --out RUNS [--backend B] [--resume R]`.
 * In a custom command the placeholders ${config}, ${runsFolder}, ${backend} are substituted; when
 * the command has none of them, the standard arguments are appended instead.
 */
export function planTrainerSpawn(
  request: TrainRequest,
  settings: TrainerSettings,
  host: { execPath: string; cliPath: string; cwd: string; env: Record<string, string | undefined> },
): SpawnPlan {
  const standard = ["train"];
  if (request.configPath) standard.push(request.configPath);
  else if (!request.resume) standard.push("--preset", "quick"); // a resumed run brings its own config
  standard.push("--protocol", "stdio", "--out", request.runsFolder);
  const backend = settings.backend && settings.backend !== "config" ? settings.backend : undefined;
  if (backend) standard.push("--backend", backend);
  if (request.resume) standard.push("--resume", request.resume);
  if (settings.listen) standard.push("--listen");

  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(host.env)) if (value !== undefined) env[key] = value;
  // The extension host's own variables must not leak into the trainer's runtime choice.
  delete env.ELECTRON_RUN_AS_NODE;
  delete env.NODE_OPTIONS;

  if (request.trainerCommand && request.trainerCommand.length > 0)
    return planConfigTrainer(request, request.trainerCommand, settings, host.cwd, env);

  if (settings.command.length > 0) {
    const [program, ...rest] = settings.command;
    const placeholders: Record<string, string> = {
      config: request.configPath ?? "",
      runsFolder: request.runsFolder,
      backend: backend ?? "",
    };
    const usesPlaceholders = rest.some((arg) => /\$\{(config|runsFolder|backend)\}/.test(arg));
    const substituted = rest.map((arg) =>
      arg.replace(/\$\{(config|runsFolder|backend)\}/g, (_, name) => placeholders[name]),
    );
    return {
      command: program,
      args: usesPlaceholders
        ? [...substituted, ...settings.extraArgs]
        : [...substituted, ...standard, ...settings.extraArgs],
      env,
      cwd: host.cwd,
      shell: false,
    };
  }

  const node = settings.nodePath.trim();
  if (!node) env.ELECTRON_RUN_AS_NODE = "1";
  return {
    command: node || host.execPath,
    args: [host.cliPath, ...standard, ...settings.extraArgs],
    env,
    cwd: host.cwd,
    shell: false,
  };
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: the config's placeholder, not a JS template.
const PYTHON_PROGRAMS = new Set(["python", "python3", "${python}"]);

/**
 * A config's own trainer (docs/pytorch.md): its command as written (placeholders substituted, no
 * standard arguments: a script has its own command line), started from the config's folder. It
 * learns how it was started from GRADCRAFT_* variables, which the PyTorch package reads.
 */
function planConfigTrainer(
  request: TrainRequest,
  command: readonly string[],
  settings: TrainerSettings,
  cwd: string,
  env: Record<string, string>,
): SpawnPlan {
  const [program, ...rest] = command;
  const placeholders: Record<string, string> = {
    config: request.configPath ?? "",
    runsFolder: request.runsFolder,
    python: settings.python.trim() || "python3",
  };
  const substitute = (arg: string) =>
    arg.replace(/\$\{(config|runsFolder|python)\}/g, (_, name: string) => placeholders[name]);
  env.GRADCRAFT_PROTOCOL = "stdio";
  env.GRADCRAFT_RUNS_FOLDER = request.runsFolder;
  if (request.configPath) env.GRADCRAFT_CONFIG = request.configPath;
  else delete env.GRADCRAFT_CONFIG;
  if (settings.listen) env.GRADCRAFT_LISTEN = "1";
  else delete env.GRADCRAFT_LISTEN;
  return {
    command: PYTHON_PROGRAMS.has(program)
      ? settings.python.trim() || substitute(program)
      : substitute(program),
    args: [...rest.map(substitute), ...settings.extraArgs],
    env,
    cwd,
    shell: false,
  };
}
