// Where the "$schema" of a run config written by the extension points: the constraint-free copy of the run-config
// schema that scripts/build.mjs writes (scripts/editorSchema.mjs). VS Code's JSON support follows "$schema" for
// completion and hover; pointing it at the full schema would make it report every schema error a second time,
// beside the language server's own (which have codes, exact ranges and "did you mean").
import * as vscode from "vscode";

export function runConfigEditorSchemaUri(extensionUri: vscode.Uri): string {
    return vscode.Uri.joinPath(extensionUri, "dist", "schemas", "run-config.editor.schema.json").toString();
}
