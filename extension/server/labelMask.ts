// The label-mask preview of one line and the "no trainable tokens" error (LS302), from the base model's own chat
// template and tokenizer. The rendering, masking and truncation are the training pipeline's (previewLine); this
// file only adapts them to the language server: what to say without a model, which lines to check, a cache.
import type { Diagnostic } from "vscode-languageserver";
import type { ColumnMapping, FormatSetting } from "../../sidecar/src/datasets/index";
import { previewLine, type LinePreview } from "../../sidecar/src/pipeline/preview";
import { DatasetLinePreviewRequest, type DatasetSettings, type LineMaskPreview, type MaskToken } from "../../sidecar/src/protocol/languageServer";
import { toLspDiagnostic } from "./diagnostics";
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

function render(lineText: string, counter: TokenCounter, options: LineOptions, settings: DatasetSettings): LinePreview {
    return previewLine(lineText, counter.chatTemplate, counter.pipeline, {
        format: options.format === undefined || options.format === "auto" ? undefined : options.format,
        columnMapping: options.mapping,
        maxLength: settings.maxSequenceLength,
        truncation: settings.truncation
    });
}

/** The answer to DatasetLinePreviewRequest for one line. */
export function lineMaskPreview(uri: string, line: number, lineText: string | undefined, tokenizer: TokenizerStatus, options: LineOptions, settings: DatasetSettings): LineMaskPreview {
    const base = { uri, line, sequences: [], omittedTokens: 0, trainableTokens: 0, totalTokens: 0, maxSequenceLength: settings.maxSequenceLength, truncation: settings.truncation };
    if (!tokenizer.modelPath) return { ...base, status: "no-model", message: NO_MODEL_MESSAGE };
    if (tokenizer.error) return { ...base, status: "model-error", message: tokenizer.error };
    if (!tokenizer.counter) return { ...base, status: "loading", message: `Loading the tokenizer of ${tokenizer.modelPath}…` };
    if (lineText === undefined) return { ...base, status: "line-error", message: `Line ${line + 1} does not exist (the file has changed).` };
    if (lineText.trim() === "") return { ...base, status: "line-error", message: `Line ${line + 1} is blank.` };
    const preview = render(lineText, tokenizer.counter, options, settings);
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

/**
 * Truncation can only take every trained token away from a line that is long: lines whose estimated token count
 * (LS301's, content plus a per-message allowance) reaches this share of the sequence length are rendered exactly.
 * Short lines always keep their assistant tokens, and the validator already reports lines without any (LS201).
 */
const CANDIDATE_SHARE = 0.5;
/** Rendered lines remembered by text (a template render costs about a millisecond; publishes repeat them). */
const MAX_CACHED_RENDERS = 5_000;

/** LS302 for lines that render to no trainable token after the configured truncation; keeps a render cache. */
export class TrainableCheck {
    /** Line text → the reason it trains on nothing, or "" when it is fine. */
    private cache = new Map<string, string>();
    private cacheKey = "";

    diagnostics(tokenCounts: readonly (number | null)[], lineText: (line: number) => string, counter: TokenCounter, options: LineOptions, settings: DatasetSettings): Diagnostic[] {
        const key = `${counter.modelPath}\u0000${settings.maxSequenceLength}\u0000${settings.truncation}\u0000${JSON.stringify(options)}`;
        if (key !== this.cacheKey) {
            this.cache.clear();
            this.cacheKey = key;
        }
        const out: Diagnostic[] = [];
        const threshold = settings.maxSequenceLength * CANDIDATE_SHARE;
        for (let line = 0; line < tokenCounts.length; line++) {
            const estimate = tokenCounts[line];
            if (estimate === null || estimate === undefined || estimate < threshold) continue;
            const text = lineText(line);
            let verdict = this.cache.get(text);
            if (verdict === undefined) {
                const preview = render(text, counter, options, settings);
                // LS302 is truncation taking every trained token. A line with none to begin with (no assistant turn)
                // or that does not render has the validator's error already (LS201, LS001…); one the "drop" policy
                // leaves out whole gets LS301.
                verdict = preview.error && preview.untruncatedTrainableTokens > 0 ? preview.error : "";
                if (this.cache.size >= MAX_CACHED_RENDERS) this.cache.clear();
                this.cache.set(text, verdict);
            }
            if (!verdict) continue;
            out.push(toLspDiagnostic({
                range: { start: { line, character: 0 }, end: { line, character: text.length } },
                severity: "error",
                code: "LS302",
                message: `This example trains on nothing: ${verdict} (loraStudio.training.sequenceLength ${settings.maxSequenceLength}, truncation "${settings.truncation}"). Shorten it, raise the sequence length, or change the truncation.`
            }));
        }
        return out;
    }
}
