// The synthetic facts as a real training set for any architecture's tiny model: rendered by the data pipeline with the
// model's own chat template and tokenizer (what `lora-studio train` does), packed into micro-batches as the trainer
// packs them, and answered greedily by stock node-llama-cpp from the prompt chat would send. The oracle tests of every
// architecture (gradients, loss curves, interop, learning) share it, so each sees exactly the tokens training and chat
// see.
import { LlamaCompletion, type LlamaModel, type Token } from "node-llama-cpp";
import { packEpoch, prepareDataset, renderPromptTokens, toMicroBatch, type PreparedDataset } from "../../sidecar/src/pipeline";
import { chatTemplateOf, getCpuLlama, pipelineTokenizerFor } from "../../sidecar/src/pipeline/llamaTokenizer";
import type { MicroBatch } from "../../sidecar/src/engine";
import type { Fact } from "./facts";
import type { OracleBatch } from "./torchReference";

export interface ArchFacts {
    /** Stock node-llama-cpp's model (CPU prebuilt); the caller disposes it. */
    stock: LlamaModel;
    prepared: PreparedDataset;
    /** Per fact, the tokens chat sends before the answer (renderPromptTokens). */
    prompts: number[][];
}

/** The facts as an in-memory chat JSONL file, through the same pipeline as a real run. */
export async function loadArchFacts(modelPath: string, facts: readonly Fact[], sequenceLength: number, seed: number): Promise<ArchFacts> {
    const llama = await getCpuLlama();
    const stock = await llama.loadModel({ modelPath });
    const template = chatTemplateOf(stock, modelPath);
    const tokenizer = pipelineTokenizerFor(stock);
    const text = facts.map((f) => JSON.stringify({ messages: [{ role: "user", content: f.question }, { role: "assistant", content: f.answer }] })).join("\n");
    const prepared = prepareDataset({ train: { file: "facts.jsonl", text }, seed, sequenceLength, truncation: "drop", chatTemplate: template, tokenizer });
    const prompts = facts.map((f) => renderPromptTokens(template, [{ role: "user", content: f.question }], tokenizer));
    return { stock, prepared, prompts };
}

/** One epoch's micro-batches as the trainer packs them (seeded shuffle, first-fit packing, assistant-only labels). */
export function epochBatches(prepared: PreparedDataset, sequenceLength: number, seed: number, epoch: number): MicroBatch[] {
    return packEpoch(prepared.train, sequenceLength, seed, epoch).map((row) => toMicroBatch(row));
}

export function toOracleBatch(b: MicroBatch): OracleBatch {
    return { tokens: Array.from(b.tokens), positions: Array.from(b.positions), seqIds: Array.from(b.seqIds), labels: Array.from(b.labels) };
}

/** Greedy answers from stock node-llama-cpp, one fresh sequence state per prompt, with or without an adapter. */
export async function greedyAnswers(model: LlamaModel, prompts: readonly number[][], adapterPath?: string, maxTokens = 8): Promise<string[]> {
    const context = await model.createContext({
        contextSize: 256,
        threads: 1,
        ...(adapterPath ? { lora: { adapters: [{ filePath: adapterPath, scale: 1 }] } } : {})
    });
    try {
        const completion = new LlamaCompletion({ contextSequence: context.getSequence() });
        const answers: string[] = [];
        for (const prompt of prompts) {
            const text = await completion.generateCompletion(prompt as Token[], { maxTokens, temperature: 0, repeatPenalty: false });
            answers.push(text.trim());
        }
        return answers;
    } finally {
        await context.dispose();
    }
}

/** The facts answered wrongly, each as "question → answer (want …)". */
export function wrongAnswers(facts: readonly Fact[], answers: readonly string[]): string[] {
    return facts.flatMap((f, i) => (answers[i] === f.answer ? [] : [`${f.question} → ${JSON.stringify(answers[i])} (want ${JSON.stringify(f.answer)})`]));
}
