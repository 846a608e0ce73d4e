/** The run-config schema without constraints, for VS Code's JSON completion and hover (see editorSchema.mjs). */
export function editorSchema(schema: unknown): unknown;
