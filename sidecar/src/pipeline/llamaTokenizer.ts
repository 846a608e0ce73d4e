// The one place where the pipeline meets node-llama-cpp: loads a GGUF's vocabulary (no weights) and exposes the
// model's real tokenizer and chat template through the pipeline's small PipelineTokenizer interface.
import type { Llama, LlamaModel, Token } from "node-llama-cpp";
import { loadNodeLlamaCpp } from "./nodeLlamaCpp";
import type { PipelineTokenizer } from "./types";
import { openModelFile } from "../gguf/openModelFile";

/** Wraps a loaded model's tokenizer with node-llama-cpp's exact tokenization rules (including "trimLeadingSpace"). */
export function pipelineTokenizerFor(model: LlamaModel): PipelineTokenizer {
    const t = model.tokens;
    return {
        tokenize: (text, special, continuation) => model.tokenize(text, special, continuation ? "trimLeadingSpace" : undefined) as number[],
        detokenize: (tokens) => model.detokenize(tokens as readonly Token[], true),
        bos: t.bos ?? undefined,
        eos: t.eos ?? undefined,
        eot: t.eot ?? undefined,
        addBos: t.shouldPrependBosToken,
        isEndOfGeneration: (token) => model.isEogToken(token as Token)
    };
}

/** The GGUF's `tokenizer.chat_template`, or undefined when it has none (then only text-format data works). */
export function chatTemplateIn(model: LlamaModel): string | undefined {
    const template = model.fileInfo.metadata?.tokenizer?.chat_template;
    return typeof template === "string" && template.trim() !== "" ? template : undefined;
}

/** The GGUF's `tokenizer.chat_template`, or an actionable error when the model has none. */
export function chatTemplateOf(model: LlamaModel, modelPath: string): string {
    const template = chatTemplateIn(model);
    if (template === undefined) {
        throw new Error(`${modelPath} has no tokenizer.chat_template in its GGUF metadata; use a chat (instruct) model, or a text-format dataset`);
    }
    return template;
}

export interface VocabModel {
    model: LlamaModel;
    tokenizer: PipelineTokenizer;
    /** Undefined when the GGUF has no chat template; tokenizeExamples then accepts only text-format examples. */
    chatTemplate: string | undefined;
    dispose(): Promise<void>;
}

let cpuLlama: Promise<Llama> | undefined;

/** A CPU-only llama.cpp instance: tokenizing never needs a GPU, and must not grab one that training will use. */
export async function getCpuLlama(): Promise<Llama> {
    cpuLlama ??= loadNodeLlamaCpp().then(({ getLlama }) => getLlama({ gpu: false }));
    return cpuLlama;
}

/** Loads only the vocabulary of `modelPath` (fast, little memory), for rendering and tokenizing training data. */
export async function loadVocabModel(modelPath: string): Promise<VocabModel> {
    // The load guard of every model load (gguf/openModelFile.ts); throws ModelFileError naming the file and the byte.
    openModelFile(modelPath, { skipArraysOver: 4096 });
    const llama = await getCpuLlama();
    const model = await llama.loadModel({ modelPath, vocabOnly: true });
    return {
        model,
        tokenizer: pipelineTokenizerFor(model),
        chatTemplate: chatTemplateIn(model),
        dispose: () => model.dispose()
    };
}
