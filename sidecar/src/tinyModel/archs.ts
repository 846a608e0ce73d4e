// What each tiny architecture writes: its header keys and its tensors, exactly those llama.cpp v0.5.0's loader reads
// and creates for it (src/models/<arch>.cpp load_arch_hparams / load_arch_tensors, names from src/llama-arch.cpp),
// with the keys its convert_hf_to_gguf.py class writes (llama and qwen2 keep the key set and order of the first tiny
// models). A tensor llama.cpp does not create is an error at load time ("wrong number of tensors"), so nothing
// optional is added.
//
// Shape legend: E = n_embd, H = heads, Hkv = kv heads, D = head size (E / H), Q = H·D, KV = Hkv·D, F = n_ff,
// V = vocabulary rows. ggml dims: ne0 (the input width) first, so a projection E → Q is [E, Q].
import type { GgufValue } from "../gguf";
import type { TinyModelShape } from "./shape";
import { TOKENIZERS, type TokenizerChoice } from "./tokenizers";

export const TINY_MODEL_ARCHS = ["llama", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3", "smollm3", "mistral3", "gemma4", "qwen35"] as const;
export type TinyModelArch = (typeof TINY_MODEL_ARCHS)[number];

export function isTinyModelArch(arch: string): arch is TinyModelArch {
    return (TINY_MODEL_ARCHS as readonly string[]).includes(arch);
}

/**
 * How a tensor's values are made, each tensor from its own stream (seed, hash of its name). `{ weight: std }`: N(0, std²)
 * in the file's weight type (quantized with it). `{ f32: { mean, std } }`: N(mean, std²), always F32 (norms, biases, and
 * what llama.cpp's quantizer leaves alone: router, convolution kernels). `ones`: exactly 1. `{ values }`: exactly these,
 * F32 (what a converter computes rather than trains: Gemma 4's RoPE frequency factors).
 */
export type TensorKind = "ones" | { weight: number } | { f32: { mean: number; std: number } } | { values: readonly number[] };

/** GPT-2's 0.02 keeps the random model's logits near uniform (loss ≈ ln n_vocab). */
export const INIT_STD = 0.02;
const W: TensorKind = { weight: INIT_STD };
/** Norm weights 1 + N(0, 0.1²), so that a reference which forgot one (QK-norm, Gemma's post-norms) differs from llama.cpp. */
const NORM: TensorKind = { f32: { mean: 1, std: 0.1 } };
const BIAS: TensorKind = { f32: { mean: 0, std: 0.1 } };
const F32W: TensorKind = { f32: { mean: 0, std: INIT_STD } };

export interface TensorPlan {
    name: string;
    dims: number[];
    kind: TensorKind;
}

export interface ArchContext {
    arch: TinyModelArch;
    shape: TinyModelShape;
    headDim: number;
    kvDim: number;
    /** Mixture-of-experts (llama only): experts per layer and experts routed per token. */
    experts?: { count: number; used: number };
}

type Kv = [string, GgufValue];
const u32 = (value: number): GgufValue => ({ type: "u32", value });
const f32 = (value: number): GgufValue => ({ type: "f32", value });

export interface TinyArchSpec {
    tokenizer: TokenizerChoice;
    /** Shape fields this family differs in from DEFAULT_TINY_SHAPE (the caller's shape still wins). */
    shapeDefaults: Partial<TinyModelShape>;
    /** No output.weight by default: llama.cpp multiplies by token_embd (the caller may ask otherwise). */
    tiedOutput: boolean;
    /** llama.cpp never creates output.weight for this architecture (Gemma 1 and 2), so it cannot be untied. */
    alwaysTied?: true;
    /** `<arch>.…` keys after general.* and before tokenizer.*. */
    hparams(c: ArchContext, nVocab: number): Kv[];
    /** The tensors of block `il` (`blk.<il>.` prefix included). */
    layer(c: ArchContext, il: number): TensorPlan[];
    /** Model-wide tensors besides token_embd, output_norm and output (written after token_embd). */
    globals?(c: ArchContext, nVocab: number): TensorPlan[];
    /** output_norm.weight's values (default: centred on OUTPUT_NORM_MEAN). */
    outputNorm?: TensorKind;
}

/**
 * Sliding-window attention of the tiny Gemma 2/3: 16 tokens (Gemma's is 4096 and 512/1024), so that test sequences of
 * 40-80 tokens reach past the window and a causal-only mask gives other logits and gradients.
 */
export const TINY_SLIDING_WINDOW = 16;

/** Gemma 3's local:global layer ratio is 5:1 (pattern 6); 3:1 here, so the 4-layer model has both kinds. */
export function gemma3SwaLayers(nLayer: number): boolean[] {
    return Array.from({ length: nLayer }, (_, il) => il % 4 < 3);
}

/** llama.cpp's llama/SmolLM3/Mistral key set (LlamaModel.set_gguf_parameters): vocab_size and rope.dimension_count included. */
function llamaKeys(a: string, c: ArchContext, nVocab: number): Kv[] {
    const s = c.shape;
    return [
        [`${a}.vocab_size`, u32(nVocab)],
        [`${a}.context_length`, u32(s.nCtx)],
        [`${a}.embedding_length`, u32(s.nEmbd)],
        [`${a}.block_count`, u32(s.nLayer)],
        [`${a}.feed_forward_length`, u32(s.nFf)],
        [`${a}.attention.head_count`, u32(s.nHead)],
        [`${a}.attention.head_count_kv`, u32(s.nHeadKv)],
        ...(c.experts ? [[`${a}.expert_count`, u32(c.experts.count)], [`${a}.expert_used_count`, u32(c.experts.used)]] as Kv[] : []),
        [`${a}.attention.layer_norm_rms_epsilon`, f32(s.rmsEps)],
        [`${a}.rope.freq_base`, f32(s.ropeFreqBase)],
        [`${a}.rope.dimension_count`, u32(c.headDim)]
    ];
}

/** The generic TextModel key set (Qwen, Gemma): no vocab_size; head_dim configs add key/value_length. */
function textModelKeys(a: string, c: ArchContext, o: { rope: boolean; headDim: boolean }): Kv[] {
    const s = c.shape;
    return [
        [`${a}.block_count`, u32(s.nLayer)],
        [`${a}.context_length`, u32(s.nCtx)],
        [`${a}.embedding_length`, u32(s.nEmbd)],
        [`${a}.feed_forward_length`, u32(s.nFf)],
        [`${a}.attention.head_count`, u32(s.nHead)],
        [`${a}.attention.head_count_kv`, u32(s.nHeadKv)],
        ...(o.rope ? [[`${a}.rope.freq_base`, f32(s.ropeFreqBase)]] as Kv[] : []),
        [`${a}.attention.layer_norm_rms_epsilon`, f32(s.rmsEps)],
        ...(o.headDim ? [[`${a}.attention.key_length`, u32(c.headDim)], [`${a}.attention.value_length`, u32(c.headDim)]] as Kv[] : [])
    ];
}

const t = (name: string, dims: number[], kind: TensorKind): TensorPlan => ({ name, dims, kind });

/** Separate q/k/v projections, as every family but Phi-3 stores them. */
function qkv(b: string, c: ArchContext, qk: TensorKind = W): TensorPlan[] {
    const E = c.shape.nEmbd;
    return [t(`${b}.attn_q.weight`, [E, c.shape.nHead * c.headDim], qk), t(`${b}.attn_k.weight`, [E, c.kvDim], qk), t(`${b}.attn_v.weight`, [E, c.kvDim], W)];
}

/**
 * Weight spreads that make the random models behave like trained ones where it matters for the tests, each measured
 * with the learning test's recipe (LoRA rank 16, lr 2e-3, 40 epochs of the 30 facts, exact greedy answers wanted):
 *
 * OUTPUT_NORM_MEAN: the final norm of every family but llama (whose bytes are fixed) is centred on 5. With N(0, 0.02²)
 * output rows a logit is at most |h|·|row| ≈ 16 · 0.32 ≈ 5, too little for one answer token to beat 150-260k random
 * rows: qwen2 2/30, gemma 2/30, mistral3 26/30 exact after training (loss ≈ 9); centred on 5, qwen2 and mistral3 30/30
 * (loss 0.002). Real models' final norms are well above 1 too.
 *
 * GEMMA_WRITE_STD: Gemma scales embeddings by sqrt(E) = 16 and has no post-norms, so N(0, 0.02²) attn_output/ffn_down
 * write 3x less than the input embedding holds and the tied output predicts the input token again (initial loss 23,
 * 1/30 after training); at std 0.1 the layers' writes match the embedding (initial loss 11.8, 30/30).
 *
 * GEMMA2_QK_STD: Gemma 2 caps attention logits at 50 and final logits at 30 with tanh, the identity to 1e-4 below 0.5.
 * With N(0, 0.02²) q/k its attention logits stay there (std ≈ 0.1), so a graph without the cap would pass every
 * comparison; at std 0.1 they reach ≈ 10 (std 2.6) and leaving out the attention cap moves the logits by ≈ 0.1, the
 * final cap by ≈ 0.2 (trained Gemma 2's logits do reach the caps).
 *
 * QWEN2_V_BIAS_STD: a v bias adds W_o·b_v to every token's residual; at std 0.1 that constant swamps the 0.02-sized
 * embeddings and the model cannot tell the questions apart (1/30 after training). q/k biases stay at 0.1 (a q bias
 * changes attention, so leaving it out changes the logits by ≈ 1.6; a k bias does not, softmax being shift-invariant).
 */
export const OUTPUT_NORM_MEAN = 5;
export const GEMMA_WRITE_STD = 0.1;
export const GEMMA2_QK_STD = 0.1;
export const QWEN2_V_BIAS_STD = 0.01;

function gatedFfn(b: string, c: ArchContext, down: TensorKind = W): TensorPlan[] {
    const { nEmbd: E, nFf: F } = c.shape;
    return [t(`${b}.ffn_gate.weight`, [E, F], W), t(`${b}.ffn_up.weight`, [E, F], W), t(`${b}.ffn_down.weight`, [F, E], down)];
}

/** Mixtral's expert layout (llama.cpp creates it for llama when expert_count > 0): a router and stacked experts. */
function expertFfn(b: string, c: ArchContext, n: number): TensorPlan[] {
    const { nEmbd: E, nFf: F } = c.shape;
    return [
        t(`${b}.ffn_gate_inp.weight`, [E, n], F32W),
        t(`${b}.ffn_gate_exps.weight`, [E, F, n], W),
        t(`${b}.ffn_down_exps.weight`, [F, E, n], W),
        t(`${b}.ffn_up_exps.weight`, [E, F, n], W)
    ];
}

/** llama and qwen2 tensors in the order the first fixtures were written (their bytes must not change). */
function llamaLayer(c: ArchContext, il: number): TensorPlan[] {
    const b = `blk.${il}`;
    const E = c.shape.nEmbd;
    return [
        t(`${b}.attn_norm.weight`, [E], "ones"),
        ...qkv(b, c),
        ...(c.arch === "qwen2"
            ? [t(`${b}.attn_q.bias`, [E], BIAS), t(`${b}.attn_k.bias`, [c.kvDim], BIAS), t(`${b}.attn_v.bias`, [c.kvDim], { f32: { mean: 0, std: QWEN2_V_BIAS_STD } })]
            : []),
        t(`${b}.attn_output.weight`, [E, E], W),
        t(`${b}.ffn_norm.weight`, [E], "ones"),
        ...(c.experts ? expertFfn(b, c, c.experts.count) : gatedFfn(b, c))
    ];
}

/** Pre-norm attention + gated FFN with `norm` weights; `qkNorm` adds Qwen3/Gemma 3's per-head q/k RMSNorm; `postNorms` Gemma 2/3's. */
function denseLayer(c: ArchContext, il: number, o: { qkNorm?: boolean; postNorms?: boolean; qk?: TensorKind; writes?: TensorKind } = {}): TensorPlan[] {
    const b = `blk.${il}`;
    const E = c.shape.nEmbd;
    return [
        t(`${b}.attn_norm.weight`, [E], NORM),
        ...qkv(b, c, o.qk),
        ...(o.qkNorm ? [t(`${b}.attn_q_norm.weight`, [c.headDim], NORM), t(`${b}.attn_k_norm.weight`, [c.headDim], NORM)] : []),
        t(`${b}.attn_output.weight`, [c.shape.nHead * c.headDim, E], o.writes ?? W),
        ...(o.postNorms ? [t(`${b}.post_attention_norm.weight`, [E], NORM)] : []),
        t(`${b}.ffn_norm.weight`, [E], NORM),
        ...gatedFfn(b, c, o.writes),
        ...(o.postNorms ? [t(`${b}.post_ffw_norm.weight`, [E], NORM)] : [])
    ];
}

/** Phi-3: one [E, Q + 2·KV] projection holding q, k, v in that order; ffn_up [E, 2F] holding gate then up (ggml_swiglu gates the first half). */
function phi3Layer(c: ArchContext, il: number): TensorPlan[] {
    const b = `blk.${il}`;
    const { nEmbd: E, nFf: F } = c.shape;
    return [
        t(`${b}.attn_norm.weight`, [E], NORM),
        t(`${b}.attn_qkv.weight`, [E, E + 2 * c.kvDim], W),
        t(`${b}.attn_output.weight`, [E, E], W),
        t(`${b}.ffn_norm.weight`, [E], NORM),
        t(`${b}.ffn_up.weight`, [E, 2 * F], W),
        t(`${b}.ffn_down.weight`, [F, E], W)
    ];
}

/**
 * Qwen3.5's hybrid stack (refusal fixture): every 4th layer is gated full attention (q and its gate in one attn_q),
 * the others gated delta-net linear attention with a causal convolution. Sizes: head_k = head_v = 32 (ssm.state_size),
 * 2 key heads (ssm.group_count), 4 value heads (ssm.time_step_rank), d_inner = 4·32.
 */
export const QWEN35_SSM = { convKernel: 4, stateSize: 32, groupCount: 2, timeStepRank: 4, fullAttentionInterval: 4 } as const;

function mropeSections(nRot: number): number[] {
    const half = nRot / 2;
    const w = Math.round((half * 11) / 32);
    return [w, w, half - 2 * w, 0];
}

function qwen35Layer(c: ArchContext, il: number): TensorPlan[] {
    const b = `blk.${il}`;
    const { nEmbd: E, nHead: H } = c.shape;
    const s = QWEN35_SSM;
    const keyDim = s.stateSize * s.groupCount;
    const valueDim = s.stateSize * s.timeStepRank;
    const recurrent = (il + 1) % s.fullAttentionInterval !== 0;
    const mixer = recurrent
        ? [
            t(`${b}.attn_qkv.weight`, [E, 2 * keyDim + valueDim], W),
            t(`${b}.attn_gate.weight`, [E, valueDim], W),
            t(`${b}.ssm_conv1d.weight`, [s.convKernel, 2 * keyDim + valueDim], F32W),
            t(`${b}.ssm_dt.bias`, [s.timeStepRank], BIAS),
            // ssm_a holds -exp(A_log): a negative decay rate per value head.
            t(`${b}.ssm_a`, [s.timeStepRank], { f32: { mean: -1, std: 0 } }),
            t(`${b}.ssm_beta.weight`, [E, s.timeStepRank], W),
            t(`${b}.ssm_alpha.weight`, [E, s.timeStepRank], W),
            t(`${b}.ssm_norm.weight`, [s.stateSize], NORM),
            t(`${b}.ssm_out.weight`, [valueDim, E], W)
        ]
        : [
            t(`${b}.attn_q.weight`, [E, 2 * H * c.headDim], W),
            t(`${b}.attn_k.weight`, [E, c.kvDim], W),
            t(`${b}.attn_v.weight`, [E, c.kvDim], W),
            t(`${b}.attn_output.weight`, [H * c.headDim, E], W),
            t(`${b}.attn_q_norm.weight`, [c.headDim], NORM),
            t(`${b}.attn_k_norm.weight`, [c.headDim], NORM)
        ];
    return [t(`${b}.attn_norm.weight`, [E], NORM), t(`${b}.post_attention_norm.weight`, [E], NORM), ...mixer, ...gatedFfn(b, c)];
}

/**
 * Gemma 4 (dense): one tiny model with every per-layer variation llama.cpp's gemma4.cpp builds, laid out like E2B's
 * (per-layer embeddings, shared KV, double-wide FFN on the shared layers) plus 31B's global attention without a
 * v projection. The default 5 layers:
 *
 *   il  kind     K/V                           head size  kv heads  FFN   v
 *   0   sliding  own                           D          Hkv       F     attn_v
 *   1   sliding  own (layer 3 reuses it)       D          Hkv       F     attn_v
 *   2   global   own (layer 4 reuses it)       2D         Hkv/2     F     none: V = K (31B's attention_k_eq_v)
 *   3   sliding  layer 1's                     D          Hkv       2F    (unused attn_k/attn_v/attn_k_norm)
 *   4   global   layer 2's                     2D         Hkv/2     2F    (unused attn_k/attn_k_norm)
 *
 * llama.cpp's reuse rule (llama-model.cpp, GEMMA3N/GEMMA4): layer il >= n_layer_kv_from_start = n_layer -
 * shared_kv_layers reads the cache of layer n_layer_kv_from_start - (is_swa(il) ? 2 : 1), so the last two layers with
 * their own cache must be sliding then global; both kinds of sharing are exercised. Global layers rotate with
 * rope.freq_base 1e6 and the `rope_freqs` factors the converter writes for "proportional" RoPE (1 for the first
 * GEMMA4_PARTIAL_ROTARY of the pairs, 1e30 for the rest, which therefore do not rotate); sliding layers with
 * rope.freq_base_swa 1e4 over their whole head. E2B's checkpoints carry k_proj/v_proj (and k_norm) on the shared layers
 * too, which the converter writes and llama.cpp loads but never multiplies, so the tiny model has them as well.
 */
export const GEMMA4_SHARED_KV_LAYERS = 2;
/** Width of each layer's per-layer input (embedding_length_per_layer_input; E2B's is 256 at width 1536). */
export const GEMMA4_PER_LAYER_WIDTH = 16;
/** Gemma 4's global layers rotate a quarter of each head (partial_rotary_factor 0.25), the rest through factors of 1e30. */
export const GEMMA4_PARTIAL_ROTARY = 0.25;
/** Gemma 4's final-logit soft-cap (every Gemma 4). */
export const GEMMA4_FINAL_SOFTCAP = 30;

export interface Gemma4Layout {
    /** Per layer: sliding-window (true) or global. */
    swa: boolean[];
    /** n_layer_kv_from_start: layers from here on reuse an earlier layer's KV cache. */
    kvFromStart: number;
    /** Per layer: the layer whose K/V it attends over (itself when it has its own). */
    kvSource: number[];
}

/**
 * The layer kinds of the tiny Gemma 4: the layers with their own cache end with sliding, global (the reuse rule's
 * sources) and, counting back from there, repeat global every third layer; the shared layers alternate sliding, global.
 */
export function gemma4Layout(nLayer: number): Gemma4Layout {
    if (!(Number.isInteger(nLayer) && nLayer >= GEMMA4_SHARED_KV_LAYERS + 2)) {
        throw new Error(`make-tiny-model: gemma4 needs at least ${GEMMA4_SHARED_KV_LAYERS + 2} layers (a sliding and a global layer with their own KV cache, then ${GEMMA4_SHARED_KV_LAYERS} that reuse them), got ${nLayer}`);
    }
    const kvFromStart = nLayer - GEMMA4_SHARED_KV_LAYERS;
    const swa = Array.from({ length: nLayer }, (_, il) => (il < kvFromStart ? (kvFromStart - 1 - il) % 3 !== 0 : (il - kvFromStart) % 2 === 0));
    const kvSource = swa.map((s, il) => (il < kvFromStart ? il : kvFromStart - (s ? 2 : 1)));
    return { swa, kvFromStart, kvSource };
}

/** Head size and kv heads of a Gemma 4 layer: global layers have heads twice as wide (E2B: 256 and 512) and half the kv heads. */
function gemma4Heads(c: ArchContext, swa: boolean): { headDim: number; nHeadKv: number } {
    return swa ? { headDim: c.headDim, nHeadKv: c.shape.nHeadKv } : { headDim: 2 * c.headDim, nHeadKv: Math.max(1, c.shape.nHeadKv / 2) };
}

/**
 * Gemma 4's spreads, where N(0, 0.02²) and 1 + N(0, 0.1²) would hide a feature or stall learning:
 *
 * GEMMA4_QK_NORM: Gemma 4 attends with scale 1 (no 1/sqrt(D)); its trained QK-norm weights set the temperature. With
 * weights near 1 the attention logits of unit-RMS q and k have std sqrt(D) = 8-11, so softmax is nearly one-hot; at 0.5
 * they have std 2-3.
 *
 * GEMMA4_OUT_SCALE: layer_output_scale multiplies the whole residual stream after each layer; 0.8 ± 0.1, distinct per
 * layer, so that a reference which drops it or applies the wrong layer's differs, without washing out what the early
 * layers write.
 *
 * GEMMA4_PER_LAYER_TOKEN_STD: a per-layer input is (RMSNorm(projected embedding) + per_layer_token_embd[token]·sqrt(P)) /
 * sqrt(2); at 0.25 the token part (0.25·4 = 1) weighs as much as the normed projection, so leaving out either shows.
 */
export const GEMMA4_QK_NORM: TensorKind = { f32: { mean: 0.5, std: 0.05 } };
export const GEMMA4_OUT_SCALE: TensorKind = { f32: { mean: 0.8, std: 0.1 } };
export const GEMMA4_PER_LAYER_TOKEN_STD = 0.25;

function gemma4Layer(c: ArchContext, il: number): TensorPlan[] {
    const b = `blk.${il}`;
    const { nEmbd: E, nHead: H, nFf: F, nLayer } = c.shape;
    const layout = gemma4Layout(nLayer);
    const swa = layout.swa[il]!;
    const { headDim: D, nHeadKv } = gemma4Heads(c, swa);
    const shared = il >= layout.kvFromStart;
    const f = shared ? 2 * F : F; // use_double_wide_mlp (E2B): the shared layers' FFN is twice as wide
    const P = GEMMA4_PER_LAYER_WIDTH;
    return [
        t(`${b}.attn_norm.weight`, [E], NORM),
        t(`${b}.attn_q.weight`, [E, H * D], W),
        t(`${b}.attn_k.weight`, [E, nHeadKv * D], W),
        ...(swa ? [t(`${b}.attn_v.weight`, [E, nHeadKv * D], W)] : []),
        t(`${b}.attn_output.weight`, [H * D, E], W),
        t(`${b}.attn_q_norm.weight`, [D], GEMMA4_QK_NORM),
        t(`${b}.attn_k_norm.weight`, [D], GEMMA4_QK_NORM),
        t(`${b}.post_attention_norm.weight`, [E], NORM),
        t(`${b}.layer_output_scale.weight`, [1], GEMMA4_OUT_SCALE),
        t(`${b}.ffn_norm.weight`, [E], NORM),
        t(`${b}.ffn_gate.weight`, [E, f], W),
        t(`${b}.ffn_up.weight`, [E, f], W),
        t(`${b}.ffn_down.weight`, [f, E], W),
        t(`${b}.post_ffw_norm.weight`, [E], NORM),
        t(`${b}.inp_gate.weight`, [E, P], W),
        t(`${b}.proj.weight`, [P, E], W),
        t(`${b}.post_norm.weight`, [E], NORM)
    ];
}

function gemma4Globals(c: ArchContext, nVocab: number): TensorPlan[] {
    const { nEmbd: E, nLayer } = c.shape;
    const P = GEMMA4_PER_LAYER_WIDTH;
    const half = gemma4Heads(c, false).headDim / 2;
    const rotated = Math.round(half * GEMMA4_PARTIAL_ROTARY);
    return [
        t("per_layer_token_embd.weight", [P * nLayer, nVocab], { weight: GEMMA4_PER_LAYER_TOKEN_STD }),
        t("per_layer_model_proj.weight", [E, P * nLayer], W),
        t("per_layer_proj_norm.weight", [P], NORM),
        t("rope_freqs.weight", [half], { values: Array.from({ length: half }, (_, i) => (i < rotated ? 1 : 1e30)) })
    ];
}

function gemma4Keys(c: ArchContext): Kv[] {
    const s = c.shape;
    const layout = gemma4Layout(s.nLayer);
    const global = gemma4Heads(c, false);
    const u32s = (value: number[]): GgufValue => ({ type: "array", itemType: "u32", value });
    return [
        ["gemma4.block_count", u32(s.nLayer)],
        ["gemma4.context_length", u32(s.nCtx)],
        ["gemma4.embedding_length", u32(s.nEmbd)],
        ["gemma4.feed_forward_length", u32s(layout.swa.map((_, il) => (il >= layout.kvFromStart ? 2 * s.nFf : s.nFf)))],
        ["gemma4.attention.head_count", u32(s.nHead)],
        ["gemma4.attention.head_count_kv", u32s(layout.swa.map((swa) => gemma4Heads(c, swa).nHeadKv))],
        ["gemma4.rope.freq_base", f32(s.ropeFreqBase)],
        ["gemma4.rope.freq_base_swa", f32(10000)],
        ["gemma4.attention.layer_norm_rms_epsilon", f32(s.rmsEps)],
        ["gemma4.attention.key_length", u32(global.headDim)],
        ["gemma4.attention.value_length", u32(global.headDim)],
        ["gemma4.final_logit_softcapping", f32(GEMMA4_FINAL_SOFTCAP)],
        ["gemma4.attention.sliding_window", u32(TINY_SLIDING_WINDOW)],
        ["gemma4.attention.shared_kv_layers", u32(GEMMA4_SHARED_KV_LAYERS)],
        ["gemma4.embedding_length_per_layer_input", u32(GEMMA4_PER_LAYER_WIDTH)],
        ["gemma4.attention.sliding_window_pattern", { type: "array", itemType: "bool", value: layout.swa }],
        ["gemma4.attention.key_length_swa", u32(c.headDim)],
        ["gemma4.attention.value_length_swa", u32(c.headDim)],
        ["gemma4.rope.dimension_count", u32(global.headDim)],
        ["gemma4.rope.dimension_count_swa", u32(c.headDim)]
    ];
}

const QWEN_SHAPE: Partial<TinyModelShape> = { rmsEps: 1e-6, ropeFreqBase: 1e6 };
const GEMMA_SHAPE: Partial<TinyModelShape> = { rmsEps: 1e-6 };

export const TINY_ARCHS: Readonly<Record<TinyModelArch, TinyArchSpec>> = {
    llama: { tokenizer: TOKENIZERS.llama, shapeDefaults: {}, tiedOutput: false, hparams: (c, n) => llamaKeys("llama", c, n), layer: llamaLayer },
    // Qwen2.5 and Qwen3 up to 3-4B tie the output to the embeddings, which halves the 152k-row tiny models.
    qwen2: { tokenizer: TOKENIZERS.qwen2, shapeDefaults: QWEN_SHAPE, tiedOutput: true, hparams: (c, n) => llamaKeys("qwen2", c, n), layer: llamaLayer },
    qwen3: {
        tokenizer: TOKENIZERS.qwen3, shapeDefaults: QWEN_SHAPE, tiedOutput: true,
        hparams: (c) => textModelKeys("qwen3", c, { rope: true, headDim: true }),
        layer: (c, il) => denseLayer(c, il, { qkNorm: true })
    },
    // Phi-3-mini-4k: no rope scaling, so no rope_factors tensors; original_context_length = context_length.
    phi3: {
        tokenizer: TOKENIZERS.phi3, shapeDefaults: {}, tiedOutput: false,
        hparams: (c) => {
            const s = c.shape;
            return [
                ["phi3.context_length", u32(s.nCtx)],
                ["phi3.rope.scaling.original_context_length", u32(s.nCtx)],
                ["phi3.embedding_length", u32(s.nEmbd)],
                ["phi3.feed_forward_length", u32(s.nFf)],
                ["phi3.block_count", u32(s.nLayer)],
                ["phi3.attention.head_count", u32(s.nHead)],
                ["phi3.attention.head_count_kv", u32(s.nHeadKv)],
                ["phi3.attention.layer_norm_rms_epsilon", f32(s.rmsEps)],
                ["phi3.rope.dimension_count", u32(c.headDim)],
                ["phi3.rope.freq_base", f32(s.ropeFreqBase)]
            ];
        },
        layer: phi3Layer
    },
    // Gemma: no rope keys (llama.cpp's default base 10000), GeGLU, embeddings scaled by sqrt(E), output tied.
    gemma: {
        tokenizer: TOKENIZERS.gemma, shapeDefaults: GEMMA_SHAPE, tiedOutput: true, alwaysTied: true,
        hparams: (c) => textModelKeys("gemma", c, { rope: false, headDim: true }),
        layer: (c, il) => denseLayer(c, il, { writes: { weight: GEMMA_WRITE_STD } })
    },
    // Gemma 2: soft-capping 50 (attention logits) and 30 (final logits), as every Gemma 2; llama.cpp's default pattern 2
    // makes even layers sliding-window and odd layers global (no pattern key, as the converter writes none).
    gemma2: {
        tokenizer: TOKENIZERS.gemma2, shapeDefaults: GEMMA_SHAPE, tiedOutput: true, alwaysTied: true,
        hparams: (c) => [
            ...textModelKeys("gemma2", c, { rope: false, headDim: true }),
            ["gemma2.attn_logit_softcapping", f32(50)],
            ["gemma2.final_logit_softcapping", f32(30)],
            ["gemma2.attention.sliding_window", u32(TINY_SLIDING_WINDOW)]
        ],
        layer: (c, il) => denseLayer(c, il, { postNorms: true, qk: { weight: GEMMA2_QK_STD } })
    },
    // Gemma 3: QK-norm, no soft-capping; global layers rotate with base 1e6, sliding ones with rope.freq_base_swa 1e4.
    // The per-layer pattern is written (Gemma 3n/4's converters write this key) because the 4-layer model needs one.
    gemma3: {
        tokenizer: TOKENIZERS.gemma3, shapeDefaults: { ...GEMMA_SHAPE, ropeFreqBase: 1e6 }, tiedOutput: true,
        hparams: (c) => [
            ...textModelKeys("gemma3", c, { rope: true, headDim: true }),
            ["gemma3.rope.freq_base_swa", f32(10000)],
            ["gemma3.attention.sliding_window", u32(TINY_SLIDING_WINDOW)],
            ["gemma3.attention.sliding_window_pattern", { type: "array", itemType: "bool", value: gemma3SwaLayers(c.shape.nLayer) }]
        ],
        layer: (c, il) => denseLayer(c, il, { qkNorm: true, postNorms: true })
    },
    // SmolLM3: llama's layout; llama.cpp skips RoPE on layers with (il + 1) % 4 == 0 (no key: hard-coded step 4).
    // Tied output, as SmolLM3-3B's tie_word_embeddings.
    smollm3: { tokenizer: TOKENIZERS.smollm3, shapeDefaults: {}, tiedOutput: true, hparams: (c, n) => llamaKeys("smollm3", c, n), layer: (c, il) => denseLayer(c, il) },
    // Ministral 3: llama's layout plus head_dim and the Llama-4 attention temperature (llama_4_scaling_beta = 0.1):
    // q *= 1 + 0.1·ln(1 + floor(pos / original_context_length)). Ministral's original_context_length is 16384 with
    // YaRN; here it is 32 so that positions of a test sequence reach the second step, and there is no YaRN scaling.
    mistral3: {
        tokenizer: TOKENIZERS.mistral3, shapeDefaults: {}, tiedOutput: false,
        hparams: (c, n) => [
            ...llamaKeys("mistral3", c, n),
            ["mistral3.attention.key_length", u32(c.headDim)],
            ["mistral3.attention.value_length", u32(c.headDim)],
            ["mistral3.rope.scaling.original_context_length", u32(32)],
            ["mistral3.attention.temperature_scale", f32(0.1)]
        ],
        layer: (c, il) => denseLayer(c, il)
    },
    // Gemma 4 (dense): see gemma4Layer. Real Gemma 4 vocabulary and template, output tied; every key its converter writes.
    gemma4: {
        tokenizer: TOKENIZERS.gemma4, shapeDefaults: { ...GEMMA_SHAPE, nLayer: 5, ropeFreqBase: 1e6 }, tiedOutput: true,
        hparams: (c) => gemma4Keys(c),
        layer: gemma4Layer,
        globals: gemma4Globals
    },
    qwen35: {
        tokenizer: TOKENIZERS.qwen35, shapeDefaults: QWEN_SHAPE, tiedOutput: true,
        hparams: (c) => [
            ...textModelKeys("qwen35", c, { rope: true, headDim: true }),
            ["qwen35.rope.dimension_count", u32(c.headDim)],
            // Interleaved M-RoPE sections in Qwen3.5's 11:11:10 proportion; they sum to rope.dimension_count / 2.
            ["qwen35.rope.dimension_sections", { type: "array", itemType: "i32", value: mropeSections(c.headDim) }],
            ["qwen35.ssm.conv_kernel", u32(QWEN35_SSM.convKernel)],
            ["qwen35.ssm.state_size", u32(QWEN35_SSM.stateSize)],
            ["qwen35.ssm.group_count", u32(QWEN35_SSM.groupCount)],
            ["qwen35.ssm.time_step_rank", u32(QWEN35_SSM.timeStepRank)],
            ["qwen35.ssm.inner_size", u32(QWEN35_SSM.stateSize * QWEN35_SSM.timeStepRank)],
            ["qwen35.full_attention_interval", u32(QWEN35_SSM.fullAttentionInterval)]
        ],
        layer: qwen35Layer
    }
};
