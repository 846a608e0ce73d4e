// The addon's raw surface (sidecar/native/addon/*.cpp) and its loader. Only ./engine.ts uses this module.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { EngineUnavailableError } from "./errors";
import type { BackendNodeCounts, Capabilities, ModelInfo, NamedTensor, StepResult } from "./types";

export interface NativeAdapterOptions {
    rank: number;
    alpha: number;
    dropout: number;
    targetModules?: string[];
    seed: number;
}

export interface NativeModel {
    info(): ModelInfo & { nBytes: number };
    createTrainer(adapter: NativeAdapterOptions, optimizer: object): Promise<NativeTrainer>;
    dispose(): void;
}

export interface NativeTrainer {
    step(tokens: Int32Array, positions: Int32Array, seqIds: Int32Array, labels: Int32Array): Promise<StepResult>;
    evalLoss(tokens: Int32Array, positions: Int32Array, seqIds: Int32Array, labels: Int32Array): Promise<{ loss: number; tokens: number }>;
    evalLogits(tokens: Int32Array, positions: Int32Array, seqIds: Int32Array, labels: Int32Array): Promise<Float32Array>;
    computeGradients(tokens: Int32Array, positions: Int32Array, seqIds: Int32Array, labels: Int32Array): Promise<{ loss: number; grads: Record<string, NamedTensor> }>;
    adapterTensors(): Record<string, NamedTensor>;
    saveAdapter(path: string): Promise<void>;
    saveCheckpoint(path: string, dataCursor: string): Promise<void>;
    loadCheckpoint(path: string): Promise<{ step: number; dataCursor: string }>;
    cancel(): void;
    engineBytes(): number;
    backendNodes(): BackendNodeCounts;
    dispose(): void;
}

export interface NativeBinding {
    version: string;
    capabilities(): Capabilities;
    loadModel(path: string, threads: number, nCtx: number, useGpu: boolean): Promise<NativeModel>;
    quantizeModel(inPath: string, outPath: string, type: string, threads: number): Promise<void>;
    /** The architectures the engine's training graphs cover (engine_trainable_archs). */
    trainableArchitectures: string[];
}

const ADDON_RELATIVE_PATH = join("sidecar", "native", "build", "Release", "lora_studio_engine.node");

function moduleDir(): string {
    // ESM bundles have import.meta.url; CommonJS bundles have __dirname.
    return typeof __dirname === "string" ? __dirname : dirname(fileURLToPath(import.meta.url));
}

/** The directory holding package.json, found by walking up from this module (works from src/, out/ and dist/). */
export function packageRoot(from = moduleDir()): string {
    for (let dir = from; ; dir = dirname(dir)) {
        if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "sidecar"))) return dir;
        if (dirname(dir) === dir) throw new EngineUnavailableError(`cannot find the LoRA Studio package root above ${from}`);
    }
}

/** Where the addon is expected: $LORA_STUDIO_ENGINE_PATH, else the build output of scripts/build-native.mjs. */
export function nativeAddonPath(): string {
    return process.env.LORA_STUDIO_ENGINE_PATH || join(packageRoot(), ADDON_RELATIVE_PATH);
}

let cached: NativeBinding | undefined;

export function loadNativeBinding(): NativeBinding {
    if (cached) return cached;
    const path = nativeAddonPath();
    if (!existsSync(path)) {
        throw new EngineUnavailableError(`the native engine is not built (${path} is missing); run \`node scripts/build-native.mjs\``);
    }
    try {
        cached = createRequire(join(packageRoot(), "package.json"))(path) as NativeBinding;
    } catch (err) {
        throw new EngineUnavailableError(`cannot load the native engine ${path}: ${(err as Error).message}`);
    }
    return cached;
}
