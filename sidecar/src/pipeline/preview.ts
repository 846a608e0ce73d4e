// The label-mask preview of one dataset line: its tokens as the model will see them, each marked trained or masked,
// and the count of trainable tokens. Same rendering as training (render.ts), so the preview cannot disagree with it.
import { normalizeExample } from "../datasets/formats";
import type { ColumnMapping, DatasetFormat } from "../datasets/types";
import { renderConversation, renderRawText, TemplateRenderError } from "./render";
import type { PipelineTokenizer } from "./types";

export interface PreviewToken {
    id: number;
    /** The token's text with special tokens spelled out ("<|im_end|>"). */
    text: string;
    trained: boolean;
}

export interface LinePreview {
    /** One list per rendered sequence (usually one; see TokenizedExample). */
    sequences: PreviewToken[][];
    trainableTokens: number;
    /** Set when the line cannot be trained on; the preview shows it as an error. */
    error?: string;
}

export function previewLine(lineText: string, template: string | undefined, tokenizer: PipelineTokenizer, format?: DatasetFormat, columnMapping?: ColumnMapping): LinePreview {
    let value: unknown;
    try {
        value = JSON.parse(lineText);
    } catch (err) {
        return { sequences: [], trainableTokens: 0, error: `not valid JSON: ${(err as Error).message}` };
    }
    const example = normalizeExample(value, format, columnMapping);
    if (!example) return { sequences: [], trainableTokens: 0, error: "fits no dataset format (chat, instruction, prompt-completion, text, qa)" };
    let rendered;
    try {
        if (example.raw) rendered = [renderRawText(example.messages.map((m) => m.content).join("\n\n"), tokenizer)];
        else if (template === undefined) return { sequences: [], trainableTokens: 0, error: "the model has no chat template; only text-format lines can be used with it" };
        else rendered = renderConversation(template, example.messages, tokenizer);
    } catch (err) {
        if (err instanceof TemplateRenderError) return { sequences: [], trainableTokens: 0, error: err.message };
        throw err;
    }
    let trainableTokens = 0;
    const sequences = rendered.map((s) => Array.from(s.tokens, (id, i) => {
        const trained = s.trainMask[i] === 1;
        if (trained) trainableTokens++;
        return { id, text: tokenizer.detokenize([id]), trained };
    }));
    const preview: LinePreview = { sequences, trainableTokens };
    if (trainableTokens === 0) preview.error = "no trainable tokens: the line needs at least one assistant message (only assistant replies are trained)";
    return preview;
}
