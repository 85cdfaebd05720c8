/** npm script -> the tool it runs (tools/cli.cjs). */
export declare const TOOLS: Record<string, { file: string; shape: "main" | "script" }>;
