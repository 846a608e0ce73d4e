// llama.cpp's q/k row permutation, both ways. For llama-family models (ArchitectureSpec.permutedQK),
// convert_hf_to_gguf.py reorders the rows of q_proj and k_proj within each head (LlamaModel.permute:
// w.reshape(n_head, 2, d/2, cols).swapaxes(1, 2)) so that llama.cpp can rotate adjacent pairs: GGUF row h·d + 2·i + j
// holds HF row h·d + j·(d/2) + i. A LoRA's B has the rows of its weight, so a PEFT export undoes the permutation on B
// (export/peft.ts) and a PEFT import re-applies it (importAdapter/); A acts on the input side and never moves.
// k_proj is permuted over the KV heads (LlamaModel.permute takes n_head_kv when it differs).
import type { GgufFile } from "../gguf";

function moveRows(m: Float32Array, nRows: number, nCols: number, nHead: number, toGguf: boolean): Float32Array {
    if (nRows % (2 * nHead) !== 0) throw new Error(`cannot permute ${nRows} rows over ${nHead} heads`);
    const d = nRows / nHead;
    const out = new Float32Array(m.length);
    for (let h = 0; h < nHead; h++) {
        for (let i = 0; i < d / 2; i++) {
            for (let j = 0; j < 2; j++) {
                const gguf = (h * d + 2 * i + j) * nCols;
                const hf = (h * d + j * (d / 2) + i) * nCols;
                const [from, to] = toGguf ? [hf, gguf] : [gguf, hf];
                out.set(m.subarray(from, from + nCols), to);
            }
        }
    }
    return out;
}

/** Undoes LlamaModel.permute on the rows of a row-major [nRows, nCols] matrix (GGUF order → HF order). */
export function unpermuteRows(m: Float32Array, nRows: number, nCols: number, nHead: number): Float32Array {
    return moveRows(m, nRows, nCols, nHead, false);
}

/** Applies LlamaModel.permute to the rows of a row-major [nRows, nCols] matrix (HF order → GGUF order). */
export function permuteRows(m: Float32Array, nRows: number, nCols: number, nHead: number): Float32Array {
    return moveRows(m, nRows, nCols, nHead, true);
}

/**
 * The head count the permutation of `module`'s rows uses: `head_count` for attn_q, `head_count_kv` (else
 * `head_count`) for attn_k. Undefined when the key is missing or varies per layer (an array): callers refuse then.
 */
export function permutationHeads(base: Pick<GgufFile, "kv">, arch: string, module: "attn_q" | "attn_k"): number | undefined {
    const read = (key: string): number | undefined => {
        const v = base.kv.get(`${arch}.attention.${key}`);
        return v !== undefined && typeof v.value === "number" ? v.value : undefined;
    };
    if (module === "attn_k" && !base.kv.has(`${arch}.attention.head_count_kv`)) return read("head_count");
    return read(module === "attn_q" ? "head_count" : "head_count_kv");
}
