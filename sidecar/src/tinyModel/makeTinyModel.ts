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
    /** "qwen2" adds the q/k/v projection biases of Qwen2 models. Default "llama". */
    arch?: TinyModelArch;
    /**
     * Rows of the embedding and output matrices: the tokenizer is padded with unused `[PAD<id>]` tokens up to this
     * size, as converted Qwen2.5 and Llama 3 GGUFs are (their matrices are wider than their tokenizers). Default:
     * the tokenizer's size.
     */
    vocabSize?: number;
    /** No output.weight: llama.cpp multiplies by token_embd (Llama 3.2 1B/3B, Qwen2.5 ≤ 3B). */
    tiedEmbeddings?: boolean;
    /**
     * Tile every weight from one seeded block of FAST_BLOCK normal values (each tensor from its own offset) instead
     * of drawing each value: memcpy speed for billion-parameter throughput benchmarks, where the values only need a
     * realistic distribution. Not for models that must learn.
     */
    fastWeights?: boolean;
}

const FAST_BLOCK = 1 << 20;

export type TinyModelArch = "llama" | "qwen2";

const TOKEN_TYPE_UNUSED = 5; // llama_token_type / gguf TokenType

/** Pads the tokenizer arrays (tokens, token types, scores) with unused tokens up to `size` entries. */
function padTokenizer(kv: [string, GgufValue][], size: number, vocabPath: string): [string, GgufValue][] {
    const tokens = kv.find(([k]) => k === "tokenizer.ggml.tokens")?.[1];
    const n = tokens?.type === "array" ? tokens.value.length : 0;
    if (!Number.isInteger(size) || size < n) throw new Error(`make-tiny-model: vocabSize ${size} must be an integer >= the ${n} tokens of ${vocabPath}`);
    const extra = size - n;
    if (extra === 0) return kv;
    const ids = Array.from({ length: extra }, (_, i) => n + i);
    return kv.map(([k, v]): [string, GgufValue] => {
        if (v.type !== "array") return [k, v];
        if (k === "tokenizer.ggml.tokens" && v.itemType === "string") return [k, { ...v, value: [...v.value, ...ids.map((id) => `[PAD${id}]`)] }];
        if (k === "tokenizer.ggml.token_type" && v.itemType !== "string" && v.itemType !== "bool" && typeof v.value[0] === "number") {
            return [k, { type: "array", itemType: v.itemType as "i32", value: [...(v.value as number[]), ...ids.map(() => TOKEN_TYPE_UNUSED)] }];
        }
        if (k === "tokenizer.ggml.scores" && typeof v.value[0] === "number") {
            return [k, { type: "array", itemType: v.itemType as "f32", value: [...(v.value as number[]), ...ids.map(() => 0)] }];
        }
        return [k, v];
    });
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
    const tokKv = opts.vocabSize === undefined ? tokenizerKv(vocabPath) : padTokenizer(tokenizerKv(vocabPath), opts.vocabSize, vocabPath);
    const arch = opts.arch ?? "llama";
    if (arch !== "llama" && arch !== "qwen2") throw new Error(`make-tiny-model: unknown arch '${String(arch)}' (llama or qwen2)`);
    checkTemplateTokens(template, templatePath, tokKv, vocabPath);
    const tokensKv = tokKv.find(([k]) => k === "tokenizer.ggml.tokens")![1];
    const nVocab = tokensKv.type === "array" ? tokensKv.value.length : 0;

    const headDim = shape.nEmbd / shape.nHead;
    const kvDim = headDim * shape.nHeadKv;
    const u32 = (value: number): GgufValue => ({ type: "u32", value });
    const f32 = (value: number): GgufValue => ({ type: "f32", value });
    const kv: [string, GgufValue][] = [
        ["general.architecture", { type: "string", value: arch }],
        ["general.name", { type: "string", value: `lora-studio-tiny-${shape.nLayer}x${shape.nEmbd}-seed${seed}` }],
        ["general.file_type", u32(fileTypeOf[quant])],
        ...(quant === "q4_0" ? [["general.quantization_version", u32(2)] as [string, GgufValue]] : []),
        [`${arch}.vocab_size`, u32(nVocab)],
        [`${arch}.context_length`, u32(shape.nCtx)],
        [`${arch}.embedding_length`, u32(shape.nEmbd)],
        [`${arch}.block_count`, u32(shape.nLayer)],
        [`${arch}.feed_forward_length`, u32(shape.nFf)],
        [`${arch}.attention.head_count`, u32(shape.nHead)],
        [`${arch}.attention.head_count_kv`, u32(shape.nHeadKv)],
        [`${arch}.attention.layer_norm_rms_epsilon`, f32(shape.rmsEps)],
        [`${arch}.rope.freq_base`, f32(shape.ropeFreqBase)],
        [`${arch}.rope.dimension_count`, u32(headDim)],
        ...tokKv,
        ["tokenizer.chat_template", { type: "string", value: template }]
    ];

    const weightType = ggmlTypeOf[quant];
    let fastBlock: Float32Array | undefined;
    const tiled = (name: string, n: number): Float32Array => {
        fastBlock ??= new Sfc32(seed, hashString("fast-weights")).fillNormal(new Float32Array(2 * FAST_BLOCK), INIT_STD);
        const out = new Float32Array(n);
        const offset = hashString(name) % FAST_BLOCK;
        for (let i = 0; i < n; i += FAST_BLOCK) out.set(fastBlock.subarray(offset, offset + Math.min(FAST_BLOCK, n - i)), i);
        return out;
    };
    const random = (name: string, dims: number[], std = INIT_STD): GgufTensorToWrite => ({
        name,
        dims,
        type: weightType,
        data: () => encodeAs(weightType, opts.fastWeights
            ? tiled(name, dims[0]! * dims[1]!)
            : new Sfc32(seed, hashString(name)).fillNormal(new Float32Array(dims[0]! * dims[1]!), std))
    });
    const ones = (name: string, n: number): GgufTensorToWrite => ({ name, dims: [n], type: GgmlType.F32, data: () => encodeAs(GgmlType.F32, new Float32Array(n).fill(1)) });
    const zeros = (name: string, n: number): GgufTensorToWrite => ({ name, dims: [n], type: GgmlType.F32, data: () => encodeAs(GgmlType.F32, new Float32Array(n)) });

    const tensors: GgufTensorToWrite[] = [random("token_embd.weight", [shape.nEmbd, nVocab])];
    for (let i = 0; i < shape.nLayer; i++) {
        const b = `blk.${i}`;
        tensors.push(
            ones(`${b}.attn_norm.weight`, shape.nEmbd),
            random(`${b}.attn_q.weight`, [shape.nEmbd, shape.nEmbd]),
            random(`${b}.attn_k.weight`, [shape.nEmbd, kvDim]),
            random(`${b}.attn_v.weight`, [shape.nEmbd, kvDim]),
            ...(arch === "qwen2" ? [zeros(`${b}.attn_q.bias`, shape.nEmbd), zeros(`${b}.attn_k.bias`, kvDim), zeros(`${b}.attn_v.bias`, kvDim)] : []),
            random(`${b}.attn_output.weight`, [shape.nEmbd, shape.nEmbd]),
            ones(`${b}.ffn_norm.weight`, shape.nEmbd),
            random(`${b}.ffn_gate.weight`, [shape.nEmbd, shape.nFf]),
            random(`${b}.ffn_up.weight`, [shape.nEmbd, shape.nFf]),
            random(`${b}.ffn_down.weight`, [shape.nFf, shape.nEmbd])
        );
    }
    tensors.push(ones("output_norm.weight", shape.nEmbd));
    if (!opts.tiedEmbeddings) tensors.push(random("output.weight", [shape.nEmbd, nVocab]));

    writeGguf(opts.out, { kv, tensors });
    const biases = arch === "qwen2" ? shape.nLayer * (shape.nEmbd + 2 * kvDim) : 0;
    const nParams = parameterCount(shape, nVocab) - (opts.tiedEmbeddings ? nVocab * shape.nEmbd : 0) + biases;
    return { path: opts.out, shape, nVocab, nParams, quant, seed };
}
