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
    /**
     * Only these rows (token indexes), in this order. Default: every row. A 262k vocabulary makes each row's logits a
     * Map of 262k entries, so large-vocabulary comparisons take a few rows.
     */
    rows?: readonly number[];
}

/** Logits (rows × n_vocab, row-major; every token's row by default) for one sequence evaluated from position 0. */
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
        const rows = opts.rows ?? tokens.map((_, i) => i);
        const slot = new Map(rows.map((row, k) => [row, k]));
        if (slot.size !== rows.length || rows.some((r) => !(Number.isInteger(r) && r >= 0 && r < tokens.length))) {
            throw new Error(`stockLogits: rows must be distinct token indexes in [0, ${tokens.length}), got ${rows.join(", ")}`);
        }
        const out = new Float32Array(rows.length * nVocab);
        const filled = new Set<number>();
        await sequence.controlledEvaluate(tokens.map((t, i) => (slot.has(i) ? [t as never, { generateNext: { logits: true } }] : (t as never))), {
            // Copy each row as it arrives and drop its Map, so that only one row's Map is alive at a time.
            onTokenResult(i, result) {
                const k = slot.get(i);
                const logits = result.next?.logits;
                if (k === undefined || !logits) return;
                for (const [token, value] of logits) out[k * nVocab + (token as number)] = value;
                delete result.next.logits;
                filled.add(i);
            }
        });
        const missing = rows.filter((r) => !filled.has(r));
        if (missing.length > 0) throw new Error(`stockLogits: no logits for rows ${missing.join(", ")}`);
        return out;
    } finally {
        await context.dispose();
    }
}
