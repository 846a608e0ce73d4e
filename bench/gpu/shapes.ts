// The model shapes of the GPU benchmark (issue 6) and the FLOP count its MFU uses. One source of truth: the engine
// benchmark writes the chosen shape to shape.json, and bench/gpu/hf_peft_baseline.py builds its HF config from it.
import type { TinyModelShape } from "../../sidecar/src/tinyModel/shape";
import type { TinyModelArch } from "../../sidecar/src/tinyModel/makeTinyModel";

export interface BenchShape {
    name: string;
    arch: TinyModelArch;
    shape: TinyModelShape;
    /** Rows of the embedding/output matrices (the published model's vocab_size). */
    vocabSize: number;
    /** Bundled tokenizer and template whose special tokens fit (models/ggml-vocab-<vocab>.gguf). */
    vocab: string;
    template: string;
    tiedEmbeddings: boolean;
}

/** Shapes of the published configs (config.json of meta-llama/Llama-3.2-1B and Qwen/Qwen2.5-1.5B); weights random. */
export const BENCH_SHAPES: Record<string, BenchShape> = {
    "llama-3.2-1b": {
        name: "llama-3.2-1b",
        arch: "llama",
        shape: { nLayer: 16, nEmbd: 2048, nHead: 32, nHeadKv: 8, nFf: 8192, nCtx: 131072, rmsEps: 1e-5, ropeFreqBase: 500000 },
        vocabSize: 128256,
        vocab: "llama-bpe",
        template: "meta-llama-Llama-3.2-3B-Instruct",
        tiedEmbeddings: true
    },
    "qwen2.5-1.5b": {
        name: "qwen2.5-1.5b",
        arch: "qwen2",
        shape: { nLayer: 28, nEmbd: 1536, nHead: 12, nHeadKv: 2, nFf: 8960, nCtx: 32768, rmsEps: 1e-6, ropeFreqBase: 1000000 },
        vocabSize: 151936,
        vocab: "qwen2",
        template: "Qwen-Qwen2.5-7B-Instruct",
        tiedEmbeddings: true
    }
};

/** A small stand-in with the same arch, tokenizer and code path, for checking the pipeline on a CPU machine. */
export function dryRunShape(s: BenchShape): BenchShape {
    return { ...s, name: `${s.name}-dry-run`, shape: { ...s.shape, nLayer: 1, nEmbd: 256, nHead: 4, nHeadKv: 2, nFf: 512 } };
}

/** Parameters that take part in a matmul per token: every projection plus the LM head (tied or not), no embedding lookup. */
export function matmulParams(s: BenchShape): number {
    const { nLayer, nEmbd, nHead, nHeadKv, nFf } = s.shape;
    const kvDim = (nEmbd / nHead) * nHeadKv;
    const perLayer = 2 * nEmbd * nEmbd + 2 * nEmbd * kvDim + 3 * nEmbd * nFf;
    return nLayer * perLayer + s.vocabSize * nEmbd;
}

/**
 * Training FLOPs per token of LoRA on a frozen base, as issue 6 counts them: 4·N (forward 2·N, input gradient 2·N;
 * a frozen base has no weight gradient) plus attention: QKᵀ and AV cost 4·seq·d per token and layer forward, and
 * twice that backward, counted over the full seq×seq square (PaLM's convention, no causal halving).
 */
export function flopsPerToken(s: BenchShape, seqLen: number): number {
    return 4 * matmulParams(s) + 12 * s.shape.nLayer * s.shape.nEmbd * seqLen;
}
