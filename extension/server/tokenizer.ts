// The base model's real tokenizer, loaded with node-llama-cpp in vocab-only mode (no weights, a few MB).
// Only the language server process loads it, never the extension host: a native crash here costs the
// server, which the client restarts, not the editor. node-llama-cpp is ESM-only, so it comes in through a
// dynamic import() that esbuild leaves alone (it is external in scripts/build.mjs).
import { existsSync } from "node:fs";
import type { LlamaModel } from "node-llama-cpp";
import { ModelFileError, openModelFile } from "../../sidecar/src/gguf";
import { chatTemplateIn, pipelineTokenizerFor } from "../../sidecar/src/pipeline/llamaTokenizer";
import type { PipelineTokenizer } from "../../sidecar/src/pipeline/types";

/** The ExampleTokenizer (sidecar/src/datasets/tokenChecks.ts) of the language server: node-llama-cpp, vocab only. */
export class TokenCounter {
    /** The same tokenizer wrapper training uses, for the label-mask preview (labelMask.ts). */
    readonly pipeline: PipelineTokenizer;
    /** The GGUF's `tokenizer.chat_template`; undefined when it has none (only text-format lines render then). */
    readonly chatTemplate: string | undefined;

    private constructor(readonly modelPath: string, private readonly model: LlamaModel) {
        this.pipeline = pipelineTokenizerFor(model);
        this.chatTemplate = chatTemplateIn(model);
    }

    /** Loads the tokenizer of `modelPath`; throws an Error that says what to fix. */
    static async load(modelPath: string): Promise<TokenCounter> {
        if (!existsSync(modelPath)) {
            throw new Error(`loraStudio.baseModel: ${modelPath} does not exist. Set it to the path of a GGUF model file.`);
        }
        // The load guard train, chat, eval and export use: llama.cpp never sees a truncated or inconsistent file.
        try {
            openModelFile(modelPath, { skipArraysOver: 4096 });
        } catch (error) {
            if (error instanceof ModelFileError) throw new Error(`loraStudio.baseModel: ${error.message}. Set it to the path of a GGUF model file.`);
            throw error;
        }
        const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
        // build "never": a missing prebuilt must fail fast with a message, not compile llama.cpp inside the editor.
        const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
        try {
            const model = await llama.loadModel({ modelPath, vocabOnly: true, gpuLayers: 0 });
            return new TokenCounter(modelPath, model);
        } catch (error) {
            throw new Error(`loraStudio.baseModel: could not read the tokenizer of ${modelPath} (${error instanceof Error ? error.message : String(error)}). Is it a GGUF model file?`);
        }
    }

    /** Token count of plain text, without BOS/EOS or special-token parsing. */
    count(text: string): number {
        return this.model.tokenize(text, false).length;
    }

    async dispose(): Promise<void> {
        await this.model.dispose();
    }
}
