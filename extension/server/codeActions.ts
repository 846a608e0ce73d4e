// Quick fixes from the validator's fix hints, plus "convert to chat" refactors for the line under the cursor
// and for the whole file. The whole-file edit can be large, so it is computed only when chosen (codeAction/resolve).
import { CodeActionKind, type CodeAction, type CodeActionParams, type Diagnostic, type Range, type TextEdit } from "vscode-languageserver";
import { convertLineToChat, type FixHint } from "../../sidecar/src/datasets/index";
import type { DatasetDocument } from "./datasetDocument";
import { DIAGNOSTIC_SOURCE, type DiagnosticData } from "./diagnostics";

const CONVERTIBLE = new Set<string>(["instruction", "prompt-completion", "qa"]);

/** What an unresolved whole-file action carries until codeAction/resolve fills in its edit. */
export interface ConvertFileData {
    action: "convertFileToChat";
    uri: string;
    version: number | null;
}

export function codeActions(doc: DatasetDocument, params: CodeActionParams): CodeAction[] {
    const actions: CodeAction[] = [];
    const convertedLines = new Set<number>();
    for (const diagnostic of params.context.diagnostics) {
        if (diagnostic.source !== DIAGNOSTIC_SOURCE) continue;
        const fix = (diagnostic.data as DiagnosticData | undefined)?.fix;
        if (!fix) continue;
        const action = quickFix(doc, diagnostic, fix);
        if (!action) continue;
        if (fix.kind === "convert-to-chat") convertedLines.add(diagnostic.range.start.line);
        actions.push(action);
    }
    // Per-line formats are detected from the text itself: asking the result for its per-line infos would build
    // 200k objects on every cursor move.
    const format = doc.validateOptions.format ?? "auto";
    const mapping = doc.validateOptions.columnMapping;
    for (let line = params.range.start.line; line <= params.range.end.line && line < doc.buffer.lineCount; line++) {
        if (convertedLines.has(line)) continue;
        const replacement = convertLineToChat(doc.buffer.line(line).trim(), format, mapping);
        if (replacement === undefined) continue;
        actions.push(edit(`Convert line ${line + 1} to chat format`, CodeActionKind.RefactorRewrite, doc.uri, [replaceLine(doc, line, replacement)]));
    }
    const result = doc.result;
    if (result && (CONVERTIBLE.has(result.format) || convertedLines.size > 0 || result.diagnostics.some((d) => d.fix?.kind === "convert-to-chat"))) {
        const data: ConvertFileData = { action: "convertFileToChat", uri: doc.uri, version: doc.version };
        actions.push({ title: "Convert whole file to chat format", kind: CodeActionKind.RefactorRewrite, data });
    }
    return actions;
}

/** Fills in the edit of a "convert whole file" action; lines that do not convert are left as they are. */
export function resolveConvertFile(doc: DatasetDocument, action: CodeAction): CodeAction {
    const format = doc.validateOptions.format ?? "auto";
    const mapping = doc.validateOptions.columnMapping;
    const out: string[] = [];
    let changed = 0;
    for (let i = 0; i < doc.buffer.lineCount; i++) {
        const text = doc.buffer.line(i);
        const converted = text.trim() === "" ? undefined : convertLineToChat(text.trim(), format, mapping);
        if (converted !== undefined) changed++;
        out.push(converted ?? text);
    }
    const last = doc.buffer.lineCount - 1;
    const whole: Range = { start: { line: 0, character: 0 }, end: { line: last, character: doc.buffer.line(last).length } };
    return { ...action, title: `${action.title} (${changed} lines)`, edit: { changes: { [doc.uri]: [{ range: whole, newText: out.join("\n") }] } } };
}

export function isConvertFileData(data: unknown): data is ConvertFileData {
    return typeof data === "object" && data !== null && (data as ConvertFileData).action === "convertFileToChat" && typeof (data as ConvertFileData).uri === "string";
}

function quickFix(doc: DatasetDocument, diagnostic: Diagnostic, fix: FixHint): CodeAction | null {
    const line = diagnostic.range.start.line;
    if (line >= doc.buffer.lineCount) return null;
    const text = doc.buffer.line(line);
    let action: CodeAction | null = null;
    switch (fix.kind) {
        case "convert-to-chat": {
            const replacement = fix.replacement ?? convertLineToChat(text.trim(), doc.validateOptions.format ?? "auto", doc.validateOptions.columnMapping);
            if (replacement !== undefined) action = edit(`Convert line ${line + 1} to chat format`, CodeActionKind.QuickFix, doc.uri, [replaceLine(doc, line, replacement)]);
            break;
        }
        case "trim-whitespace":
            action = edit("Trim whitespace", CodeActionKind.QuickFix, doc.uri, [replaceLine(doc, line, fix.replacement ?? text.trim())]);
            break;
        case "delete-line":
            action = edit(`Delete duplicate line ${line + 1}`, CodeActionKind.QuickFix, doc.uri, [deleteLine(doc, line)]);
            break;
        case "delete-blank-line":
            action = edit(`Delete blank line ${line + 1}`, CodeActionKind.QuickFix, doc.uri, [deleteLine(doc, line)]);
            break;
        case "remove-bom":
            action = edit("Remove byte-order mark", CodeActionKind.QuickFix, doc.uri, [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } }, newText: "" }]);
            break;
    }
    if (action) {
        action.diagnostics = [diagnostic];
        action.isPreferred = true;
    }
    return action;
}

function edit(title: string, kind: string, uri: string, edits: TextEdit[]): CodeAction {
    return { title, kind, edit: { changes: { [uri]: edits } } };
}

function replaceLine(doc: DatasetDocument, line: number, newText: string): TextEdit {
    return { range: { start: { line, character: 0 }, end: { line, character: doc.buffer.line(line).length } }, newText };
}

/** Removes the line and its line break (the preceding one for the last line). */
function deleteLine(doc: DatasetDocument, line: number): TextEdit {
    if (line + 1 < doc.buffer.lineCount) return { range: { start: { line, character: 0 }, end: { line: line + 1, character: 0 } }, newText: "" };
    if (line === 0) return { range: { start: { line: 0, character: 0 }, end: { line: 0, character: doc.buffer.line(0).length } }, newText: "" };
    return { range: { start: { line: line - 1, character: doc.buffer.line(line - 1).length }, end: { line, character: doc.buffer.line(line).length } }, newText: "" };
}
