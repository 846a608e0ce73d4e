// Logits from stock node-llama-cpp (its prebuilt CPU binary), for comparing against our engine and the
// PyTorch reference. Uses `controlledEvaluate`, which returns the raw logits of every requested row.
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";

/** Stock node-llama-cpp on the CPU, quiet. */
export function stockLlama(): Promise<Llama> {
    return getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
}

export interface StockLogitsOptions {
    /** A GGUF LoRA adapter to apply at scale 1, as chat does. */
    loraPath?: string;
}

/** Logits (n_tokens × n_vocab, row-major) for one sequence evaluated from position 0. */
export async function stockLogits(model: LlamaModel, tokens: number[], nVocab: number, opts: StockLogitsOptions = {}): Promise<Float32Array> {
    const context = await model.createContext({
        contextSize: Math.max(256, tokens.length + 1),
        batchSize: Math.max(256, tokens.length),
        sequences: 1,
        // F32 KV cache and no flash attention: the default F16 cache alone perturbs logits by ~1e-3,
        // which would hide the differences these comparisons look for.
        experimentalKvCacheKeyType: "F32",
        experimentalKvCacheValueType: "F32",
        flashAttention: false,
        ...(opts.loraPath ? { lora: { adapters: [{ filePath: opts.loraPath, scale: 1 }] } } : {})
    });
    try {
        const sequence = context.getSequence();
        const results = await sequence.controlledEvaluate(tokens.map((t) => [t as never, { generateNext: { logits: true } }]));
        const out = new Float32Array(tokens.length * nVocab);
        results.forEach((r, i) => {
            const logits = r?.next?.logits;
            if (!logits) throw new Error(`stockLogits: no logits for row ${i}`);
            for (const [token, value] of logits) out[i * nVocab + (token as number)] = value;
        });
        return out;
    } finally {
        await context.dispose();
    }
}
