// Writes the small random models for the demo and the tests: a GGUF of one of llama.cpp's architectures
// (archs.ts) with random weights from a fixed seed, a real tokenizer copied from a vocabulary GGUF in
// node-llama-cpp's llama.cpp bundle, and a real chat template as `tokenizer.chat_template` (tokenizers.ts).
// Same options → same bytes; the default (llama) model's bytes are those of the first fixtures.
import { readFileSync } from "node:fs";
import { GgmlType, writeGguf, encodeAs, type EncodableType, type GgufTensorToWrite, type GgufValue } from "../gguf";
import { INIT_STD, OUTPUT_NORM_MEAN, TINY_ARCHS, TINY_MODEL_ARCHS, isTinyModelArch, type ArchContext, type TensorKind, type TensorPlan, type TinyModelArch } from "./archs";
import { bundledTemplatePath, bundledVocabPath } from "./bundleAssets";
import { Sfc32, hashString } from "./prng";
import { DEFAULT_TINY_SHAPE, checkShape, type TinyModelShape } from "./shape";
import { applyRenames, checkTemplateTokens, padTokenizer, tokenizerKv } from "./tokenizers";

export type { TinyModelArch } from "./archs";
export { TINY_MODEL_ARCHS } from "./archs";

export type TinyModelQuant = "f32" | "f16" | "bf16" | "q4_0";

export interface MakeTinyModelOptions {
    out: string;
    seed?: number;
    shape?: Partial<TinyModelShape>;
    /** Storage type of the 2-D weights; norms stay F32 as llama.cpp's quantizer leaves them. */
    quant?: TinyModelQuant;
    /** Name of a `models/ggml-vocab-<name>.gguf` in the bundle. Default: the architecture's (tokenizers.ts). */
    vocab?: string;
    /** Name of a `models/templates/<name>.jinja` in the bundle. Default: the architecture's. */
    template?: string;
    /** One of TINY_MODEL_ARCHS. Default "llama". */
    arch?: TinyModelArch;
    /**
     * Rows of the embedding and output matrices: the tokenizer is padded with unused `[PAD<id>]` tokens up to this
     * size, as converted Qwen2.5 and Llama 3 GGUFs are (their matrices are wider than their tokenizers). Default:
     * the tokenizer's size.
     */
    vocabSize?: number;
    /** No output.weight: llama.cpp multiplies by token_embd (Llama 3.2 1B/3B, Qwen2.5 ≤ 3B). Default: the architecture's. */
    tiedEmbeddings?: boolean;
    /** A mixture-of-experts llama (Mixtral's layout): `count` experts per layer, `used` routed per token. */
    experts?: { count: number; used: number };
    /**
     * Tile every weight from one seeded block of FAST_BLOCK normal values (each tensor from its own offset) instead
     * of drawing each value: memcpy speed for billion-parameter throughput benchmarks, where the values only need a
     * realistic distribution. Not for models that must learn.
     */
    fastWeights?: boolean;
}

const FAST_BLOCK = 1 << 20;

export interface TinyModelInfo {
    path: string;
    arch: TinyModelArch;
    shape: TinyModelShape;
    nVocab: number;
    nParams: number;
    quant: TinyModelQuant;
    seed: number;
    vocab: string;
    template: string;
}

export const DEFAULT_SEED = 1234;
export const DEFAULT_VOCAB = TINY_ARCHS.llama.tokenizer.vocab;
export const DEFAULT_TEMPLATE = TINY_ARCHS.llama.tokenizer.template;


const fileTypeOf: Record<TinyModelQuant, number> = { f32: 0, f16: 1, bf16: 32, q4_0: 2 }; // llama_ftype values
const ggmlTypeOf: Record<TinyModelQuant, EncodableType> = { f32: GgmlType.F32, f16: GgmlType.F16, bf16: GgmlType.BF16, q4_0: GgmlType.Q4_0 };

function archContext(arch: TinyModelArch, shape: TinyModelShape, experts: MakeTinyModelOptions["experts"]): ArchContext {
    const headDim = shape.nEmbd / shape.nHead;
    if (experts) {
        if (arch !== "llama") throw new Error(`make-tiny-model: experts are written for arch 'llama' only (Mixtral's layout), not '${arch}'`);
        if (!(Number.isInteger(experts.count) && Number.isInteger(experts.used) && experts.used >= 1 && experts.used <= experts.count)) {
            throw new Error(`make-tiny-model: experts.used ${experts.used} must be an integer in [1, experts.count ${experts.count}]`);
        }
    }
    return { arch, shape, headDim, kvDim: headDim * shape.nHeadKv, ...(experts ? { experts } : {}) };
}

export function makeTinyModel(opts: MakeTinyModelOptions): TinyModelInfo {
    const arch = opts.arch ?? "llama";
    if (!isTinyModelArch(arch)) throw new Error(`make-tiny-model: unknown arch '${String(arch)}'; known: ${TINY_MODEL_ARCHS.join(", ")}`);
    const spec = TINY_ARCHS[arch];
    const shape: TinyModelShape = { ...DEFAULT_TINY_SHAPE, ...spec.shapeDefaults, ...opts.shape };
    checkShape(shape);
    const seed = opts.seed ?? DEFAULT_SEED;
    const quant = opts.quant ?? "f32";
    if (!(quant in fileTypeOf)) throw new Error(`make-tiny-model: unknown quant '${quant}' (f32, f16, bf16 or q4_0; Q4_K_M goes through the engine's quantizer)`);

    const vocab = opts.vocab ?? spec.tokenizer.vocab;
    const template = opts.template ?? spec.tokenizer.template;
    const vocabPath = bundledVocabPath(vocab);
    const templatePath = bundledTemplatePath(template);
    const templateText = readFileSync(templatePath, "utf8");
    // The family's renamed tokens belong to its vocabulary: another vocabulary given explicitly is copied as it is.
    const renamed = vocab === spec.tokenizer.vocab ? applyRenames(tokenizerKv(vocabPath), spec.tokenizer, vocabPath) : tokenizerKv(vocabPath);
    const tokKv = opts.vocabSize === undefined ? renamed : padTokenizer(renamed, opts.vocabSize, vocabPath);
    checkTemplateTokens(templateText, templatePath, tokKv, vocabPath);
    const tokensKv = tokKv.find(([k]) => k === "tokenizer.ggml.tokens")![1];
    const nVocab = tokensKv.type === "array" ? tokensKv.value.length : 0;

    const ctx = archContext(arch, shape, opts.experts);
    const kv: [string, GgufValue][] = [
        ["general.architecture", { type: "string", value: arch }],
        ["general.name", { type: "string", value: `lora-studio-tiny-${shape.nLayer}x${shape.nEmbd}-seed${seed}` }],
        ["general.file_type", { type: "u32", value: fileTypeOf[quant] }],
        ...(quant === "q4_0" ? [["general.quantization_version", { type: "u32", value: 2 }] as [string, GgufValue]] : []),
        ...spec.hparams(ctx, nVocab),
        ...tokKv,
        ["tokenizer.chat_template", { type: "string", value: templateText }]
    ];

    const tied = opts.tiedEmbeddings ?? spec.tiedOutput;
    if (!tied && spec.alwaysTied) throw new Error(`make-tiny-model: arch '${arch}' has no output.weight in llama.cpp (the output is token_embd); tiedEmbeddings cannot be false`);
    const plans: TensorPlan[] = [{ name: "token_embd.weight", dims: [shape.nEmbd, nVocab], kind: { weight: INIT_STD } }];
    plans.push(...(spec.globals?.(ctx, nVocab) ?? []));
    for (let il = 0; il < shape.nLayer; il++) plans.push(...spec.layer(ctx, il));
    plans.push({ name: "output_norm.weight", dims: [shape.nEmbd], kind: spec.outputNorm ?? outputNormOf(arch) });
    if (!tied) plans.push({ name: "output.weight", dims: [shape.nEmbd, nVocab], kind: { weight: INIT_STD } });

    const values = tensorValues(seed, ggmlTypeOf[quant], opts.fastWeights ?? false);
    writeGguf(opts.out, { kv, tensors: plans.map(values) });
    const nParams = plans.reduce((n, p) => n + p.dims.reduce((a, d) => a * d, 1), 0);
    return { path: opts.out, arch, shape, nVocab, nParams, quant, seed, vocab, template };
}

/** llama keeps its all-ones final norm (the first fixtures' bytes); the other families' is centred on OUTPUT_NORM_MEAN (archs.ts). */
function outputNormOf(arch: TinyModelArch): TensorKind {
    return arch === "llama" ? "ones" : { f32: { mean: OUTPUT_NORM_MEAN, std: 0.1 } };
}

/** Turns a plan into the tensor to write; each tensor's values come from its own stream (seed, hash of its name). */
function tensorValues(seed: number, weightType: EncodableType, fastWeights: boolean): (p: TensorPlan) => GgufTensorToWrite {
    let fastBlock: Float32Array | undefined;
    const tiled = (name: string, n: number): Float32Array => {
        fastBlock ??= new Sfc32(seed, hashString("fast-weights")).fillNormal(new Float32Array(2 * FAST_BLOCK), INIT_STD);
        const out = new Float32Array(n);
        const offset = hashString(name) % FAST_BLOCK;
        for (let i = 0; i < n; i += FAST_BLOCK) out.set(fastBlock.subarray(offset, offset + Math.min(FAST_BLOCK, n - i)), i);
        return out;
    };
    const normal = (name: string, n: number, std: number): Float32Array => new Sfc32(seed, hashString(name)).fillNormal(new Float32Array(n), std);
    return (p) => {
        const n = p.dims.reduce((a, d) => a * d, 1);
        const f32 = (make: () => Float32Array): GgufTensorToWrite => ({ name: p.name, dims: p.dims, type: GgmlType.F32, data: () => encodeAs(GgmlType.F32, make()) });
        const k = p.kind;
        if (k === "ones") return f32(() => new Float32Array(n).fill(1));
        if ("f32" in k) return f32(() => normal(p.name, n, k.f32.std).map((v) => k.f32.mean + v));
        if ("values" in k) {
            if (k.values.length !== n) throw new Error(`make-tiny-model: ${p.name} has ${n} elements and ${k.values.length} values`);
            return f32(() => Float32Array.from(k.values));
        }
        const std = k.weight;
        // Fast weights are tiled at INIT_STD and rescaled, so a wider spread keeps memcpy speed.
        const fast = (): Float32Array => (std === INIT_STD ? tiled(p.name, n) : tiled(p.name, n).map((v) => (v * std) / INIT_STD));
        return { name: p.name, dims: p.dims, type: weightType, data: () => encodeAs(weightType, fastWeights ? fast() : normal(p.name, n, std)) };
    };
}
