// `lora-studio export`: writes a trained adapter in another form (GGUF LoRA, merged GGUF, Ollama Modelfile, PEFT), or a
// run as an Axolotl job folder. Its flags are export/run's params (params/commands.ts), checked by the same schema as
// the RPC, and a --run folder supplies the adapter and base model as export/run's runDirectory does
// (export/runInputs.ts). It never replaces one of its inputs, and replaces any other existing file only with --force.
import { loadEngine } from "../engine";
import { BaseModelRepoUnknownError, ExportTargetExistsError, formatNeedsEngine, runExport } from "../export";
import { ExportRequestError, exportInputsFor } from "../export/runInputs";
import { EXPORT_RUN_PARAMS } from "../params/commands";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio export --adapter A.gguf --model M.gguf --format FORMAT --out PATH [options]
       lora-studio export --run RUN_DIR --format FORMAT --out PATH [options]

Formats:
  gguf-lora   the adapter as is (a checked copy), for llama.cpp, LM Studio, node-llama-cpp
  merged      base + adapter folded into one GGUF; --type f32|f16|q8_0|q4_0|q4_k_m (default f16)
  ollama      a Modelfile (FROM, ADAPTER, TEMPLATE, stop parameters); --out is the Modelfile or its folder
  peft        a Hugging Face PEFT folder: adapter_model.safetensors + adapter_config.json; --dtype f32|f16|bf16 (default f32)
  axolotl     (with --run) a folder to train the same LoRA with Axolotl on many GPUs: config.yml, the data, a README;
              --base-model HF_REPO (default: from the GGUF metadata), --gpus N (default 1),
              --strategy deepspeed-zero2|deepspeed-zero3|fsdp (default deepspeed-zero2)

Which path fits which scale: this machine → train here (LoRA Studio's engine); one remote GPU → open the folder
over Remote-SSH and train there; many GPUs → --format axolotl.

An export never replaces the base model, the adapter or a file of the adapter's run; any other existing
file at --out is replaced only with --force (atomically: the old file stays until the new one is complete).

Options:
${optionsUsage(EXPORT_RUN_PARAMS)}`;

async function run(args: string[]): Promise<number> {
    const { values } = parseCliArgs(EXPORT_RUN_PARAMS, args);
    if (values.out === undefined) throw new UsageError("--out is required");
    if (values.runDirectory === undefined) {
        for (const field of ["adapter", "model"] as const) {
            if (values[field] === undefined) throw new UsageError(`--${field} is required (or --run RUN_DIR)`);
        }
    }
    const { format, type, dtype } = values;
    if (type !== undefined && format !== "merged") throw new UsageError("--type applies to --format merged only");
    if (dtype !== undefined && format !== "peft") throw new UsageError("--dtype applies to --format peft only");
    for (const field of ["baseModelRepo", "gpus", "strategy"] as const) {
        if (values[field] !== undefined && format !== "axolotl") throw new UsageError(`--${EXPORT_RUN_PARAMS[field].flag} applies to --format axolotl only`);
    }
    if (format === "axolotl" && values.runDirectory === undefined) throw new UsageError("--format axolotl needs --run RUN_DIR: it carries the run's settings and data");
    let inputs;
    try {
        // The one mapping of a request onto the export's inputs (the RPC's too): a run supplies adapter and model,
        // relative paths in its config resolving against the run folder.
        inputs = exportInputsFor({ ...values, format }, undefined, undefined);
    } catch (error) {
        if (error instanceof ExportRequestError) throw new UsageError(error.message);
        throw error;
    }
    const engine = formatNeedsEngine(format, type) ? await loadEngine() : undefined;
    try {
        const result = await runExport({
            ...inputs,
            ...(engine ? { quantize: (i: string, o: string, t: "q4_0" | "q4_k_m" | "q8_0") => engine.quantizeModel(i, o, t) } : {})
        });
        for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
        process.stdout.write(`${result.files.join("\n")}\n`);
        return 0;
    } catch (error) {
        if (error instanceof ExportTargetExistsError) throw new Error(error.message.replace("(--force on the command line, or confirm in the editor)", "(pass --force to replace)"));
        if (error instanceof BaseModelRepoUnknownError) throw new Error(error.message.replace(" (lora-studio export --base-model ORG/NAME, or answer the editor's prompt)", " with --base-model ORG/NAME"));
        throw error;
    }
}

export const exportCommand: CliCommand = {
    summary: "export an adapter as GGUF LoRA, merged GGUF, Ollama Modelfile or PEFT safetensors, or a run as an Axolotl job",
    usage,
    run
};
