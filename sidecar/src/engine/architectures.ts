// The model architectures the engine trains, and what each one means for training and export: which GGUF tensor a
// LoRA target selects, whether llama.cpp's converter permuted the q/k rows, and the Hugging Face module names. One
// table serves the engine's TypeScript side, the language server, the Start Training wizard, export and the README.
// The native engine keeps the same list in engine_model.cpp (engine_arch_check); test/unit/architectures.test.ts
// fails when the two disagree.
//
// Everything else is refused with a reason that names the architecture and lists these, before llama.cpp sees the
// file: mixture-of-experts models (MUL_MAT_ID has no backward pass; Mixtral GGUFs even declare arch "llama"), and
// recurrent or hybrid models (state-space, linear-attention and RWKV layers have no backward pass here).
import type { GgufFile } from "../gguf";
import type { TargetModule, TargetName } from "./types";

export const TRAINABLE_ARCHITECTURES = ["llama", "qwen2", "qwen3", "phi3", "gemma", "gemma2", "gemma3", "smollm3", "mistral3", "gemma4"] as const;
export type TrainableArch = (typeof TRAINABLE_ARCHITECTURES)[number];

export interface ArchitectureSpec {
    arch: TrainableArch;
    /** Model families people know this architecture by. */
    examples: string;
    /** GGUF tensor (`blk.N.<tensor>.weight`) each target selects. Fused tensors are selected by several targets. */
    targetTensors: Readonly<Record<TargetModule, string>>;
    /** True where q/k/v (and gate/up) are one fused tensor each, as in Phi-3. */
    fused: boolean;
    /** convert_hf_to_gguf.py permuted the q/k rows (normal-mode RoPE): a PEFT export must undo it. */
    permutedQK: boolean;
    /** Hugging Face module path under `model.layers.N.` per GGUF tensor. */
    hfModules: Readonly<Record<string, string>>;
    /**
     * Where the decoder layers sit in the Hugging Face model a PEFT adapter is loaded onto, when not `model.layers`:
     * Mistral3ForConditionalGeneration (every Ministral 3 / Mistral Small 3.1+ release) keeps them under
     * `model.language_model.layers`.
     */
    hfLayerPath?: string;
    /** How the architecture attends, for the README and the op audit. */
    notes: string;
}

const SEPARATE: Record<TargetModule, string> = {
    attn_q: "attn_q", attn_k: "attn_k", attn_v: "attn_v", attn_o: "attn_output",
    ffn_gate: "ffn_gate", ffn_up: "ffn_up", ffn_down: "ffn_down"
};
const FUSED: Record<TargetModule, string> = {
    attn_q: "attn_qkv", attn_k: "attn_qkv", attn_v: "attn_qkv", attn_o: "attn_output",
    ffn_gate: "ffn_up", ffn_up: "ffn_up", ffn_down: "ffn_down"
};
const HF_SEPARATE: Record<string, string> = {
    attn_q: "self_attn.q_proj", attn_k: "self_attn.k_proj", attn_v: "self_attn.v_proj", attn_output: "self_attn.o_proj",
    ffn_gate: "mlp.gate_proj", ffn_up: "mlp.up_proj", ffn_down: "mlp.down_proj"
};
const HF_FUSED: Record<string, string> = {
    attn_qkv: "self_attn.qkv_proj", attn_output: "self_attn.o_proj", ffn_up: "mlp.gate_up_proj", ffn_down: "mlp.down_proj"
};

function spec(arch: TrainableArch, examples: string, notes: string, o: { fused?: boolean; permutedQK: boolean }): ArchitectureSpec {
    const fused = o.fused ?? false;
    return { arch, examples, notes, fused, permutedQK: o.permutedQK, targetTensors: fused ? FUSED : SEPARATE, hfModules: fused ? HF_FUSED : HF_SEPARATE };
}

export const ARCHITECTURES: Readonly<Record<TrainableArch, ArchitectureSpec>> = {
    llama: spec("llama", "Llama 3.x, TinyLlama, Mistral-7B, SmolLM2", "SwiGLU, normal RoPE", { permutedQK: true }),
    qwen2: spec("qwen2", "Qwen2.5", "q/k/v biases, NeoX RoPE", { permutedQK: false }),
    qwen3: spec("qwen3", "Qwen3 (dense)", "QK-norm, NeoX RoPE", { permutedQK: false }),
    phi3: spec("phi3", "Phi-3, Phi-3.5, Phi-4-mini", "fused QKV and gate+up, NeoX RoPE", { fused: true, permutedQK: false }),
    gemma: spec("gemma", "Gemma", "GeGLU, scaled embeddings, tied output", { permutedQK: false }),
    gemma2: spec("gemma2", "Gemma 2", "GeGLU, post-norms, logit soft-capping, sliding-window layers", { permutedQK: false }),
    gemma3: spec("gemma3", "Gemma 3 (text)", "GeGLU, post-norms, QK-norm, sliding-window layers", { permutedQK: false }),
    smollm3: spec("smollm3", "SmolLM3", "SwiGLU, no RoPE on every 4th layer", { permutedQK: true }),
    mistral3: {
        ...spec("mistral3", "Ministral 3, Mistral Small 3.x", "SwiGLU, normal RoPE, optional attention temperature", { permutedQK: true }),
        hfLayerPath: "model.language_model.layers"
    },
    // Gemma 4 (dense): the shared-KV layers' attn_k/attn_v are in the file but never multiplied, so the engine gives
    // them no adapter (engine_trainer.cpp); global layers without attn_v take V from attn_k.
    gemma4: {
        ...spec("gemma4", "Gemma 4 (dense)", "GeGLU, post-norms, QK-norm, sliding-window layers, per-layer embeddings, shared-KV layers, proportional RoPE", { permutedQK: false }),
        hfLayerPath: "model.language_model.layers"
    }
};

/**
 * Architectures llama.cpp runs whose training graph the engine does not yet prove against the PyTorch reference, with
 * what is missing: refused until test/integration/oracle-architectures.test.ts covers them, since training them could
 * give a wrong gradient without failing. None at present (Gemma 4 was here until the reference covered it).
 */
const NOT_YET_PROVEN: Readonly<Record<string, string>> = {};

/** Architecture names of recurrent and hybrid models, refused with that reason rather than "unknown". */
const RECURRENT_OR_HYBRID = new Set([
    // llama.cpp's llm_arch_is_recurrent and llm_arch_is_hybrid (src/llama-arch.cpp, v0.5.0)
    "mamba", "mamba2", "rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7", "jamba", "falcon-h1", "plamo2", "granitehybrid", "lfm2",
    "lfm2moe", "nemotron_h", "nemotron_h_moe", "qwen3next", "kimi-linear", "bailingmoe3", "kimi-k3", "qwen35", "qwen35moe",
    "qwen4exp", "deepseek4", "minimax-01"
]);

export function isTrainableArch(arch: string): arch is TrainableArch {
    return (TRAINABLE_ARCHITECTURES as readonly string[]).includes(arch);
}

export function supportedArchitecturesText(): string {
    return TRAINABLE_ARCHITECTURES.join(", ");
}

export type Trainability =
    | { trainable: true; arch: TrainableArch; spec: ArchitectureSpec }
    | { trainable: false; arch: string; reason: string };

/**
 * Whether the engine can train this GGUF, from its header alone. `reason` is a sentence that names the architecture
 * and, for a refusal, what the engine trains instead; it does not name the file (callers add it).
 */
export function checkTrainable(file: Pick<GgufFile, "kv" | "tensors">): Trainability {
    const archValue = file.kv.get("general.architecture");
    const arch = archValue?.type === "string" ? archValue.value : "";
    const type = file.kv.get("general.type");
    if (type?.type === "string" && type.value === "adapter") {
        return { trainable: false, arch, reason: "it is a LoRA adapter, not a base model" };
    }
    if (!arch) return { trainable: false, arch, reason: "it has no general.architecture" };
    const supported = `LoRA Studio trains ${supportedArchitecturesText()}`;
    if (RECURRENT_OR_HYBRID.has(arch)) {
        return { trainable: false, arch, reason: `architecture '${arch}' is a recurrent or hybrid model, whose state-space or linear-attention layers have no backward pass here; ${supported}` };
    }
    const experts = expertCount(file, arch);
    if (experts > 0) {
        return { trainable: false, arch, reason: `architecture '${arch}' here is a mixture-of-experts model (${experts} experts), whose expert layers (MUL_MAT_ID) have no backward pass; ${supported} (dense models only)` };
    }
    const unproven = NOT_YET_PROVEN[arch];
    if (unproven) return { trainable: false, arch, reason: `architecture '${arch}' is not trained yet: ${unproven}; ${supported}` };
    if (!isTrainableArch(arch)) return { trainable: false, arch, reason: `architecture '${arch}' cannot be trained; ${supported}` };
    return { trainable: true, arch, spec: ARCHITECTURES[arch] };
}

/** `<arch>.expert_count`, or the presence of expert tensors (`*_exps`) in a file that lacks the key. */
function expertCount(file: Pick<GgufFile, "kv" | "tensors">, arch: string): number {
    const v = file.kv.get(`${arch}.expert_count`);
    const n = v && (v.type === "u32" || v.type === "i32" || v.type === "u16" || v.type === "u8") ? v.value : 0;
    if (n > 0) return n;
    const exps = file.tensors.find((t) => /_exps\.weight$/.test(t.name));
    return exps ? (exps.dims[2] ?? 1) : 0;
}

/** The GGUF tensor a target selects on this architecture, or an error sentence for a fused name on a model without it. */
export function tensorForTarget(spec: ArchitectureSpec, target: TargetName): { tensor: string } | { error: string } {
    if (target === "attn_qkv" || target === "ffn_gate_up") {
        if (!spec.fused) {
            const instead = target === "attn_qkv" ? "attn_q, attn_k and attn_v" : "ffn_gate and ffn_up";
            return { error: `'${target}' is a fused target, and ${spec.arch} models have separate projections: use ${instead}` };
        }
        return { tensor: target === "attn_qkv" ? "attn_qkv" : "ffn_up" };
    }
    return { tensor: spec.targetTensors[target] };
}
