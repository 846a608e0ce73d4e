// `lora-studio validate --model M`: the token checks of the language server (LS301, LS302; the core's
// datasets/tokenChecks.ts) with the model's tokenizer, loaded once for all files (vocab only, a few MB).
import { splitLines } from "../datasets/index";
import { tokenDiagnostics, type ExampleTokenizer } from "../datasets/tokenChecks";
import type { DatasetDiagnostic, FormatSetting } from "../datasets/types";
import { loadVocabModel, type VocabModel } from "../pipeline/llamaTokenizer";
import type { TruncationPolicy } from "../pipeline/types";

/** The run-config schema's defaults, so `validate --model` warns about what a default run would do. */
export const DEFAULT_SEQUENCE_LENGTH = 512;
export const DEFAULT_TRUNCATION: TruncationPolicy = "drop";

export interface TokenCheckOptions {
    sequenceLength: number;
    truncation: TruncationPolicy;
    format: FormatSetting;
    cap: number;
}

export class ModelTokenChecks {
    private constructor(private readonly vocab: VocabModel, private readonly tokenizer: ExampleTokenizer) {}

    static async load(modelPath: string): Promise<ModelTokenChecks> {
        const vocab = await loadVocabModel(modelPath);
        const pipeline = vocab.tokenizer;
        // Plain text, no special-token parsing: what the language server's counter counts.
        return new ModelTokenChecks(vocab, { count: (text) => pipeline.tokenize(text, false).length, pipeline, chatTemplate: vocab.chatTemplate });
    }

    diagnostics(text: string, options: TokenCheckOptions): DatasetDiagnostic[] {
        const line = { format: options.format, mapping: undefined };
        return tokenDiagnostics(splitLines(text), this.tokenizer, line, { maxSequenceLength: options.sequenceLength, truncation: options.truncation }, options.cap);
    }

    async dispose(): Promise<void> {
        await this.vocab.dispose();
    }
}
