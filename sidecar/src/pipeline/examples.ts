// JSONL text → normalized examples with their file and line, then → token sequences with loss masks.
import { normalizeExample } from "../datasets/formats";
import type { ColumnMapping, DatasetFormat, NormalizedExample } from "../datasets/types";
import { renderConversation, renderRawText, TemplateRenderError } from "./render";
import type { ExampleSource, PipelineIssue, PipelineTokenizer, TokenizedExample } from "./types";

export interface SourcedExample {
    source: ExampleSource;
    example: NormalizedExample;
}

export interface ParseOptions {
    /** Forces one format for every line; otherwise each line's format is detected. */
    format?: DatasetFormat;
    columnMapping?: ColumnMapping;
}

/** Parses every non-blank line; lines that are not JSON or fit no format become `invalid-example` issues. */
export function parseDatasetText(text: string, file: string, options: ParseOptions = {}): { examples: SourcedExample[]; issues: PipelineIssue[] } {
    const examples: SourcedExample[] = [];
    const issues: PipelineIssue[] = [];
    const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
    lines.forEach((lineText, index) => {
        if (lineText.trim() === "") return;
        const source = { file, line: index + 1 };
        let value: unknown;
        try {
            value = JSON.parse(lineText);
        } catch (err) {
            issues.push({ source, code: "invalid-example", message: `not valid JSON (${(err as Error).message}); run the dataset validator for details` });
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

/**
 * Renders and masks every example. An example with no trainable token (e.g. no assistant message) is an error,
 * reported with its file and line, because it would silently train on nothing.
 */
export function tokenizeExamples(examples: readonly SourcedExample[], template: string | undefined, tokenizer: PipelineTokenizer): { tokenized: TokenizedExample[]; issues: PipelineIssue[] } {
    const tokenized: TokenizedExample[] = [];
    const issues: PipelineIssue[] = [];
    for (const { source, example } of examples) {
        let sequences;
        try {
            if (example.raw) sequences = [renderRawText(example.messages.map((m) => m.content).join("\n\n"), tokenizer)];
            else if (template === undefined) throw new TemplateRenderError("the model has no chat template; only text-format examples can be used with it");
            else sequences = renderConversation(template, example.messages, tokenizer);
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
    return { tokenized, issues };
}

export function countTrainable(example: TokenizedExample): number {
    let n = 0;
    for (const s of example.sequences) for (const m of s.trainMask) n += m;
    return n;
}
