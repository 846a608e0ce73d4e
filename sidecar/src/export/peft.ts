// PEFT adapter: `adapter_model.safetensors` + `adapter_config.json` in a folder, loadable with
// `PeftModel.from_pretrained(hf_base, folder)`.
//
// Names: GGUF `blk.{i}.attn_q.weight` ↔ HF `model.layers.{i}.self_attn.q_proj` (llama.cpp's gguf-py
// tensor_mapping.py), prefixed by PEFT with `base_model.model.`; A is [rank, n_in] and B [n_out, rank], as GGUF
// already stores them in numpy order. Each architecture's module names and layer path come from
// engine/architectures.ts: Phi-3's fused `attn_qkv` and `ffn_up` are `qkv_proj` and `gate_up_proj`, exported as one
// adapter each (PEFT adapts the fused Linear as HF Phi-3 has it; nothing is split).
//
// RoPE permutation: for llama-family models (ArchitectureSpec.permutedQK), convert_hf_to_gguf.py reorders the rows of
// q_proj and k_proj within each head (LlamaModel.permute: [2, head_dim/2] → [head_dim/2, 2]) so that llama.cpp can
// rotate adjacent pairs. A LoRA trained on the GGUF therefore has B rows in that order; the HF model needs them back
// in its own order. A acts on the input side and is unchanged. NeoX-RoPE families (Qwen, Phi-3, Gemma) are not
// permuted by the converter, so nothing is undone for them.
//
// dtype: F32 (default) is the adapter exactly; F16/BF16 round each value to nearest even. PEFT records no dtype in
// adapter_config.json: the safetensors header carries it, and PEFT casts the weights to the LoRA layers' dtype on
// load (and autocasts F16/BF16 adapters to F32 by default), so the config is the same for every dtype.
import { mkdirSync } from "node:fs";
import { basename, join } from "node:path";
import type { GgufFile } from "../gguf";
import { writeJsonAtomic } from "../training/atomicFile";
import { ARCHITECTURES, isTrainableArch, supportedArchitecturesText } from "../engine/architectures";
import { checkAdapterFitsBase, ExportInputError, openGguf, readLoraAdapter, readLoraPair } from "./adapter";
import { permutationHeads, unpermuteRows } from "../adapters/qkPermutation";
import { writeSafetensors, type SafetensorsDtype, type SafetensorsTensor } from "./safetensors";


export interface PeftOptions {
    model: string;
    adapter: string;
    /** The folder to create (or fill). */
    out: string;
    dtype?: SafetensorsDtype;
    /** `base_model_name_or_path`; default: from the base's metadata, else its file name. */
    baseModelId?: string;
}

export interface PeftResult {
    safetensorsPath: string;
    configPath: string;
    tensorCount: number;
    unpermuted: boolean;
}

// The permutation itself is shared with the PEFT import (adapters/qkPermutation.ts).
export { unpermuteRows };

function headCount(base: GgufFile, arch: string, module: "attn_q" | "attn_k"): number {
    const n = permutationHeads(base, arch, module);
    if (n === undefined) {
        const key = module === "attn_q" ? "head_count" : "head_count_kv";
        throw new ExportInputError(`${base.path}: ${arch}.attention.${key} is missing or varies per layer; cannot undo the Q/K permutation`);
    }
    return n;
}

/** HF id for `base_model_name_or_path`: the GGUF's recorded source repo, else its name, else its file name. */
function baseModelIdOf(base: GgufFile): string {
    const str = (key: string): string | undefined => {
        const v = base.kv.get(key);
        return v?.type === "string" && v.value.trim() !== "" ? v.value.trim() : undefined;
    };
    return hfRepoOf(base) ?? str("general.name") ?? basename(base.path).replace(/\.gguf$/i, "");
}

/** The Hugging Face repository a GGUF records as its source (general.base_model.0.repo_url, general.source.url), if any. */
export function hfRepoOf(base: Pick<GgufFile, "kv">): string | undefined {
    const str = (key: string): string | undefined => {
        const v = base.kv.get(key);
        return v?.type === "string" && v.value.trim() !== "" ? v.value.trim() : undefined;
    };
    const url = str("general.base_model.0.repo_url") ?? str("general.source.url");
    return url?.match(/huggingface\.co\/([^/]+\/[^/?#]+)/)?.[1];
}

export function exportPeft(opts: PeftOptions): PeftResult {
    const adapter = readLoraAdapter(opts.adapter);
    const base = openGguf(opts.model, "base model");
    checkAdapterFitsBase(adapter, base);
    const arch = adapter.arch ?? String(base.kv.get("general.architecture")?.value);
    if (!isTrainableArch(arch)) {
        throw new ExportInputError(`${opts.adapter}: a PEFT export needs the Hugging Face module names of the architecture, and LoRA Studio knows them for ${supportedArchitecturesText()}, not '${arch}'`);
    }
    const spec = ARCHITECTURES[arch];
    const unpermute = spec.permutedQK;
    // Gemma 3 GGUFs come from Gemma3ForCausalLM (270M, 1B: model.layers) and Gemma3ForConditionalGeneration (4B and
    // up: model.language_model.layers) alike, with nothing in the file to tell them apart; docs/architectures.md says
    // how to load the latter.
    const layers = spec.hfLayerPath ?? "model.layers";

    const tensors: SafetensorsTensor[] = [];
    const targets = new Set<string>();
    const ranks = new Map<string, number>();
    for (const pair of adapter.pairs) {
        const m = /^blk\.(\d+)\.([a-z_]+)\.weight$/.exec(pair.weight);
        const hfModule = m ? spec.hfModules[m[2]!] : undefined;
        if (!m || !hfModule) {
            throw new ExportInputError(`${opts.adapter}: tensor '${pair.weight}' has no Hugging Face name LoRA Studio knows for ${arch} (it maps ${Object.keys(spec.hfModules).join(", ")})`);
        }
        const module = m[2]!;
        let { a, b } = readLoraPair(adapter, pair);
        if (unpermute && (module === "attn_q" || module === "attn_k")) {
            b = unpermuteRows(b, pair.nOut, pair.rank, headCount(base, arch, module));
        }
        const prefix = `base_model.model.${layers}.${m[1]}.${hfModule}`;
        tensors.push({ name: `${prefix}.lora_A.weight`, shape: [pair.rank, pair.nIn], data: a });
        tensors.push({ name: `${prefix}.lora_B.weight`, shape: [pair.nOut, pair.rank], data: b });
        const leaf = hfModule.split(".")[1]!;
        targets.add(leaf);
        ranks.set(`${layers}.${m[1]}.${hfModule}`, pair.rank);
    }
    const rankValues = [...ranks.values()];
    const r = mostCommon(rankValues);
    const rankPattern = Object.fromEntries([...ranks].filter(([, v]) => v !== r));

    mkdirSync(opts.out, { recursive: true });
    const safetensorsPath = join(opts.out, "adapter_model.safetensors");
    const configPath = join(opts.out, "adapter_config.json");
    writeSafetensors(safetensorsPath, tensors, opts.dtype ?? "F32", { format: "pt" });
    writeJsonAtomic(configPath, {
        peft_type: "LORA",
        task_type: "CAUSAL_LM",
        base_model_name_or_path: opts.baseModelId ?? baseModelIdOf(base),
        r,
        // llama.cpp scales by alpha / rank and so does PEFT (use_rslora false); no alpha means scale 1, i.e. alpha = r.
        lora_alpha: adapter.alpha || r,
        lora_dropout: 0,
        target_modules: [...targets].sort(),
        rank_pattern: rankPattern,
        // Without alpha llama.cpp applies scale 1 to every pair: alpha = rank, pair by pair.
        alpha_pattern: adapter.alpha ? {} : rankPattern,
        bias: "none",
        fan_in_fan_out: false,
        use_rslora: false,
        use_dora: false,
        init_lora_weights: true,
        inference_mode: true,
        modules_to_save: null
    });
    return { safetensorsPath, configPath, tensorCount: tensors.length, unpermuted: unpermute };
}

function mostCommon(values: number[]): number {
    const counts = new Map<number, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    return [...counts].sort((x, y) => y[1] - x[1] || x[0] - y[0])[0]![0];
}
