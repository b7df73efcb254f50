// Types of scripts/gen-python.mjs for the TypeScript tests.
export interface GeneratedOutput {
  readonly file: string;
  generate(): Promise<Record<string, unknown>>;
}
export declare const pythonDefinitionsFile: string;
export declare const protocolDefinitionsFile: string;
export declare const outputs: readonly GeneratedOutput[];
export declare function generatePythonDefinitions(): Promise<Record<string, unknown>>;
export declare function generateProtocolDefinitions(): Promise<Record<string, unknown>>;
export declare function isCurrent(output: GeneratedOutput, file?: string): Promise<boolean>;
export declare function stalePythonDefinitions(): Promise<string[]>;
export declare function writePythonDefinitions(): Promise<void>;
