// "4-bit is a checkbox": with `quantizeBase` set, an F32/F16/BF16 base is quantized once into a user-level cache
// and training loads the quantized copy (QLoRA). The cache key covers the base's path, size and mtime, so an edited
// base is re-quantized; a base that is already quantized is used as it is.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join, resolve } from "node:path";
import type { Engine } from "../engine";
import { kvNumber, openModelFile } from "../gguf";

export type QuantizeBase = "none" | "q4_0" | "q4_k_m" | "q8_0";

/** Only general.file_type is read: the tokenizer's arrays are skipped. */
const HEADER_ARRAY_LIMIT = 4096;

/** llama_ftype values of unquantized bases: ALL_F32, MOSTLY_F16, MOSTLY_BF16. */
const UNQUANTIZED_FILE_TYPES = new Set([0, 1, 32]);

export function quantizedCacheDir(): string {
    return process.env.LORA_STUDIO_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "lora-studio", "quantized");
}

/** Where the quantized copy of `modelPath` lives in the cache (whether or not it exists yet). */
export function quantizedCachePath(modelPath: string, type: Exclude<QuantizeBase, "none">, cacheDir = quantizedCacheDir()): string {
    const abs = resolve(modelPath);
    const st = statSync(abs);
    const key = createHash("sha256").update(`${abs}\0${st.size}\0${st.mtimeMs}`).digest("hex").slice(0, 16);
    return join(cacheDir, `${basename(abs).replace(/\.gguf$/i, "")}.${key}.${type}.gguf`);
}

/** The GGUF training should load: `modelPath` itself, or its cached quantized copy (made on first use). */
export async function trainingBasePath(engine: Engine, modelPath: string, quantize: QuantizeBase, cacheDir = quantizedCacheDir()): Promise<string> {
    if (quantize === "none") return modelPath;
    // Through the load guard: a damaged base fails naming the byte, before the engine quantizes garbage into the cache.
    const file = openModelFile(modelPath, { skipArraysOver: HEADER_ARRAY_LIMIT });
    const fileType = file.kv.has("general.file_type") ? kvNumber(file, "general.file_type") : 0;
    if (!UNQUANTIZED_FILE_TYPES.has(fileType)) return modelPath;
    const target = quantizedCachePath(modelPath, quantize, cacheDir);
    if (existsSync(target)) return target;
    mkdirSync(cacheDir, { recursive: true });
    // Quantize into a temp file and rename, so a killed sidecar never leaves a half-written model in the cache.
    const temp = `${target}.tmp-${process.pid}`;
    try {
        await engine.quantizeModel(modelPath, temp, quantize);
        renameSync(temp, target);
    } finally {
        rmSync(temp, { force: true });
    }
    return target;
}
