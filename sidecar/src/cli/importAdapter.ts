// `lora-studio import-adapter --peft DIR --model BASE.gguf --out A.gguf [--force]`: a PEFT LoRA folder trained anywhere
// (Hugging Face PEFT, Axolotl, our own PEFT export) → a GGUF LoRA for the base; the work is in importAdapter/.
import { importPeftAdapter } from "../importAdapter";
import { IMPORT_ADAPTER_PARAMS } from "../params/commands";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import type { CliCommand } from "./types";

const usage = `Usage: lora-studio import-adapter --peft DIR --model BASE.gguf --out A.gguf [--force]

Converts a Hugging Face PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors, F32, F16 or BF16) into
a GGUF LoRA for BASE.gguf, which chat, eval and every export accept. Module names are mapped to GGUF tensors for
the base's architecture, llama-family q/k rows are permuted as llama.cpp's converter permutes them, lora_alpha/r
(and rsLoRA's alpha/√r) become adapter.lora.alpha, and every shape is checked against the base first.
DoRA, modules_to_save, adapters on embeddings or lm_head, and trained biases are refused with the reason.

Where to train: this machine (lora-studio train), one remote GPU (the editor over Remote-SSH), or many GPUs
(an Axolotl job); adapters trained elsewhere come back here.

Options:
${optionsUsage(IMPORT_ADAPTER_PARAMS)}`;

async function run(args: string[]): Promise<number> {
    const { values } = parseCliArgs(IMPORT_ADAPTER_PARAMS, args);
    const result = await importPeftAdapter({ peft: values.peft, model: values.model, out: values.out, ...(values.overwrite ? { overwrite: true } : {}) });
    const rescaled = result.rescaledPairs > 0 ? `, ${result.rescaledPairs} rescaled to one alpha` : "";
    const permuted = result.permutedPairs > 0 ? `, ${result.permutedPairs} q/k permuted for llama.cpp` : "";
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stderr.write(`${result.arch}: ${result.pairs} LoRA pairs (${result.dtypes.join(", ")}), alpha ${result.alpha}${permuted}${rescaled}\n`);
    process.stdout.write(`${result.out}\n`);
    return 0;
}

export const importAdapterCommand: CliCommand = {
    summary: "convert a Hugging Face PEFT LoRA folder into a GGUF LoRA for a base model",
    usage,
    run
};
