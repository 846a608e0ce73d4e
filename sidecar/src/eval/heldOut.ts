// Held-out examples for evaluation: lines of any dataset format, normalized to chat messages by the datasets
// normalizer, then split into the prompt (everything before the last assistant turn) and the reference (that
// turn). Lines that cannot be split are skipped with a reason rather than failing the whole evaluation.
import { decodeDatasetBytes } from "../datasets/decode";
import { DatasetReadError, readDatasetFile } from "../datasets/readDatasetFile";
import type { ColumnMapping, DatasetFormat } from "../datasets/types";
import { parseDatasetText, type SourcedExample } from "../pipeline/examples";
import type { ChatMessage } from "../pipeline/types";
import type { EvalSkip } from "../protocol/sidecar";

export interface HeldOutExample {
    file: string;
    /** 1-based. */
    line: number;
    /** What chat sends: the system prompt and earlier turns, ending with the question (a user turn). */
    prompt: ChatMessage[];
    /** The last user turn's text. */
    question: string;
    /** The last assistant turn's text. */
    reference: string;
}

export interface HeldOutSet {
    examples: HeldOutExample[];
    skipped: EvalSkip[];
}

export interface HeldOutOptions {
    format?: DatasetFormat;
    columnMapping?: ColumnMapping;
    /** Keep only these 1-based lines (a run's validation split). */
    lines?: ReadonlySet<number>;
}

/** Splits one normalized example, or says why it cannot be evaluated. */
export function splitExample(sourced: SourcedExample): HeldOutExample | EvalSkip {
    const { source, example } = sourced;
    const skip = (reason: string): EvalSkip => ({ file: source.file, line: source.line, reason });
    if (example.raw) return skip("a text-format line has no question and answer to compare; use chat, instruction, prompt-completion or qa lines");
    const last = example.messages.map((m) => m.role).lastIndexOf("assistant");
    if (last < 0) return skip("no assistant turn: nothing to compare the answers against");
    const prompt = example.messages.slice(0, last);
    const asked = prompt.at(-1);
    if (!asked || asked.role !== "user") return skip("the last assistant turn does not follow a user turn, so there is no question to ask");
    return { file: source.file, line: source.line, prompt, question: asked.content, reference: example.messages[last]!.content };
}

/** Parses held-out text; unparsable lines and lines with no question/answer split land in `skipped`. */
export function heldOutFromText(text: string, file: string, options: HeldOutOptions = {}): HeldOutSet {
    const parsed = parseDatasetText(text, file, { ...(options.format ? { format: options.format } : {}), ...(options.columnMapping ? { columnMapping: options.columnMapping } : {}) });
    const wanted = (line: number): boolean => options.lines === undefined || options.lines.has(line);
    const skipped: EvalSkip[] = parsed.issues.filter((i) => wanted(i.source.line)).map((i) => ({ file: i.source.file, line: i.source.line, reason: i.message }));
    const examples: HeldOutExample[] = [];
    for (const sourced of parsed.examples) {
        if (!wanted(sourced.source.line)) continue;
        const split = splitExample(sourced);
        if ("reason" in split) skipped.push(split);
        else examples.push(split);
    }
    skipped.sort((a, b) => a.line - b.line);
    return { examples, skipped };
}

/** Reads a held-out JSONL file; the error names the file when it cannot be read. */
export async function heldOutFromFile(path: string, options: HeldOutOptions = {}): Promise<HeldOutSet> {
    let bytes: Uint8Array;
    try {
        bytes = readDatasetFile(path);
    } catch (error) {
        if (error instanceof DatasetReadError) throw new Error(`cannot read held-out data: ${error.message}`);
        throw error;
    }
    return heldOutFromText(decodeDatasetBytes(bytes).text, path, options);
}
