// The label-mask preview of one dataset line: its tokens as the model will see them, each marked trained or masked,
// and the count of trainable tokens. Same rendering as training (render.ts) and the same truncation (truncate.ts),
// so the preview cannot disagree with it.
import { normalizeExample } from "../datasets/formats";
import type { ColumnMapping, DatasetFormat } from "../datasets/types";
import { renderConversation, renderRawText, TemplateRenderError } from "./render";
import { truncateSequence } from "./truncate";
import type { MaskedSequence, PipelineTokenizer, TruncationPolicy } from "./types";

export interface PreviewToken {
    id: number;
    /** The token's text with special tokens spelled out ("<|im_end|>"). */
    text: string;
    /** A training target after truncation. */
    trained: boolean;
    /** Cut off by truncation (or the whole example dropped): the model never sees this token. */
    cut?: boolean;
}

export interface LinePreview {
    /** One list per rendered sequence (usually one; see TokenizedExample). */
    sequences: PreviewToken[][];
    /** Trained tokens after truncation: what training actually learns from this line. */
    trainableTokens: number;
    /** Trained tokens of the full rendering, before any truncation. */
    untruncatedTrainableTokens: number;
    /** Set when the line cannot be trained on; the preview shows it as an error. */
    error?: string;
    /** Set when the sequence length cut tokens off, or dropped the example ("drop" policy); says what happened. */
    truncation?: string;
    /** The "drop" policy leaves this example out of training altogether (it is longer than the sequence length). */
    dropped?: boolean;
}

export interface PreviewOptions {
    /** Forces a format (as a per-glob setting does); detected per line otherwise. */
    format?: DatasetFormat | undefined;
    columnMapping?: ColumnMapping | undefined;
    /** The training sequence length; with it, the preview applies `truncation` as training does. */
    maxLength?: number;
    truncation?: TruncationPolicy;
}

export function previewLine(lineText: string, template: string | undefined, tokenizer: PipelineTokenizer, options: PreviewOptions = {}): LinePreview {
    let value: unknown;
    try {
        value = JSON.parse(lineText);
    } catch (err) {
        return { sequences: [], trainableTokens: 0, untruncatedTrainableTokens: 0, error: `not valid JSON: ${(err as Error).message}` };
    }
    const example = normalizeExample(value, options.format, options.columnMapping);
    if (!example) return { sequences: [], trainableTokens: 0, untruncatedTrainableTokens: 0, error: "fits no dataset format (chat, instruction, prompt-completion, text, qa)" };
    let rendered: MaskedSequence[];
    try {
        if (example.raw) rendered = [renderRawText(example.messages.map((m) => m.content).join("\n\n"), tokenizer)];
        else if (template === undefined) return { sequences: [], trainableTokens: 0, untruncatedTrainableTokens: 0, error: "the model has no chat template; only text-format lines can be used with it" };
        else rendered = renderConversation(template, example.messages, tokenizer);
    } catch (err) {
        if (err instanceof TemplateRenderError) return { sequences: [], trainableTokens: 0, untruncatedTrainableTokens: 0, error: err.message };
        throw err;
    }
    const { maxLength, truncation = "drop" } = options;
    const longest = Math.max(0, ...rendered.map((s) => s.tokens.length));
    const tooLong = maxLength !== undefined && longest > maxLength;
    // "fail" refuses the whole dataset; the line itself is trained on no more than under "drop".
    const dropped = tooLong && (truncation === "drop" || truncation === "fail");
    let trainableTokens = 0;
    let trainableBefore = 0;
    const sequences = rendered.map((s) => {
        // Which window of the sequence training keeps, and its mask there (truncation re-masks the new first token).
        let keptFrom = 0;
        let keptMask = s.trainMask;
        if (tooLong && !dropped && s.tokens.length > maxLength) {
            keptFrom = truncation === "truncate-left" ? s.tokens.length - maxLength : 0;
            keptMask = truncateSequence(s, maxLength, truncation === "truncate-left" ? "left" : "right").trainMask;
        }
        const keptTo = dropped ? keptFrom : keptFrom + keptMask.length;
        return Array.from(s.tokens, (id, i): PreviewToken => {
            if (s.trainMask[i] === 1) trainableBefore++;
            const kept = i >= keptFrom && i < keptTo;
            const trained = kept && keptMask[i - keptFrom] === 1;
            if (trained) trainableTokens++;
            const token: PreviewToken = { id, text: tokenizer.detokenize([id]), trained };
            if (!kept) token.cut = true;
            return token;
        });
    });
    const preview: LinePreview = { sequences, trainableTokens, untruncatedTrainableTokens: trainableBefore };
    if (tooLong) {
        preview.truncation = truncation === "fail"
            ? `${longest} tokens is longer than the sequence length ${maxLength}: truncation "fail" refuses to train on this dataset`
            : dropped
            ? `${longest} tokens is longer than the sequence length ${maxLength}: truncation "drop" leaves this example out of training`
            : `${longest} tokens cut to ${maxLength} (truncation "${truncation}")`;
    }
    if (dropped) preview.dropped = true;
    else if (trainableTokens === 0) {
        preview.error = trainableBefore === 0
            ? "no trainable tokens: the line needs at least one assistant message (only assistant replies are trained)"
            : `no trainable tokens left after truncation "${truncation}" to ${maxLength} tokens: every assistant token is cut off`;
    }
    return preview;
}
