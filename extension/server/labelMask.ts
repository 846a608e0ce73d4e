// The label-mask preview of one line, from the base model's own chat template and tokenizer. The rendering, masking
// and truncation are the training pipeline's, through the core's renderLine (sidecar/src/datasets/tokenChecks.ts,
// which also holds LS302); this file only adapts them to the language server: what to say without a model.
import type { ColumnMapping, FormatSetting } from "../../sidecar/src/datasets/index";
import { renderLine } from "../../sidecar/src/datasets/tokenChecks";
import { DatasetLinePreviewRequest, type DatasetSettings, type LineMaskPreview, type MaskToken } from "../../sidecar/src/protocol/languageServer";
import type { TokenCounter } from "./tokenizer";

/** Where the tokenizer stands, as the server's state knows it. */
export interface TokenizerStatus {
    counter: TokenCounter | null;
    modelPath: string | null;
    error: string | null;
}

export const NO_MODEL_MESSAGE = "Set loraStudio.baseModel to the GGUF you will train (Settings → LoRA Studio → Base Model) to see which tokens of this line are trained.";

interface LineOptions {
    format: FormatSetting | undefined;
    mapping: ColumnMapping | undefined;
}

/** The answer to DatasetLinePreviewRequest for one line. */
export function lineMaskPreview(uri: string, line: number, lineText: string | undefined, tokenizer: TokenizerStatus, options: LineOptions, settings: DatasetSettings): LineMaskPreview {
    const base = { uri, line, sequences: [], omittedTokens: 0, trainableTokens: 0, totalTokens: 0, maxSequenceLength: settings.maxSequenceLength, truncation: settings.truncation };
    if (!tokenizer.modelPath) return { ...base, status: "no-model", message: NO_MODEL_MESSAGE };
    if (tokenizer.error) return { ...base, status: "model-error", message: tokenizer.error };
    if (!tokenizer.counter) return { ...base, status: "loading", message: `Loading the tokenizer of ${tokenizer.modelPath}…` };
    if (lineText === undefined) return { ...base, status: "line-error", message: `Line ${line + 1} does not exist (the file has changed).` };
    if (lineText.trim() === "") return { ...base, status: "line-error", message: `Line ${line + 1} is blank.` };
    const preview = renderLine(lineText, tokenizer.counter, options, settings);
    let budget = DatasetLinePreviewRequest.MAX_TOKENS_SHOWN;
    let totalTokens = 0;
    const sequences: MaskToken[][] = preview.sequences.map((sequence) => {
        totalTokens += sequence.length;
        const shown = sequence.slice(0, Math.max(0, budget));
        budget -= shown.length;
        return shown.map((t) => ({ text: t.text, trained: t.trained, cut: t.cut === true }));
    });
    const shownTokens = sequences.reduce((n, s) => n + s.length, 0);
    const message = preview.error ?? preview.truncation ?? "";
    return {
        ...base,
        status: preview.error && preview.sequences.length === 0 ? "line-error" : "ok",
        message,
        sequences,
        omittedTokens: totalTokens - shownTokens,
        trainableTokens: preview.trainableTokens,
        totalTokens
    };
}
