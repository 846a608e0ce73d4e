// `lora-studio export`: writes a trained adapter in another form (GGUF LoRA, merged GGUF, Ollama Modelfile, PEFT).
// Its flags are export/run's params (params/commands.ts), checked by the same schema as the RPC. It never replaces
// one of its inputs, and replaces any other existing file only with --force.
import { loadEngine } from "../engine";
import { ExportTargetExistsError, formatNeedsEngine, runExport } from "../export";
import { EXPORT_RUN_PARAMS } from "../params/commands";
import { optionsUsage, parseCliArgs } from "../params/cliArgs";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio export --adapter A.gguf --model M.gguf --format FORMAT --out PATH [options]

Formats:
  gguf-lora   the adapter as is (a checked copy), for llama.cpp, LM Studio, node-llama-cpp
  merged      base + adapter folded into one GGUF; --type f32|f16|q8_0|q4_0|q4_k_m (default f16)
  ollama      a Modelfile (FROM, ADAPTER, TEMPLATE, stop parameters); --out is the Modelfile or its folder
  peft        a Hugging Face PEFT folder: adapter_model.safetensors + adapter_config.json; --dtype f32|f16|bf16 (default f32)

An export never replaces the base model, the adapter or a file of the adapter's run; any other existing
file at --out is replaced only with --force (atomically: the old file stays until the new one is complete).

Options:
${optionsUsage(EXPORT_RUN_PARAMS)}`;

async function run(args: string[]): Promise<number> {
    const { values } = parseCliArgs(EXPORT_RUN_PARAMS, args);
    for (const field of ["adapter", "model", "out"] as const) {
        if (values[field] === undefined) throw new UsageError(`--${field} is required`);
    }
    const { format, type, dtype } = values;
    if (type !== undefined && format !== "merged") throw new UsageError("--type applies to --format merged only");
    if (dtype !== undefined && format !== "peft") throw new UsageError("--dtype applies to --format peft only");
    const engine = formatNeedsEngine(format, type) ? await loadEngine() : undefined;
    try {
        const result = await runExport({
            format,
            model: values.model!,
            adapter: values.adapter!,
            out: values.out!,
            ...(type ? { type } : {}),
            ...(values.system !== undefined ? { system: values.system } : {}),
            ...(values.baseModelId !== undefined ? { baseModelId: values.baseModelId } : {}),
            ...(dtype ? { dtype } : {}),
            ...(values.overwrite ? { overwrite: true } : {}),
            ...(engine ? { quantize: (i: string, o: string, t: "q4_0" | "q4_k_m" | "q8_0") => engine.quantizeModel(i, o, t) } : {})
        });
        for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
        process.stdout.write(`${result.files.join("\n")}\n`);
        return 0;
    } catch (error) {
        if (error instanceof ExportTargetExistsError) throw new Error(error.message.replace("(--force on the command line, or confirm in the editor)", "(pass --force to replace)"));
        throw error;
    }
}

export const exportCommand: CliCommand = {
    summary: "export an adapter as GGUF LoRA, merged GGUF, Ollama Modelfile or PEFT safetensors",
    usage,
    run
};
