// A finished run's settings as an Axolotl config (config.yml), as a pure function: the resolved run config and a few
// facts about its base (the Hugging Face repository, the architecture, whether training ran on a quantized copy) in,
// the config object out. axolotl.ts reads the facts and writes the folder; test/fixtures/axolotl-config-schema.*.json
// checks the keys and types against Axolotl's own configuration schema (pinned version, see AXOLOTL_VERSION).
//
// How our training maps onto Axolotl's (each key is one of Axolotl's, v0.18.0):
// - LoRA: r, alpha, dropout; target modules under their Hugging Face names (engine/architectures.ts, as the PEFT
//   export names them). A base trained 4-bit is QLoRA (adapter: qlora, load_in_4bit); 8-bit is LoRA on load_in_8bit.
// - One of our micro-batches is one packed row of sequenceLength tokens: sample_packing with micro_batch_size 1, padded
//   to the full length, and attention that keeps packed examples apart as our engine does (sdpa: Axolotl's validator
//   counts sdpa and eager as backends that isolate packed samples; flash-attention would need a compiled extra).
//   Evaluation is not packed (a small validation file may not fill one packed batch).
// - Our loss covers every assistant turn and the end-of-turn token after it (pipeline/render.ts): chat_template with
//   roles_to_train [assistant] and train_on_eos "turn", the tokenizer's own template (the GGUF's is copied from it).
// - Over-length examples: drop and truncate-right and fail have Axolotl equivalents; truncate-left has none (warned).
// - Validation: a separate file becomes test_datasets; a split fraction val_set_size (Axolotl draws its own split).
// - Several GPUs each take micro-batches, so the global batch is micro × accumulation × GPUs: accumulation is divided
//   by the GPU count (at least 1) to keep the run's batch where it divides evenly, and a warning says when it cannot.
import { ARCHITECTURES, type TrainableArch } from "../engine/architectures";
import type { TargetName } from "../engine/types";
import type { ResolvedRunConfig } from "../training/resolveRunConfig";
import type { YamlValue } from "./yaml";

/** The Axolotl release the config, the README's install line and the schema test are pinned to. */
export const AXOLOTL_VERSION = "0.18.0";

export type AxolotlStrategy = "deepspeed-zero2" | "deepspeed-zero3" | "fsdp";
export const AXOLOTL_STRATEGIES: readonly AxolotlStrategy[] = ["deepspeed-zero2", "deepspeed-zero3", "fsdp"];

/** Where the exported folder keeps the data and the DeepSpeed configs, relative to config.yml. */
export const AXOLOTL_TRAIN_DATA = "data/train.jsonl";
export const AXOLOTL_VALIDATION_DATA = "data/validation.jsonl";
export const DEEPSPEED_CONFIG: Record<Exclude<AxolotlStrategy, "fsdp">, string> = {
    "deepspeed-zero2": "deepspeed_configs/zero2.json",
    "deepspeed-zero3": "deepspeed_configs/zero3.json"
};

/** What the builder needs beyond the run config; axolotl.ts reads these from the GGUF and the run. */
export interface AxolotlFacts {
    /** Hugging Face repository of the base model (`base_model`). */
    baseModel: string;
    arch: TrainableArch;
    /** How the base was loaded for training: the GGUF's own type or the run's quantizeBase. */
    baseBits: 4 | 8 | 16;
    gpus: number;
    strategy: AxolotlStrategy;
    /** The run config's file, for errors that name it. */
    configFile: string;
}

export type AxolotlConfig = Record<string, YamlValue>;

/** A run setting Axolotl cannot express (a fractional alpha: Axolotl's lora_alpha is an integer). */
export class AxolotlConfigError extends Error {
    override name = "AxolotlConfigError";
}

/** Hugging Face decoder-layer classes, for FSDP's transformer-based wrapping. */
const DECODER_LAYER_CLASS: Record<TrainableArch, string> = {
    llama: "LlamaDecoderLayer",
    qwen2: "Qwen2DecoderLayer",
    qwen3: "Qwen3DecoderLayer",
    phi3: "Phi3DecoderLayer",
    gemma: "GemmaDecoderLayer",
    gemma2: "Gemma2DecoderLayer",
    gemma3: "Gemma3DecoderLayer",
    smollm3: "SmolLM3DecoderLayer",
    mistral3: "MistralDecoderLayer",
    gemma4: "Gemma4TextDecoderLayer"
};

const LR_SCHEDULER: Record<ResolvedRunConfig["lrSchedule"], string> = {
    cosine: "cosine",
    linear: "linear",
    // Ours warms up, then holds; Hugging Face's plain "constant" would skip the warmup.
    constant: "constant_with_warmup"
};

const EXCESS_LENGTH: Record<ResolvedRunConfig["truncation"], string | undefined> = {
    drop: "drop",
    "truncate-right": "truncate",
    fail: "raise",
    "truncate-left": undefined
};

/** The Hugging Face module names (`q_proj`, `gate_up_proj`, …) the run's targets adapt on `arch`, sorted. */
export function hfTargetModules(arch: TrainableArch, targets: readonly TargetName[]): string[] {
    const spec = ARCHITECTURES[arch];
    const names = new Set<string>();
    for (const target of targets) {
        // The fused names select the fused tensors directly (attn_qkv; ffn_gate_up is GGUF's fused ffn_up).
        const tensor = target === "attn_qkv" ? "attn_qkv" : target === "ffn_gate_up" ? "ffn_up" : spec.targetTensors[target];
        const hf = spec.hfModules[tensor];
        if (hf !== undefined) names.add(hf.split(".").at(-1)!);
    }
    return [...names].sort();
}

/** One chat_template dataset entry: our chat JSONL, trained as our pipeline trains it. */
function chatDataset(path: string): YamlValue {
    return {
        path,
        ds_type: "json",
        type: "chat_template",
        field_messages: "messages",
        message_property_mappings: { role: "role", content: "content" },
        roles_to_train: ["assistant"],
        train_on_eos: "turn"
    };
}

function strategyBlock(facts: AxolotlFacts): AxolotlConfig {
    if (facts.strategy === "fsdp") {
        return {
            fsdp_version: 2,
            fsdp_config: {
                offload_params: false,
                cpu_ram_efficient_loading: true,
                auto_wrap_policy: "TRANSFORMER_BASED_WRAP",
                transformer_layer_cls_to_wrap: DECODER_LAYER_CLASS[facts.arch],
                state_dict_type: "FULL_STATE_DICT",
                reshard_after_forward: true
            }
        };
    }
    return { deepspeed: DEEPSPEED_CONFIG[facts.strategy] };
}

/** The config object (key order is the file's order) and the warnings for settings that do not carry over exactly. */
export function buildAxolotlConfig(run: ResolvedRunConfig, facts: AxolotlFacts, hasValidationFile: boolean): { config: AxolotlConfig; warnings: string[] } {
    const warnings: string[] = [];
    if (!Number.isInteger(run.alpha)) {
        throw new AxolotlConfigError(`${facts.configFile}: field "alpha" is ${run.alpha}, but Axolotl's lora_alpha is an integer; retrain with a whole alpha (scale alpha / rank) to export this run`);
    }
    if (!Number.isInteger(facts.gpus) || facts.gpus < 1) throw new AxolotlConfigError(`gpus must be a whole number ≥ 1, got ${facts.gpus}`);
    const accumulation = Math.max(1, Math.floor(run.gradAccum / facts.gpus));
    if (accumulation * facts.gpus !== run.gradAccum) {
        warnings.push(`the run's batch was ${run.gradAccum} packed row(s) per step; on ${facts.gpus} GPUs with gradient_accumulation_steps ${accumulation} it is ${accumulation * facts.gpus}: adjust learning_rate if the loss behaves differently`);
    }
    const excess = EXCESS_LENGTH[run.truncation];
    if (excess === undefined) warnings.push(`the run truncated long examples from the left (truncation "truncate-left"); Axolotl truncates only from the right, so excess_length_strategy is "truncate"`);
    const quantized = facts.baseBits === 4 ? { load_in_4bit: true } : facts.baseBits === 8 ? { load_in_8bit: true } : {};
    const validation: AxolotlConfig = hasValidationFile
        ? { test_datasets: [chatDataset(AXOLOTL_VALIDATION_DATA)] }
        : run.validationSplit > 0 ? { val_set_size: run.validationSplit } : { val_set_size: 0 };

    const config: AxolotlConfig = {
        base_model: facts.baseModel,
        ...quantized,
        adapter: facts.baseBits === 4 ? "qlora" : "lora",
        lora_r: run.rank,
        lora_alpha: run.alpha,
        lora_dropout: run.dropout,
        lora_target_modules: hfTargetModules(facts.arch, run.targetModules),
        chat_template: "tokenizer_default",
        datasets: [chatDataset(AXOLOTL_TRAIN_DATA)],
        ...validation,
        dataset_prepared_path: "last_run_prepared",
        sequence_len: run.sequenceLength,
        sample_packing: true,
        pad_to_sequence_len: true,
        ...(hasValidationFile || run.validationSplit > 0 ? { eval_sample_packing: false } : {}),
        attn_implementation: "sdpa",
        excess_length_strategy: excess ?? "truncate",
        micro_batch_size: 1,
        gradient_accumulation_steps: accumulation,
        num_epochs: run.epochs,
        optimizer: "adamw_torch",
        adam_beta1: run.beta1,
        adam_beta2: run.beta2,
        adam_epsilon: run.eps,
        weight_decay: run.weightDecay,
        max_grad_norm: run.gradClip,
        learning_rate: run.learningRate,
        lr_scheduler: LR_SCHEDULER[run.lrSchedule],
        ...(run.warmupSteps !== undefined ? { warmup_steps: run.warmupSteps } : { warmup_ratio: run.warmupRatio }),
        seed: run.seed,
        bf16: "auto",
        gradient_checkpointing: true,
        logging_steps: 1,
        ...strategyBlock(facts),
        output_dir: "outputs/lora"
    };
    return { config, warnings };
}
