// JSONL text → normalized examples with their file and line, then → token sequences with loss masks.
import { normalizeExample } from "../datasets/formats";
import { splitLines } from "../datasets/lines";
import { findDepthOverflow, locateSyntaxError, MAX_DEPTH } from "../datasets/jsonRanges";
import type { ColumnMapping, DatasetFormat, NormalizedExample } from "../datasets/types";
import { renderConversation, renderRawText, TemplateRenderError } from "./render";
import type { ExampleSource, PipelineIssue, PipelineTokenizer, TokenizedExample } from "./types";

export interface SourcedExample {
    source: ExampleSource;
    example: NormalizedExample;
}

export interface ParseOptions {
    /** Forces one format for every line; otherwise each line's format is detected. */
    format?: DatasetFormat | undefined;
    columnMapping?: ColumnMapping | undefined;
}

/** Parses every non-blank line; lines that are not JSON or fit no format become `invalid-example` issues. */
export function parseDatasetText(text: string, file: string, options: ParseOptions = {}): { examples: SourcedExample[]; issues: PipelineIssue[] } {
    const examples: SourcedExample[] = [];
    const issues: PipelineIssue[] = [];
    // The validator's splitter: a line number here is the one the editor underlines (a lone \r ends a line too).
    const lines = splitLines(text.replace(/^\uFEFF/, ""));
    lines.forEach((lineText, index) => {
        if (lineText.trim() === "") return;
        const source = { file, line: index + 1 };
        let value: unknown;
        try {
            value = JSON.parse(lineText);
        } catch (err) {
            // Where, never what: V8's message quotes the line, and the file may not be a dataset at all (datasets/excerpt.ts).
            const where = findDepthOverflow(lineText) >= 0 ? { start: 0, message: `nesting deeper than ${MAX_DEPTH} levels` } : locateSyntaxError(lineText, (err as Error).message);
            issues.push({ source, code: "invalid-example", message: `not valid JSON at column ${where.start + 1} (${where.message}); run the dataset validator for details` });
            return;
        }
        const example = normalizeExample(value, options.format, options.columnMapping);
        if (!example) {
            issues.push({ source, code: "invalid-example", message: "fits no dataset format (chat, instruction, prompt-completion, text, qa); run the dataset validator for details" });
            return;
        }
        examples.push({ source, example });
    });
    return { examples, issues };
}

/** Identity of an example for duplicate and leakage checks: its normalized content, not its spelling in the file. */
export function exampleKey(example: NormalizedExample): string {
    return JSON.stringify([example.raw === true, example.messages.map((m) => [m.role, m.content])]);
}

/** Examples whose system prompt the template rejected and chat's folding put into the first user turn. */
export interface SystemFolds {
    count: number;
    first: ExampleSource;
    /** The template's own error for a system message, e.g. "System role not supported". */
    templateError: string;
}

/**
 * Renders and masks every example. An example with no trainable token (e.g. no assistant message) is an error,
 * reported with its file and line, because it would silently train on nothing. `systemFolds` counts the examples
 * whose system prompt was folded into a user turn, for one dataset-wide warning (prepare.ts) rather than one a line.
 */
export function tokenizeExamples(examples: readonly SourcedExample[], template: string | undefined, tokenizer: PipelineTokenizer): { tokenized: TokenizedExample[]; issues: PipelineIssue[]; systemFolds?: SystemFolds } {
    const tokenized: TokenizedExample[] = [];
    const issues: PipelineIssue[] = [];
    let systemFolds: SystemFolds | undefined;
    for (const { source, example } of examples) {
        let sequences;
        const notes = {
            onSystemFolded(templateError: string): void {
                if (systemFolds) systemFolds.count++;
                else systemFolds = { count: 1, first: source, templateError };
            }
        };
        try {
            if (example.raw) sequences = [renderRawText(example.messages.map((m) => m.content).join("\n\n"), tokenizer)];
            else if (template === undefined) throw new TemplateRenderError("the model has no chat template; only text-format examples can be used with it");
            else sequences = renderConversation(template, example.messages, tokenizer, notes);
        } catch (err) {
            if (!(err instanceof TemplateRenderError)) throw err;
            issues.push({ source, code: "template-error", message: err.message });
            continue;
        }
        const trainable = sequences.reduce((n, s) => n + s.trainMask.reduce((a, b) => a + b, 0), 0);
        if (trainable === 0) {
            issues.push({ source, code: "no-trainable-tokens", message: "no trainable tokens: the example needs at least one assistant message (only assistant replies are trained)" });
            continue;
        }
        tokenized.push({ source, key: exampleKey(example), sequences });
    }
    return systemFolds ? { tokenized, issues, systemFolds } : { tokenized, issues };
}

/** The one warning for a dataset whose system prompts the template cannot take (Gemma), with the first line it happened on. */
export function systemFoldWarning(folds: SystemFolds): PipelineIssue {
    const examples = folds.count === 1 ? "1 example" : `${folds.count} examples`;
    return {
        source: folds.first,
        code: "system-folded",
        message: `the model's chat template has no system role (it raises "${folds.templateError}"), so the system prompt of ${examples} ` +
            `(the first here) is folded into the first user turn, as chat folds it; to train without this, drop the system messages or use a model whose template has a system role`
    };
}

export function countTrainable(example: TokenizedExample): number {
    let n = 0;
    for (const s of example.sequences) for (const m of s.trainMask) n += m;
    return n;
}
