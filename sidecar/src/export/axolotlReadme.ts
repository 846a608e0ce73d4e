// The README.md and DeepSpeed configs of an Axolotl export folder (axolotl.ts writes them). The README is what someone
// on the cluster reads first: what to install (pinned), the one command, and how the adapter comes back.
import { AXOLOTL_VERSION, type AxolotlStrategy } from "./axolotlConfig";

export interface AxolotlReadmeFacts {
    runId: string;
    baseModel: string;
    /** The base GGUF the run trained on, for the import command. */
    baseGguf: string;
    gpus: number;
    strategy: AxolotlStrategy;
    hasValidationFile: boolean;
    warnings: readonly string[];
}

/** The launch command, exactly as the README shows it. */
export function axolotlLaunchCommand(gpus: number): string {
    return `accelerate launch --num_processes ${gpus} -m axolotl.cli.train config.yml`;
}

const STRATEGY_TEXT: Record<AxolotlStrategy, string> = {
    "deepspeed-zero2": "DeepSpeed ZeRO-2 (`deepspeed_configs/zero2.json`): optimizer state and gradients sharded across the GPUs, each GPU holds the whole model.",
    "deepspeed-zero3": "DeepSpeed ZeRO-3 (`deepspeed_configs/zero3.json`): the model itself sharded too, for bases that do not fit on one GPU.",
    fsdp: "PyTorch FSDP 2 (`fsdp_config` in config.yml): parameters sharded per decoder layer."
};

export function axolotlReadme(f: AxolotlReadmeFacts): string {
    // No flash-attn extra: config.yml uses PyTorch's sdpa attention, so nothing has to be compiled.
    const install = f.strategy === "fsdp" ? `pip install "axolotl==${AXOLOTL_VERSION}"` : `pip install "axolotl[deepspeed]==${AXOLOTL_VERSION}"`;
    const lines = [
        `# LoRA Studio run \`${f.runId}\` as an Axolotl job`,
        "",
        `Trains the same LoRA as LoRA Studio's run \`${f.runId}\` (rank, alpha, dropout, target modules, learning rate and schedule,`,
        "sequence length with packing, epochs, assistant-only loss) with [Axolotl](https://github.com/axolotl-ai-cloud/axolotl)",
        `on ${f.gpus} GPU${f.gpus === 1 ? "" : "s"}, starting from the Hugging Face model \`${f.baseModel}\`.`,
        "",
        "Which path fits which scale: this machine → LoRA Studio's own engine; one remote GPU → open the folder over",
        "Remote-SSH and train there; many GPUs → this folder.",
        "",
        "## Contents",
        "",
        "- `config.yml`: the Axolotl config.",
        "- `data/train.jsonl`: the run's training data, byte for byte as it was written (chat format: `messages`).",
        ...(f.hasValidationFile ? ["- `data/validation.jsonl`: the run's validation file (`test_datasets`)."] : []),
        ...(f.strategy === "fsdp" ? [] : [`- \`deepspeed_configs/\`: the DeepSpeed config \`config.yml\` names.`]),
        "",
        `Strategy: ${STRATEGY_TEXT[f.strategy]}`,
        "",
        "## Install (on the GPU machine)",
        "",
        "```sh",
        "python -m venv .venv && . .venv/bin/activate",
        `pip install "torch>=2.6" && ${install}`,
        "huggingface-cli login   # if the base model is gated",
        "```",
        "",
        `Tested against Axolotl ${AXOLOTL_VERSION}'s configuration schema; other versions may rename keys.`,
        "",
        "## Train",
        "",
        "From this folder:",
        "",
        "```sh",
        axolotlLaunchCommand(f.gpus),
        "```",
        "",
        "The adapter is written to `outputs/lora/` (`adapter_model.safetensors` + `adapter_config.json`, a PEFT adapter).",
        "",
        "## Bring the adapter back",
        "",
        "Copy `outputs/lora/` to the machine with LoRA Studio, then run **LoRA Studio: Import Adapter** in the editor, or:",
        "",
        "```sh",
        `lora-studio import-adapter --peft outputs/lora --model ${JSON.stringify(f.baseGguf)} --out adapter.gguf`,
        "```",
        "",
        "The result is a GGUF LoRA that LoRA Studio's chat, evaluation and exports accept on the same base GGUF.",
        ...(f.warnings.length > 0 ? ["", "## Differences from the LoRA Studio run", "", ...f.warnings.map((w) => `- ${w}`)] : []),
        ""
    ];
    return lines.join("\n");
}

/**
 * DeepSpeed configs for the Hugging Face Trainer that Axolotl drives: "auto" values are filled from config.yml's
 * batch sizes, clipping and precision, so the two files cannot disagree.
 */
export function deepspeedConfig(stage: 2 | 3): Record<string, unknown> {
    const zero: Record<string, unknown> = stage === 2
        ? { stage: 2, overlap_comm: true, contiguous_gradients: true, reduce_bucket_size: "auto", allgather_bucket_size: "auto" }
        : {
            stage: 3, overlap_comm: true, contiguous_gradients: true, reduce_bucket_size: "auto",
            stage3_prefetch_bucket_size: "auto", stage3_param_persistence_threshold: "auto",
            stage3_gather_16bit_weights_on_model_save: true
        };
    return {
        zero_optimization: zero,
        bf16: { enabled: "auto" },
        fp16: { enabled: "auto" },
        gradient_accumulation_steps: "auto",
        gradient_clipping: "auto",
        train_batch_size: "auto",
        train_micro_batch_size_per_gpu: "auto",
        wall_clock_breakdown: false
    };
}
