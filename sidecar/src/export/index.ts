// One entry for every export target, shared by `lora-studio export` and the sidecar's export/run request.
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { exportGgufLora } from "./ggufLora";
import { exportMerged, MERGED_TYPES, type MergedType, type Quantize } from "./merged";
import { exportOllama } from "./ollama";
import { exportPeft } from "./peft";
import { axolotlRun, exportAxolotl } from "./axolotl";
import { AXOLOTL_STRATEGIES } from "./axolotlConfig";
import type { SafetensorsDtype } from "./safetensors";
import { checkAdapterFitsBase, openGguf, readLoraAdapter } from "./adapter";
import { checkExportOutput } from "./outputGuard";
import type { ExportAxolotlStrategy, ExportFormat, ExportPeftDtype } from "../protocol/sidecar";

export { ExportInputError } from "./adapter";
export { ExportTargetExistsError, checkExportOutput } from "./outputGuard";
export { MERGED_TYPES, type MergedType } from "./merged";
export { BaseModelRepoUnknownError } from "./axolotl";
export { AXOLOTL_STRATEGIES } from "./axolotlConfig";

export type { ExportAxolotlStrategy, ExportFormat, ExportPeftDtype } from "../protocol/sidecar";
export const EXPORT_FORMATS: readonly ExportFormat[] = ["gguf-lora", "merged", "ollama", "peft", "axolotl"];
/** The first is the default: the adapter's own F32 values, exactly. */
export const PEFT_DTYPES: readonly ExportPeftDtype[] = ["f32", "f16", "bf16"];

export interface ExportOptions {
    format: ExportFormat;
    model: string;
    adapter: string;
    /** A file for gguf-lora and merged, a Modelfile (or a folder to put `Modelfile` in) for ollama, a folder for peft and axolotl. */
    out: string;
    /** merged only; default f16. */
    type?: MergedType;
    /** ollama only: the training data's system prompt. */
    system?: string;
    /** peft only: `base_model_name_or_path`. */
    baseModelId?: string;
    /** peft only: the safetensors' float type; default f32. */
    dtype?: ExportPeftDtype;
    /** axolotl only: `base_model` (default: from the GGUF metadata). */
    baseModelRepo?: string;
    /** axolotl only: default 1. */
    gpus?: number;
    /** axolotl only: default deepspeed-zero2. */
    strategy?: ExportAxolotlStrategy;
    /** axolotl only: relative data paths in the run's config resolve here (the workspace); default the run folder. */
    dataRoot?: string;
    /** The engine's quantizeModel; merged q8_0/q4_0/q4_k_m only. */
    quantize?: Quantize;
    /** Replace existing output files (never an input); without it an existing target fails with ExportTargetExistsError. */
    overwrite?: boolean;
    /** The run the adapter comes from, whose files the export must not overwrite; default: the adapter's folder when it is a run. axolotl needs it. */
    runDirectory?: string;
}

export interface ExportResult {
    format: ExportFormat;
    /** The file or folder written. */
    path: string;
    /** Every file written. */
    files: string[];
    warnings: string[];
}

const SAFETENSORS_DTYPE: Record<ExportPeftDtype, SafetensorsDtype> = { f32: "F32", f16: "F16", bf16: "BF16" };

export function formatNeedsEngine(format: ExportFormat, type: MergedType | undefined): boolean {
    return format === "merged" && type !== undefined && type !== "f16" && type !== "f32";
}

/** The default output path for a run's adapter: beside it, named by target (and by PEFT dtype other than f32). */
export function defaultExportPath(adapterPath: string, format: ExportFormat, type: MergedType = "f16", dtype: ExportPeftDtype = "f32"): string {
    const dir = dirname(adapterPath);
    switch (format) {
        case "gguf-lora": return join(dir, "export", "adapter.gguf");
        case "merged": return join(dir, "export", `merged-${type}.gguf`);
        case "ollama": return join(dir, "export", "ollama", "Modelfile");
        case "peft": return join(dir, "export", dtype === "f32" ? "peft" : `peft-${dtype}`);
        case "axolotl": return join(dir, "export", "axolotl");
    }
}

export async function runExport(opts: ExportOptions): Promise<ExportResult> {
    const model = resolve(opts.model);
    const adapter = resolve(opts.adapter);
    let out = resolve(opts.out);
    if (opts.type !== undefined && !MERGED_TYPES.includes(opts.type)) throw new Error(`type must be one of ${MERGED_TYPES.join(", ")}, got ${JSON.stringify(opts.type)}`);
    if (opts.dtype !== undefined && !PEFT_DTYPES.includes(opts.dtype)) throw new Error(`dtype must be one of ${PEFT_DTYPES.join(", ")}, got ${JSON.stringify(opts.dtype)}`);
    if (opts.format === "ollama") {
        const namesFolder = /[\\/]$/.test(opts.out) || (existsSync(out) && statSync(out).isDirectory());
        if (namesFolder) out = join(out, "Modelfile");
    }
    if (!EXPORT_FORMATS.includes(opts.format)) throw new Error(`format must be one of ${EXPORT_FORMATS.join(", ")}, got ${JSON.stringify(opts.format)}`);
    if (opts.strategy !== undefined && !AXOLOTL_STRATEGIES.includes(opts.strategy)) throw new Error(`strategy must be one of ${AXOLOTL_STRATEGIES.join(", ")}, got ${JSON.stringify(opts.strategy)}`);
    if (opts.format === "axolotl" && opts.runDirectory === undefined) throw new Error("an Axolotl export needs the run (its config's settings and data), not only an adapter: give the run folder");
    // The run's data files are inputs too: the Axolotl export copies them.
    const dataInputs = opts.format === "axolotl" ? runDataFiles(opts.runDirectory!, opts.dataRoot) : [];
    // Nothing is read or written before the targets are known to be safe (never an input, existing ones only when asked).
    checkExportOutput({ format: opts.format, out, model, adapter, extraInputs: dataInputs, ...(opts.runDirectory ? { runDirectory: opts.runDirectory } : {}), ...(opts.overwrite ? { overwrite: true } : {}) });
    // An adapter that fits the base's shape but records another base (adapters/baseFingerprint.ts) is exported with a warning.
    const baseWarnings = checkAdapterFitsBase(readLoraAdapter(adapter), openGguf(model, "base model"));
    switch (opts.format) {
        case "gguf-lora":
            await exportGgufLora({ model, adapter, out });
            return { format: opts.format, path: out, files: [out], warnings: baseWarnings };
        case "merged":
            await exportMerged({ model, adapter, out, type: opts.type ?? "f16", ...(opts.quantize ? { quantize: opts.quantize } : {}) });
            return { format: opts.format, path: out, files: [out], warnings: baseWarnings };
        case "ollama": {
            const r = exportOllama({ model, adapter, out, ...(opts.system !== undefined ? { system: opts.system } : {}) });
            return { format: opts.format, path: out, files: [out], warnings: [...baseWarnings, ...r.warnings] };
        }
        case "peft": {
            const r = exportPeft({
                model, adapter, out,
                ...(opts.baseModelId ? { baseModelId: opts.baseModelId } : {}),
                ...(opts.dtype ? { dtype: SAFETENSORS_DTYPE[opts.dtype] } : {})
            });
            return { format: opts.format, path: out, files: [r.safetensorsPath, r.configPath], warnings: baseWarnings };
        }
        case "axolotl": {
            const r = exportAxolotl({
                runDirectory: opts.runDirectory!, model, out,
                ...(opts.baseModelRepo !== undefined ? { baseModelRepo: opts.baseModelRepo } : {}),
                ...(opts.gpus !== undefined ? { gpus: opts.gpus } : {}),
                ...(opts.strategy !== undefined ? { strategy: opts.strategy } : {}),
                ...(opts.dataRoot !== undefined ? { dataRoot: opts.dataRoot } : {})
            });
            return { format: opts.format, path: out, files: r.files, warnings: [...baseWarnings, ...r.warnings] };
        }
        default:
            throw new Error(`format must be one of ${EXPORT_FORMATS.join(", ")}, got ${JSON.stringify((opts as { format: unknown }).format)}`);
    }
}

function runDataFiles(runDirectory: string, dataRoot: string | undefined): string[] {
    const { config } = axolotlRun({ runDirectory, ...(dataRoot !== undefined ? { dataRoot } : {}) });
    return config.validationData === undefined ? [config.data] : [config.data, config.validationData];
}
