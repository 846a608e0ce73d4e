// Hugging Face PEFT tensor names → GGUF LoRA tensor names: the inverse of the PEFT export's mapping, from the same
// table (engine/architectures.ts, hfModules: GGUF tensor → HF module per architecture), so the two cannot drift.
// Phi-3's fused qkv_proj and gate_up_proj are single Linear modules in Hugging Face's Phi-3 and single tensors
// (attn_qkv, ffn_up) in its GGUF, so each maps to one GGUF pair, as the export writes them; nothing is split.
//
// PEFT saves `base_model.model.<module>.lora_A.weight` (older versions keep the adapter name: `.lora_A.default.weight`).
// The decoder layers sit under `model.layers` in most causal LMs, under `model.language_model.layers` in the
// multimodal wrappers (Mistral 3, Gemma 3 4B+, Gemma 4), and under `language_model.model.layers` in those wrappers
// before transformers 4.52; llama.cpp's converter drops "language_model." either way (hf_names.py checks this), so
// all three are accepted for every architecture.
import { ARCHITECTURES, TRAINABLE_ARCHITECTURES, type TrainableArch } from "../engine/architectures";
import { EMBEDDING_MODULES } from "./peftConfig";

const LAYER_PATHS = ["model.layers", "model.language_model.layers", "language_model.model.layers"];

export type HfTensorName =
    /** One half of a LoRA pair on a decoder-layer weight LoRA Studio knows for this architecture. */
    | { kind: "pair"; part: "A" | "B"; module: string; ggufWeight: string; layer: number }
    /** Anything else, with the sentence that says why it cannot be imported (names neither file). */
    | { kind: "refused"; reason: string };

/** HF module path under the layer (e.g. "self_attn.q_proj") → GGUF tensor (e.g. "attn_q"), for one architecture. */
export function hfToGguf(arch: TrainableArch): ReadonlyMap<string, string> {
    return new Map(Object.entries(ARCHITECTURES[arch].hfModules).map(([gguf, hf]) => [hf, gguf]));
}

/** The architectures whose table has this HF module (to tell "another base" from "unknown"). */
function archsWithModule(hfModule: string): TrainableArch[] {
    return TRAINABLE_ARCHITECTURES.filter((a) => Object.values(ARCHITECTURES[a].hfModules).includes(hfModule));
}

function knownModules(arch: TrainableArch): string {
    return Object.values(ARCHITECTURES[arch].hfModules).join(", ");
}

/** Classifies one tensor name of adapter_model.safetensors for a base of architecture `arch`. */
export function classifyHfTensor(name: string, arch: TrainableArch): HfTensorName {
    const leaf = name.split(".").slice(-3).join(".");
    if (/lora_magnitude_vector/.test(name)) {
        return { kind: "refused", reason: "it is a DoRA magnitude vector, which a GGUF LoRA (W + scale·B·A) cannot express; train without DoRA (use_dora=False)" };
    }
    if (/lora_embedding_[AB]/.test(name) || EMBEDDING_MODULES.some((e) => name.includes(`.${e}.`))) {
        return { kind: "refused", reason: "it adapts the token embeddings, which LoRA Studio neither trains nor exports; train without embed_tokens in target_modules" };
    }
    if (/modules_to_save|original_module/.test(name)) {
        return { kind: "refused", reason: "it is a modules_to_save copy of a whole module, not a low-rank pair; a GGUF LoRA cannot carry it" };
    }
    if (/\.bias$/.test(name)) return { kind: "refused", reason: "it is a trained bias, which a GGUF LoRA cannot carry; train with bias=\"none\"" };
    const m = /^base_model\.model\.(.+?)\.(\d+)\.(.+)\.lora_([AB])(?:\.[A-Za-z0-9_-]+)?\.weight$/.exec(name);
    if (!m) {
        if (/(^|\.)lm_head\.lora_[AB]/.test(name)) {
            return { kind: "refused", reason: "it adapts the output layer (lm_head), which LoRA Studio neither trains nor exports; train without lm_head in target_modules" };
        }
        return { kind: "refused", reason: `'${leaf}' is not a LoRA pair on a decoder layer (expected base_model.model.model.layers.N.<module>.lora_A.weight or .lora_B.weight)` };
    }
    const [, layerPath, layer, hfModule, part] = m as unknown as [string, string, string, string, "A" | "B"];
    if (/vision|multi_modal_projector|audio/.test(layerPath)) {
        return { kind: "refused", reason: `it adapts the ${layerPath.split(".")[0]} of a multimodal model, which a text-only GGUF does not have; train with target_modules limited to the language model (e.g. the regex ".*language_model.*\\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)")` };
    }
    if (!LAYER_PATHS.includes(layerPath)) {
        return { kind: "refused", reason: `its layers are under '${layerPath}', not one of ${LAYER_PATHS.join(", ")}: it is not a decoder-only language model LoRA Studio trains` };
    }
    const gguf = hfToGguf(arch).get(hfModule);
    if (gguf === undefined) {
        const others = archsWithModule(hfModule);
        if (others.length > 0) {
            return { kind: "refused", reason: `module '${hfModule}' belongs to ${others.join("/")} models, and the base model is ${arch} (whose modules are ${knownModules(arch)}): the adapter is for another base` };
        }
        return { kind: "refused", reason: `module '${hfModule}' is not one LoRA Studio maps to a GGUF tensor for ${arch} (it maps ${knownModules(arch)})` };
    }
    return { kind: "pair", part, module: `${layerPath}.${layer}.${hfModule}`, ggufWeight: `blk.${layer}.${gguf}.weight`, layer: Number(layer) };
}
