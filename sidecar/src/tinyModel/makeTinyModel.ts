// Writes the embedded default model for the demo and the tests: a llama-architecture GGUF with random
// weights from a fixed seed, a real tokenizer copied from a vocabulary GGUF in node-llama-cpp's llama.cpp
// bundle, and a real chat template as `tokenizer.chat_template`. Same options → same bytes.
import { readFileSync } from "node:fs";
import { GgmlType, readGguf, writeGguf, encodeAs, type EncodableType, type GgufTensorToWrite, type GgufValue } from "../gguf";
import { bundledTemplatePath, bundledVocabPath } from "./bundleAssets";
import { Sfc32, hashString } from "./prng";
import { DEFAULT_TINY_SHAPE, checkShape, parameterCount, type TinyModelShape } from "./shape";

export type TinyModelQuant = "f32" | "f16" | "bf16" | "q4_0";

export interface MakeTinyModelOptions {
    out: string;
    seed?: number;
    shape?: Partial<TinyModelShape>;
    /** Storage type of the 2-D weights; norms stay F32 as llama.cpp's quantizer leaves them. */
    quant?: TinyModelQuant;
    /** Name of a `models/ggml-vocab-<name>.gguf` in the bundle. */
    vocab?: string;
    /** Name of a `models/templates/<name>.jinja` in the bundle. */
    template?: string;
}

export interface TinyModelInfo {
    path: string;
    shape: TinyModelShape;
    nVocab: number;
    nParams: number;
    quant: TinyModelQuant;
    seed: number;
}

export const DEFAULT_SEED = 1234;
export const DEFAULT_VOCAB = "phi-3";
export const DEFAULT_TEMPLATE = "microsoft-Phi-3.5-mini-instruct";

/** Weight scale: GPT-2's 0.02 keeps the random model's logits near uniform (loss ≈ ln n_vocab). */
const INIT_STD = 0.02;

const fileTypeOf: Record<TinyModelQuant, number> = { f32: 0, f16: 1, bf16: 32, q4_0: 2 }; // llama_ftype values
const ggmlTypeOf: Record<TinyModelQuant, EncodableType> = { f32: GgmlType.F32, f16: GgmlType.F16, bf16: GgmlType.BF16, q4_0: GgmlType.Q4_0 };

/** Tokenizer keys copied verbatim; everything architecture-specific in the vocab file is dropped. */
function tokenizerKv(vocabPath: string): [string, GgufValue][] {
    const vocab = readGguf(vocabPath);
    return [...vocab.kv].filter(([k]) => k.startsWith("tokenizer.") && k !== "tokenizer.chat_template");
}

/** Every `<|…|>` literal the template emits must be a single special token of the vocabulary. */
function checkTemplateTokens(template: string, templatePath: string, kv: [string, GgufValue][], vocabPath: string): void {
    const tokens = kv.find(([k]) => k === "tokenizer.ggml.tokens")?.[1];
    if (!tokens || tokens.type !== "array" || tokens.itemType !== "string") throw new Error(`${vocabPath}: no tokenizer.ggml.tokens string array`);
    const known = new Set(tokens.value);
    for (const m of template.matchAll(/<\|[a-z_]+\|>/g)) {
        if (!known.has(m[0])) throw new Error(`${templatePath}: special token ${m[0]} is not in the vocabulary ${vocabPath}`);
    }
}

export function makeTinyModel(opts: MakeTinyModelOptions): TinyModelInfo {
    const shape: TinyModelShape = { ...DEFAULT_TINY_SHAPE, ...opts.shape };
    checkShape(shape);
    const seed = opts.seed ?? DEFAULT_SEED;
    const quant = opts.quant ?? "f32";
    if (!(quant in fileTypeOf)) throw new Error(`make-tiny-model: unknown quant '${quant}' (f32, f16, bf16 or q4_0; Q4_K_M goes through the engine's quantizer)`);
    const vocabPath = bundledVocabPath(opts.vocab ?? DEFAULT_VOCAB);
    const templatePath = bundledTemplatePath(opts.template ?? DEFAULT_TEMPLATE);
    const template = readFileSync(templatePath, "utf8");
    const tokKv = tokenizerKv(vocabPath);
    checkTemplateTokens(template, templatePath, tokKv, vocabPath);
    const tokensKv = tokKv.find(([k]) => k === "tokenizer.ggml.tokens")![1];
    const nVocab = tokensKv.type === "array" ? tokensKv.value.length : 0;

    const headDim = shape.nEmbd / shape.nHead;
    const kvDim = headDim * shape.nHeadKv;
    const u32 = (value: number): GgufValue => ({ type: "u32", value });
    const f32 = (value: number): GgufValue => ({ type: "f32", value });
    const kv: [string, GgufValue][] = [
        ["general.architecture", { type: "string", value: "llama" }],
        ["general.name", { type: "string", value: `lora-studio-tiny-${shape.nLayer}x${shape.nEmbd}-seed${seed}` }],
        ["general.file_type", u32(fileTypeOf[quant])],
        ...(quant === "q4_0" ? [["general.quantization_version", u32(2)] as [string, GgufValue]] : []),
        ["llama.vocab_size", u32(nVocab)],
        ["llama.context_length", u32(shape.nCtx)],
        ["llama.embedding_length", u32(shape.nEmbd)],
        ["llama.block_count", u32(shape.nLayer)],
        ["llama.feed_forward_length", u32(shape.nFf)],
        ["llama.attention.head_count", u32(shape.nHead)],
        ["llama.attention.head_count_kv", u32(shape.nHeadKv)],
        ["llama.attention.layer_norm_rms_epsilon", f32(shape.rmsEps)],
        ["llama.rope.freq_base", f32(shape.ropeFreqBase)],
        ["llama.rope.dimension_count", u32(headDim)],
        ...tokKv,
        ["tokenizer.chat_template", { type: "string", value: template }]
    ];

    const weightType = ggmlTypeOf[quant];
    const random = (name: string, dims: number[], std = INIT_STD): GgufTensorToWrite => ({
        name,
        dims,
        type: weightType,
        data: () => encodeAs(weightType, new Sfc32(seed, hashString(name)).fillNormal(new Float32Array(dims[0]! * dims[1]!), std))
    });
    const ones = (name: string, n: number): GgufTensorToWrite => ({ name, dims: [n], type: GgmlType.F32, data: () => encodeAs(GgmlType.F32, new Float32Array(n).fill(1)) });

    const tensors: GgufTensorToWrite[] = [random("token_embd.weight", [shape.nEmbd, nVocab])];
    for (let i = 0; i < shape.nLayer; i++) {
        const b = `blk.${i}`;
        tensors.push(
            ones(`${b}.attn_norm.weight`, shape.nEmbd),
            random(`${b}.attn_q.weight`, [shape.nEmbd, shape.nEmbd]),
            random(`${b}.attn_k.weight`, [shape.nEmbd, kvDim]),
            random(`${b}.attn_v.weight`, [shape.nEmbd, kvDim]),
            random(`${b}.attn_output.weight`, [shape.nEmbd, shape.nEmbd]),
            ones(`${b}.ffn_norm.weight`, shape.nEmbd),
            random(`${b}.ffn_gate.weight`, [shape.nEmbd, shape.nFf]),
            random(`${b}.ffn_up.weight`, [shape.nEmbd, shape.nFf]),
            random(`${b}.ffn_down.weight`, [shape.nFf, shape.nEmbd])
        );
    }
    tensors.push(ones("output_norm.weight", shape.nEmbd), random("output.weight", [shape.nEmbd, nVocab]));

    writeGguf(opts.out, { kv, tensors });
    return { path: opts.out, shape, nVocab, nParams: parameterCount(shape, nVocab), quant, seed };
}
