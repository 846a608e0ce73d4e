// Token-length diagnostics of a dataset, with the base model's tokenizer passed in: LS301 (an example longer than the
// sequence length) and LS302 (an example the configured truncation leaves with no trained token). The language
// server (extension/server/) and `lora-studio validate --model` both call these; neither loads a tokenizer here.
//
// LS301 counts content tokens plus a fixed allowance per message for the chat template's role header and end token:
// an estimate with the model's own vocabulary, cheap enough to run on every line as the user types. LS302 renders
// the lines that could lose their reply (those whose estimate reaches half the sequence length) with the real chat
// template and truncation of the training pipeline (pipeline/preview.ts), so it says exactly what training does.
import { previewLine, type LinePreview } from "../pipeline/preview";
import type { PipelineTokenizer, TruncationPolicy } from "../pipeline/types";
import { normalizeExample } from "./formats";
import type { ColumnMapping, DatasetDiagnostic, FormatSetting } from "./types";

/** What the checks need of the model: its tokenizer and its chat template. */
export interface ExampleTokenizer {
    /** Tokens of plain text, without BOS/EOS or special-token parsing. */
    count(text: string): number;
    /** The tokenizer training uses, for LS302's exact rendering. */
    readonly pipeline: PipelineTokenizer;
    /** The GGUF's `tokenizer.chat_template`; undefined when it has none (only text-format lines render then). */
    readonly chatTemplate: string | undefined;
}

export interface LineFormat {
    format: FormatSetting | undefined;
    mapping: ColumnMapping | undefined;
}

export interface TokenCheckSettings {
    maxSequenceLength: number;
    truncation: TruncationPolicy;
}

/** Fixed cost per message of a chat template (role header and end token), used on top of the content tokens. */
export const TEMPLATE_TOKENS_PER_MESSAGE = 4;

/** Stored for lines with nothing to count (blank), so they are not visited again. */
export const NOTHING_TO_COUNT = -1;

/**
 * Tokens of one example: the content of every message plus TEMPLATE_TOKENS_PER_MESSAGE per message (none for raw
 * text). Lines that are not a valid example count as their raw text.
 */
export function countExampleTokens(lineText: string, line: LineFormat, counter: Pick<ExampleTokenizer, "count">): number {
    if (lineText.trim() === "") return NOTHING_TO_COUNT;
    let value: unknown;
    try {
        value = JSON.parse(lineText);
    } catch {
        return counter.count(lineText);
    }
    const example = normalizeExample(value, line.format === undefined || line.format === "auto" ? undefined : line.format, line.mapping);
    if (!example) return counter.count(lineText);
    let total = 0;
    for (const message of example.messages) total += counter.count(message.content) + (example.raw ? 0 : TEMPLATE_TOKENS_PER_MESSAGE);
    return total;
}

/**
 * LS301 for every counted line longer than `maxSequenceLength` (a line of exactly that many tokens fits), at most
 * `cap` of them; one LS900 summary counts the rest.
 */
export function tooLongDiagnostics(tokens: readonly (number | null)[], lineLength: (line: number) => number, maxSequenceLength: number, cap: number): DatasetDiagnostic[] {
    const out: DatasetDiagnostic[] = [];
    let over = 0;
    for (let line = 0; line < tokens.length; line++) {
        const count = tokens[line];
        if (count === null || count === undefined || count <= maxSequenceLength) continue;
        over++;
        if (out.length >= cap) continue;
        out.push({
            range: { start: { line, character: 0 }, end: { line, character: lineLength(line) } },
            severity: "warning",
            code: "LS301",
            message: `This example has ${count} tokens, more than loraStudio.training.sequenceLength (${maxSequenceLength}); it will be truncated in training.`
        });
    }
    if (over > cap) {
        out.push({
            range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } },
            severity: "info",
            code: "LS900",
            message: `${over - cap} more examples will be truncated (only the first ${cap} are listed; see loraStudio.maxDiagnosticsPerFile).`
        });
    }
    return out;
}

/** One line rendered and cut as training would: the label-mask preview and LS302 both read this. */
export function renderLine(lineText: string, tokenizer: Pick<ExampleTokenizer, "pipeline" | "chatTemplate">, line: LineFormat, settings: TokenCheckSettings): LinePreview {
    return previewLine(lineText, tokenizer.chatTemplate, tokenizer.pipeline, {
        format: line.format === undefined || line.format === "auto" ? undefined : line.format,
        columnMapping: line.mapping,
        maxLength: settings.maxSequenceLength,
        truncation: settings.truncation
    });
}

/**
 * Truncation can only take every trained token away from a line that is long: lines whose estimated token count
 * (LS301's) reaches this share of the sequence length are rendered exactly. Short lines always keep their assistant
 * tokens, and the validator already reports lines without any (LS201).
 */
const CANDIDATE_SHARE = 0.5;
/** Rendered lines remembered by text (a template render costs about a millisecond; the server re-publishes often). */
const MAX_CACHED_RENDERS = 5_000;

/** LS302 for lines that render to no trainable token after the configured truncation; keeps a render cache. */
export class TrainableCheck {
    /** Line text → the reason it trains on nothing, or "" when it is fine. */
    private cache = new Map<string, string>();
    private cacheKey = "";

    diagnostics(tokenCounts: readonly (number | null)[], lineText: (line: number) => string, tokenizer: Pick<ExampleTokenizer, "pipeline" | "chatTemplate">, line: LineFormat, settings: TokenCheckSettings, identity = ""): DatasetDiagnostic[] {
        const key = `${identity}\u0000${settings.maxSequenceLength}\u0000${settings.truncation}\u0000${JSON.stringify(line)}`;
        if (key !== this.cacheKey) {
            this.cache.clear();
            this.cacheKey = key;
        }
        const out: DatasetDiagnostic[] = [];
        const threshold = settings.maxSequenceLength * CANDIDATE_SHARE;
        for (let index = 0; index < tokenCounts.length; index++) {
            const estimate = tokenCounts[index];
            if (estimate === null || estimate === undefined || estimate < threshold) continue;
            const text = lineText(index);
            let verdict = this.cache.get(text);
            if (verdict === undefined) {
                const preview = renderLine(text, tokenizer, line, settings);
                // LS302 is truncation taking every trained token. A line with none to begin with (no assistant turn)
                // or that does not render has the validator's error already (LS201, LS001…); one the "drop" policy
                // leaves out whole gets LS301.
                verdict = preview.error && preview.untruncatedTrainableTokens > 0 ? preview.error : "";
                if (this.cache.size >= MAX_CACHED_RENDERS) this.cache.clear();
                this.cache.set(text, verdict);
            }
            if (!verdict) continue;
            out.push({
                range: { start: { line: index, character: 0 }, end: { line: index, character: text.length } },
                severity: "error",
                code: "LS302",
                message: `This example trains on nothing: ${verdict} (loraStudio.training.sequenceLength ${settings.maxSequenceLength}, truncation "${settings.truncation}"). Shorten it, raise the sequence length, or change the truncation.`
            });
        }
        return out;
    }
}

/**
 * LS301 and LS302 of a whole text at once (the CLI): every line counted with `tokenizer`, then checked. Lines are
 * those the validator numbers (`lines`).
 */
export function tokenDiagnostics(lines: readonly string[], tokenizer: ExampleTokenizer, line: LineFormat, settings: TokenCheckSettings, cap: number): DatasetDiagnostic[] {
    const counts = lines.map((text) => countExampleTokens(text, line, tokenizer));
    const untrainable = new TrainableCheck().diagnostics(counts, (i) => lines[i]!, tokenizer, line, settings);
    return untrainable.concat(tooLongDiagnostics(counts, (i) => lines[i]!.length, settings.maxSequenceLength, cap));
}
