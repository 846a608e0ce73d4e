// adapter_config.json of a PEFT LoRA: what the import carries over (r, lora_alpha, use_rslora, rank_pattern,
// alpha_pattern) and what it refuses, because a GGUF LoRA (W + alpha/r · B·A on a base weight, llama.cpp's
// llama-adapter.cpp) cannot express it: DoRA's magnitude vectors, modules_to_save's full copies of whole modules,
// adapters on embeddings, trained biases, Conv1D-layout (fan_in_fan_out) weights, and PEFT methods other than LoRA.
// Each refusal names the file and the field.
import { readFileSync } from "node:fs";
import { AdapterImportError } from "./errors";

export interface PeftLoraConfig {
    path: string;
    r: number;
    loraAlpha: number;
    useRslora: boolean;
    /** PEFT's per-module overrides: key = a module name or a regex matched against its end. */
    rankPattern: Readonly<Record<string, number>>;
    alphaPattern: Readonly<Record<string, number>>;
    /** base_model_name_or_path, for messages. */
    baseModel: string | undefined;
}

/** Module names PEFT adapts as embeddings (lora_embedding_A/B): the token embedding of every family we train. */
export const EMBEDDING_MODULES = ["embed_tokens", "wte", "word_embeddings", "embed_tokens_per_layer"];

function readJson(path: string): Record<string, unknown> {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new AdapterImportError(code === "ENOENT"
            ? `${path} does not exist; a PEFT adapter folder holds adapter_config.json and adapter_model.safetensors (as save_pretrained writes them)`
            : `${path} cannot be read (${code ?? (error as Error).message})`);
    }
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        throw new AdapterImportError(`${path} is not valid JSON: ${(error as Error).message}`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new AdapterImportError(`${path} is not a JSON object`);
    return value as Record<string, unknown>;
}

function numberPattern(path: string, field: string, value: unknown): Record<string, number> {
    if (value === undefined || value === null) return {};
    if (typeof value !== "object" || Array.isArray(value)) throw new AdapterImportError(`${path}: "${field}" must be an object of module → number, got ${JSON.stringify(value)}`);
    for (const [k, v] of Object.entries(value)) {
        if (typeof v !== "number" || !(v > 0)) throw new AdapterImportError(`${path}: "${field}"."${k}" must be a positive number, got ${JSON.stringify(v)}`);
    }
    return value as Record<string, number>;
}

/** The target_modules entries that name embeddings (target_modules may be a list or one regex string). */
function embeddingTargets(targets: unknown): string[] {
    const list = Array.isArray(targets) ? targets.filter((t): t is string => typeof t === "string") : typeof targets === "string" ? [targets] : [];
    return list.filter((t) => EMBEDDING_MODULES.some((e) => t === e || t.endsWith(`.${e}`) || (t.includes(e) && /[\\|()*+?[\]^$]/.test(t))));
}

export function readPeftConfig(path: string): PeftLoraConfig {
    const c = readJson(path);
    const refuse = (field: string, why: string): never => {
        throw new AdapterImportError(`${path}: "${field}" is ${JSON.stringify(c[field])}: ${why}`);
    };
    if (c.peft_type !== undefined && c.peft_type !== "LORA") refuse("peft_type", "only LoRA adapters can become a GGUF LoRA");
    if (c.use_dora === true) {
        refuse("use_dora", "DoRA rescales every column of the adapted weight by a learned magnitude (lora_magnitude_vector), which a GGUF LoRA (W + scale·B·A) cannot express; merge it in PyTorch (merge_and_unload) and convert the merged model, or train without DoRA");
    }
    const toSave = c.modules_to_save;
    if (toSave !== undefined && toSave !== null && !(Array.isArray(toSave) && toSave.length === 0)) {
        refuse("modules_to_save", "those modules are saved as full trained copies, not low-rank pairs, and a GGUF LoRA can only carry low-rank pairs; train without modules_to_save, or merge in PyTorch and convert the merged model");
    }
    if (c.bias !== undefined && c.bias !== "none") refuse("bias", "the adapter trains biases, which a GGUF LoRA cannot carry; train with bias=\"none\"");
    if (c.lora_bias === true) refuse("lora_bias", "lora_B has a trained bias, which a GGUF LoRA cannot carry; train with lora_bias=False");
    if (c.fan_in_fan_out === true) refuse("fan_in_fan_out", "the adapter is laid out for Conv1D modules (GPT-2 style), which none of the architectures LoRA Studio trains has");
    const embeddings = embeddingTargets(c.target_modules);
    if (embeddings.length > 0) {
        refuse("target_modules", `it adapts the embeddings (${embeddings.join(", ")}), which LoRA Studio neither trains nor exports; train without them in target_modules`);
    }
    if (typeof c.r !== "number" || !Number.isInteger(c.r) || c.r < 1) refuse("r", "the rank must be a positive integer");
    if (typeof c.lora_alpha !== "number" || !(c.lora_alpha > 0)) refuse("lora_alpha", "lora_alpha must be a positive number");
    if (c.use_rslora !== undefined && typeof c.use_rslora !== "boolean") refuse("use_rslora", "it must be true or false");
    return {
        path,
        r: c.r as number,
        loraAlpha: c.lora_alpha as number,
        useRslora: c.use_rslora === true,
        rankPattern: numberPattern(path, "rank_pattern", c.rank_pattern),
        alphaPattern: numberPattern(path, "alpha_pattern", c.alpha_pattern),
        baseModel: typeof c.base_model_name_or_path === "string" ? c.base_model_name_or_path : undefined
    };
}

/**
 * The value of a rank_pattern/alpha_pattern for `module` (e.g. "model.layers.0.self_attn.q_proj"), as PEFT's
 * get_pattern_key matches it: the key equals the name, or the key is a regex matching the name's end after a dot.
 */
export function patternValue(pattern: Readonly<Record<string, number>>, module: string): number | undefined {
    for (const [key, value] of Object.entries(pattern)) {
        if (key === module) return value;
        let re: RegExp;
        try {
            re = new RegExp(`^(?:.*\\.)?(?:${key})$`);
        } catch {
            continue;
        }
        if (re.test(module)) return value;
    }
    return undefined;
}

/**
 * The LoRA scale PEFT applies to `module` of rank `rank`: alpha/r, or alpha/√r with use_rslora (rank-stabilized
 * LoRA), where alpha and r come from alpha_pattern/rank_pattern when they name the module.
 */
export function peftScale(config: PeftLoraConfig, module: string, rank: number): number {
    const alpha = patternValue(config.alphaPattern, module) ?? config.loraAlpha;
    return config.useRslora ? alpha / Math.sqrt(rank) : alpha / rank;
}
