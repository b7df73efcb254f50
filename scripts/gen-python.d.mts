// Types of scripts/gen-python.mjs for the TypeScript tests.
export declare const pythonDefinitionsFile: string;
export declare function generatePythonDefinitions(): Promise<Record<string, unknown>>;
export declare function pythonDefinitionsText(): Promise<string>;
export declare function pythonDefinitionsCurrent(file?: string): Promise<boolean>;
export declare function writePythonDefinitions(file?: string): Promise<void>;
