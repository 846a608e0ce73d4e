// `lora-studio export`: writes a trained adapter in another form (GGUF LoRA, merged GGUF, Ollama Modelfile, PEFT).
import { parseArgs } from "node:util";
import { loadEngine } from "../engine";
import { EXPORT_FORMATS, formatNeedsEngine, MERGED_TYPES, PEFT_DTYPES, runExport, type ExportFormat, type ExportPeftDtype, type MergedType } from "../export";
import { UsageError, type CliCommand } from "./types";

const usage = `Usage: lora-studio export --adapter A.gguf --model M.gguf --format FORMAT --out PATH [--type TYPE] [--dtype DTYPE]

Formats:
  gguf-lora   the adapter as is (a checked copy), for llama.cpp, LM Studio, node-llama-cpp
  merged      base + adapter folded into one GGUF; --type ${MERGED_TYPES.join("|")} (default f16)
  ollama      a Modelfile (FROM, ADAPTER, TEMPLATE, stop parameters); --out is the Modelfile or its folder
  peft        a Hugging Face PEFT folder: adapter_model.safetensors + adapter_config.json; --dtype ${PEFT_DTYPES.join("|")} (default f32)

Options:
  --adapter A.gguf     the trained GGUF LoRA (a run's adapter.gguf)
  --model M.gguf       the base model it was trained on
  --out PATH           where to write
  --type TYPE          merged only
  --system TEXT        ollama only: the SYSTEM prompt your training data used
  --base-model-id ID   peft only: base_model_name_or_path (default: from the GGUF metadata)
  --dtype DTYPE        peft only: the safetensors' float type; f32 is exact, f16/bf16 round to nearest even`;

async function run(args: string[]): Promise<number> {
    let values: Record<string, string | boolean | undefined>;
    try {
        values = parseArgs({
            args,
            options: {
                adapter: { type: "string" }, model: { type: "string" }, format: { type: "string" }, out: { type: "string" },
                type: { type: "string" }, system: { type: "string" }, "base-model-id": { type: "string" }, dtype: { type: "string" }
            }
        }).values;
    } catch (err) {
        throw new UsageError((err as Error).message);
    }
    for (const flag of ["adapter", "model", "format", "out"] as const) {
        if (typeof values[flag] !== "string") throw new UsageError(`--${flag} is required`);
    }
    const format = values.format as ExportFormat;
    if (!EXPORT_FORMATS.includes(format)) throw new UsageError(`--format must be one of ${EXPORT_FORMATS.join(", ")}, got ${JSON.stringify(format)}`);
    const type = values.type as MergedType | undefined;
    if (type !== undefined && format !== "merged") throw new UsageError("--type applies to --format merged only");
    if (type !== undefined && !MERGED_TYPES.includes(type)) throw new UsageError(`--type must be one of ${MERGED_TYPES.join(", ")}, got ${JSON.stringify(type)}`);
    const dtype = values.dtype as ExportPeftDtype | undefined;
    if (dtype !== undefined && format !== "peft") throw new UsageError("--dtype applies to --format peft only");
    if (dtype !== undefined && !PEFT_DTYPES.includes(dtype)) throw new UsageError(`--dtype must be one of ${PEFT_DTYPES.join(", ")}, got ${JSON.stringify(dtype)}`);
    const engine = formatNeedsEngine(format, type) ? await loadEngine() : undefined;
    const result = await runExport({
        format,
        model: values.model as string,
        adapter: values.adapter as string,
        out: values.out as string,
        ...(type ? { type } : {}),
        ...(typeof values.system === "string" ? { system: values.system } : {}),
        ...(typeof values["base-model-id"] === "string" ? { baseModelId: values["base-model-id"] } : {}),
        ...(dtype ? { dtype } : {}),
        ...(engine ? { quantize: (i: string, o: string, t: "q4_0" | "q4_k_m" | "q8_0") => engine.quantizeModel(i, o, t) } : {})
    });
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(`${result.files.join("\n")}\n`);
    return 0;
}

export const exportCommand: CliCommand = {
    summary: "export an adapter as GGUF LoRA, merged GGUF, Ollama Modelfile or PEFT safetensors",
    usage,
    run
};
