// The addon's raw surface (sidecar/native/addon/*.cpp) and its loader. Only ./engine.ts uses this module.
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, sep } from "node:path";
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

/** The platform the installable package (scripts/package.mjs) ships a prebuilt engine for. */
export const PREBUILT_ENGINE_PLATFORM = "linux-x64";

/**
 * What ENGINE_UNAVAILABLE says when the addon is missing (`loadError` undefined) or does not load: the platform, and
 * what to do there. Only linux-x64 packages carry a prebuilt engine; elsewhere it is built from source with CMake.
 * An installed package has no scripts/, so the command is named for a source checkout, with the variable that points
 * an installed extension at the addon it builds.
 */
export function engineUnavailableMessage(where: { path: string; platform: string; arch: string }, loadError?: string): string {
    const { path, platform, arch } = where;
    const here = `${platform}-${arch}`;
    const what = loadError === undefined
        ? `The native engine is not built for ${here} (${path} is missing).`
        : `Cannot load the native engine ${path} on ${here}: ${loadError}.`;
    const prebuilt = here === PREBUILT_ENGINE_PLATFORM ? "" : ` LoRA Studio packages carry a prebuilt engine for ${PREBUILT_ENGINE_PLATFORM} only.`;
    return `${what}${prebuilt} Build it from source (needs CMake and a C++ compiler): in a LoRA Studio checkout run \`npm install\``
        + ` and \`node scripts/build-native.mjs\`, then restart the sidecar; an installed extension finds the result through`
        + ` LORA_STUDIO_ENGINE_PATH=<checkout>/${ADDON_RELATIVE_PATH.split(sep).join("/")}.`;
}

let cached: NativeBinding | undefined;

export function loadNativeBinding(): NativeBinding {
    if (cached) return cached;
    const path = nativeAddonPath();
    const where = { path, platform: process.platform, arch: process.arch };
    if (!existsSync(path)) throw new EngineUnavailableError(engineUnavailableMessage(where));
    try {
        cached = createRequire(join(packageRoot(), "package.json"))(path) as NativeBinding;
    } catch (err) {
        throw new EngineUnavailableError(engineUnavailableMessage(where, (err as Error).message));
    }
    return cached;
}
