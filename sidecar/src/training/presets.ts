// Training presets: the memory-shaped part of a run config (sequence length, accumulation, rank, 4-bit base,
// threads) for the hardware tiers people have. Pure data, shared by the wizard (extension), `run/estimate`
// and the CLI's `--preset`. Everything else (lr, schedule, epochs…) stays at the user's settings.
//
// Assumptions, checked by test/unit/training/presets.test.ts against memoryEstimate.ts (published shapes at Q4_K_M):
// - gpu-6gb:  Qwen2.5-0.5B, 512-token rows   (estimate ≈ 3.5 GiB)
// - gpu-12gb: Llama-3.2-1B, 1024-token rows  (≈ 8.3 GiB)
// - gpu-24gb: Llama-3.2-3B, 1024-token rows  (≈ 12.7 GiB)
// - cpu:      Qwen2.5-1.5B at Q4_0 (the fastest CPU kernel), 256-token rows (≈ 2.7 GiB of 8); rank 16 like the
//             others: rank 8 has half the adapter FLOPs but is no faster to train here (engine step 962–1002 ms at
//             r8 vs 824–1081 ms at r16, bench shape Q4_0), and on AVX-512 CPUs a rank-8 adapter makes chat slower,
//             not faster, because ggml's blocked kernel needs the rank to be a multiple of 16 there (a 1B-wide Q4_0
//             model: time to first token 0.76× of the base at r8, 0.84–0.91× at r16; see docs/chat-performance.md).
// These are smaller models than QLoRA's "7B on 24 GB": today's engine keeps every activation (no gradient
// checkpointing), and attention scores grow with the square of the row (see memoryEstimate.ts). Accumulation keeps tokens per
// optimizer step at 4096 (2048 on the CPU, where each step is slow).

import type { TrainingConfig } from "../protocol/sidecar";

export const TRAINING_PRESET_IDS = ["gpu-6gb", "gpu-12gb", "gpu-24gb", "cpu"] as const;
export type TrainingPresetId = (typeof TRAINING_PRESET_IDS)[number];

/** The config fields a preset sets. */
export type PresetSettings = Required<Pick<TrainingConfig, "sequenceLength" | "gradAccum" | "rank" | "alpha" | "quantizeBase" | "threads">>;

export interface TrainingPreset {
    id: TrainingPresetId;
    label: string;
    /** One line for a quick pick. */
    description: string;
    device: "cuda" | "cpu";
    /** Memory the tier has (VRAM, or RAM for the CPU tier): what "fits" means for its typical model. */
    memoryBytes: number;
    /** The model size the tier is sized for, in words. */
    typicalModel: string;
    settings: PresetSettings;
}

const GiB = 2 ** 30;

export const TRAINING_PRESETS: Readonly<Record<TrainingPresetId, TrainingPreset>> = {
    "gpu-6gb": {
        id: "gpu-6gb",
        label: "GPU 6 GB",
        description: "models up to ~0.5B at 4-bit; 512-token rows × 8 accumulated",
        device: "cuda",
        memoryBytes: 6 * GiB,
        typicalModel: "a 0.5B model at Q4 (e.g. Qwen2.5-0.5B)",
        settings: { sequenceLength: 512, gradAccum: 8, rank: 16, alpha: 32, quantizeBase: "q4_k_m", threads: 0 }
    },
    "gpu-12gb": {
        id: "gpu-12gb",
        label: "GPU 12 GB",
        description: "models up to ~1B at 4-bit; 1024-token rows × 4 accumulated",
        device: "cuda",
        memoryBytes: 12 * GiB,
        typicalModel: "a 1B model at Q4 (e.g. Llama-3.2-1B)",
        settings: { sequenceLength: 1024, gradAccum: 4, rank: 16, alpha: 32, quantizeBase: "q4_k_m", threads: 0 }
    },
    "gpu-24gb": {
        id: "gpu-24gb",
        label: "GPU 24 GB",
        description: "models up to ~3B at 4-bit; 1024-token rows × 4 accumulated",
        device: "cuda",
        memoryBytes: 24 * GiB,
        typicalModel: "a 3B model at Q4 (e.g. Llama-3.2-3B)",
        settings: { sequenceLength: 1024, gradAccum: 4, rank: 16, alpha: 32, quantizeBase: "q4_k_m", threads: 0 }
    },
    cpu: {
        id: "cpu",
        label: "CPU",
        description: "models up to ~1.5B at 4-bit on all cores; 256-token rows × 8 accumulated",
        device: "cpu",
        memoryBytes: 8 * GiB,
        typicalModel: "a 1.5B model at Q4_0 (e.g. Qwen2.5-1.5B)",
        settings: { sequenceLength: 256, gradAccum: 8, rank: 16, alpha: 32, quantizeBase: "q4_0", threads: 0 }
    }
};

export function isTrainingPresetId(value: unknown): value is TrainingPresetId {
    return typeof value === "string" && (TRAINING_PRESET_IDS as readonly string[]).includes(value);
}

/** The preset named `id`; the error lists the valid names (for the CLI's --preset). */
export function presetById(id: string): TrainingPreset {
    if (!isTrainingPresetId(id)) throw new Error(`unknown preset ${JSON.stringify(id)}; use one of ${TRAINING_PRESET_IDS.join(", ")}`);
    return TRAINING_PRESETS[id];
}

/** `config` with the preset's fields applied over it. */
export function applyPreset<T extends Partial<TrainingConfig>>(config: T, id: TrainingPresetId): T & PresetSettings {
    return { ...config, ...TRAINING_PRESETS[id].settings };
}

export interface DetectedDevice {
    cuda: boolean;
    /** Total VRAM of the first device (bytes); ignored on the CPU. */
    totalBytes?: number;
}

/** The preset that matches the hardware: the largest GPU tier whose memory the device has, else the CPU. */
export function detectPreset(device: DetectedDevice): TrainingPresetId {
    if (!device.cuda || device.totalBytes === undefined) return "cpu";
    // A "12 GB" card reports a little less than 12 GiB in total: allow 10 % under the tier's size.
    for (const id of ["gpu-24gb", "gpu-12gb", "gpu-6gb"] as const) {
        if (device.totalBytes >= TRAINING_PRESETS[id].memoryBytes * 0.9) return id;
    }
    return "cpu";
}
