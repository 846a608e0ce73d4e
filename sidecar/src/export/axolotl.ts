// A finished run as an Axolotl job folder: config.yml (axolotlConfig.ts), the training data as written, the DeepSpeed
// config of the chosen strategy and a README (axolotlReadme.ts). Everything is written into a temp folder beside the
// target and renamed into place at the end, so the folder appears whole or not at all; an existing folder (allowed by
// the caller's overwrite check) is swapped out only once the new one is complete.
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { isTrainableArch, supportedArchitecturesText, type TrainableArch } from "../engine/architectures";
import type { GgufFile } from "../gguf";
import { splitLines } from "../datasets/lines";
import { resolvedConfig } from "../training/config";
import type { ResolvedRunConfig } from "../training/resolveRunConfig";
import { RunDirectory } from "../training/runStore";
import { ExportInputError, openGguf } from "./adapter";
import {
    AXOLOTL_TRAIN_DATA, AXOLOTL_VALIDATION_DATA, AxolotlConfigError, buildAxolotlConfig, DEEPSPEED_CONFIG,
    type AxolotlStrategy
} from "./axolotlConfig";
import { axolotlReadme, deepspeedConfig } from "./axolotlReadme";
import { toYaml } from "./yaml";

/** The base GGUF records no Hugging Face repository and none was given: the editor asks, the CLI says --base-model. */
export class BaseModelRepoUnknownError extends ExportInputError {
    override name = "BaseModelRepoUnknownError";
}

export interface AxolotlExportOptions {
    runDirectory: string;
    /** The base GGUF (the run config's model, resolved by the caller). */
    model: string;
    out: string;
    /** `base_model`; default: from the GGUF metadata. */
    baseModelRepo?: string;
    /** Default 1. */
    gpus?: number;
    /** Default deepspeed-zero2. */
    strategy?: AxolotlStrategy;
    /** Relative data paths in the run's config resolve here (as the model path does); default the run folder. */
    dataRoot?: string;
}

export interface AxolotlExportResult {
    files: string[];
    warnings: string[];
}

const METADATA_KEYS = ["general.source.huggingface.repository", "general.source.url", "general.base_model.0.repo_url"] as const;

function kvString(file: GgufFile, key: string): string | undefined {
    const v = file.kv.get(key);
    return v?.type === "string" && v.value.trim() !== "" ? v.value.trim() : undefined;
}

/**
 * The Hugging Face repository of the base: general.source.* names the model the GGUF was converted from (the same
 * weights); general.base_model.0.* names the model it was derived from, so using it is said in a warning (an
 * instruct GGUF's base_model is the pretrained parent, which has other weights).
 */
export function baseModelRepoOf(file: GgufFile): { repo: string; key: string } | undefined {
    const direct = kvString(file, "general.source.huggingface.repository");
    if (direct && /^[\w.-]+\/[\w.-]+$/.test(direct)) return { repo: direct, key: "general.source.huggingface.repository" };
    for (const key of ["general.source.url", "general.base_model.0.repo_url"]) {
        const repo = kvString(file, key)?.match(/^https?:\/\/(?:www\.)?huggingface\.co\/([\w.-]+\/[\w.-]+?)(?:[/?#]|$)/)?.[1];
        if (repo) return { repo, key };
    }
    return undefined;
}

/** Bits the base had while training: a quantized GGUF as is, or an F32/F16/BF16 base quantized by quantizeBase. */
function baseBits(file: GgufFile, run: ResolvedRunConfig): 4 | 8 | 16 {
    const v = file.kv.get("general.file_type");
    const fileType = typeof v?.value === "number" ? v.value : 0;
    // llama_ftype: ALL_F32 0, MOSTLY_F16 1, MOSTLY_BF16 32 are unquantized; MOSTLY_Q8_0 is 7.
    if (![0, 1, 32].includes(fileType)) return fileType === 7 ? 8 : 4;
    if (run.quantizeBase === "none") return 16;
    return run.quantizeBase === "q8_0" ? 8 : 4;
}

/** Every non-blank line must be a chat line (`messages`), since the export copies the file as written. */
function checkChatData(path: string, field: string, configFile: string): void {
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        throw new ExportInputError(`${configFile}: field "${field}" names ${path}, which cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    splitLines(text.replace(/^\uFEFF/, "")).forEach((line, index) => {
        if (line.trim() === "") return;
        let value: unknown;
        try {
            value = JSON.parse(line);
        } catch {
            throw new ExportInputError(`${path}:${index + 1}: not valid JSON; the Axolotl export copies the data as written, so fix the line first`);
        }
        const messages = (value as { messages?: unknown } | null)?.messages;
        if (!Array.isArray(messages)) {
            throw new ExportInputError(`${path}:${index + 1}: field "messages" is missing; the Axolotl export writes chat_template datasets, so convert the file to chat format first (the dataset's "convert to chat" quick fix, or lora-studio import)`);
        }
    });
}

function dataPath(path: string, root: string): string {
    return isAbsolute(path) ? path : resolve(root, path);
}

/** The run and its config with defaults filled and data paths resolved (the data files are inputs of the export). */
export function axolotlRun(opts: Pick<AxolotlExportOptions, "runDirectory" | "dataRoot">): { run: RunDirectory; config: ResolvedRunConfig; configFile: string } {
    const run = new RunDirectory(resolve(opts.runDirectory));
    const configFile = run.configPath;
    const raw = run.readConfig();
    const root = opts.dataRoot ?? run.path;
    const config = resolvedConfig({ ...raw, data: dataPath(raw.data, root), ...(raw.validationData ? { validationData: dataPath(raw.validationData, root) } : {}) }, configFile);
    return { run, config, configFile };
}

/** Writes the folder; throws ExportInputError (and BaseModelRepoUnknownError) before anything is written. */
export function exportAxolotl(opts: AxolotlExportOptions): AxolotlExportResult {
    const { run, config, configFile } = axolotlRun(opts);

    const base = openGguf(opts.model, "base model");
    const arch = String(base.kv.get("general.architecture")?.value);
    if (!isTrainableArch(arch)) throw new ExportInputError(`${opts.model}: an Axolotl export needs the Hugging Face module names of the architecture, and LoRA Studio knows them for ${supportedArchitecturesText()}, not '${arch}'`);
    const warnings: string[] = [];
    let baseModel = opts.baseModelRepo?.trim();
    if (!baseModel) {
        const found = baseModelRepoOf(base);
        if (!found) {
            throw new BaseModelRepoUnknownError(`${opts.model}: no Hugging Face repository in the GGUF metadata (none of ${METADATA_KEYS.join(", ")} names one), and Axolotl trains from the original model; give it (lora-studio export --base-model ORG/NAME, or answer the editor's prompt)`);
        }
        baseModel = found.repo;
        if (found.key === "general.base_model.0.repo_url") warnings.push(`base_model ${baseModel} comes from ${opts.model}'s general.base_model.0.repo_url, the model this GGUF was derived from; if the GGUF is a fine-tune of it (an instruct model), export again with --base-model naming the GGUF's own source`);
    }

    checkChatData(config.data, "data", configFile);
    if (config.validationData !== undefined) checkChatData(config.validationData, "validationData", configFile);
    const gpus = opts.gpus ?? 1;
    const strategy = opts.strategy ?? "deepspeed-zero2";
    const hasValidationFile = config.validationData !== undefined;
    let built;
    try {
        built = buildAxolotlConfig(config, { baseModel, arch: arch as TrainableArch, baseBits: baseBits(base, config), gpus, strategy, configFile }, hasValidationFile);
    } catch (error) {
        if (error instanceof AxolotlConfigError) throw new ExportInputError(error.message);
        throw error;
    }
    warnings.push(...built.warnings);

    const out = resolve(opts.out);
    const rel = ["config.yml", "README.md", AXOLOTL_TRAIN_DATA, ...(hasValidationFile ? [AXOLOTL_VALIDATION_DATA] : []), ...(strategy === "fsdp" ? [] : [DEEPSPEED_CONFIG[strategy]])];
    mkdirSync(dirname(out), { recursive: true });
    const temp = join(dirname(out), `.tmp-${basename(out)}-${process.pid}-${Date.now()}`);
    try {
        mkdirSync(join(temp, "data"), { recursive: true });
        writeFileSync(join(temp, "config.yml"), toYaml(built.config));
        copyFileSync(config.data, join(temp, AXOLOTL_TRAIN_DATA));
        if (config.validationData !== undefined) copyFileSync(config.validationData, join(temp, AXOLOTL_VALIDATION_DATA));
        if (strategy !== "fsdp") {
            mkdirSync(join(temp, "deepspeed_configs"));
            writeFileSync(join(temp, DEEPSPEED_CONFIG[strategy]), `${JSON.stringify(deepspeedConfig(strategy === "deepspeed-zero2" ? 2 : 3), null, 2)}\n`);
        }
        writeFileSync(join(temp, "README.md"), axolotlReadme({ runId: run.runId, baseModel, baseGguf: resolve(opts.model), gpus, strategy, hasValidationFile, warnings }));
        swapInto(temp, out);
    } finally {
        rmSync(temp, { recursive: true, force: true });
    }
    return { files: rel.map((r) => join(out, r)), warnings };
}

/** Renames the finished folder into place; an existing one is moved aside first and removed only after the swap. */
function swapInto(temp: string, out: string): void {
    if (!existsSync(out)) {
        renameSync(temp, out);
        return;
    }
    const old = `${temp}-old`;
    renameSync(out, old);
    try {
        renameSync(temp, out);
    } catch (error) {
        renameSync(old, out);
        throw error;
    }
    rmSync(old, { recursive: true, force: true });
}
