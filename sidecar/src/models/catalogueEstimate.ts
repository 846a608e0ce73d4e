// The memory a training run of a catalogue model would need, before anything is downloaded: the catalogue's published
// shape (catalogue.ts) turned into the ModelShape that modelShapeFromGguf would read from the Q4_K_M file, then the
// same estimate the pre-flight check uses (training/memoryEstimate.ts) with the chosen preset's settings. Pure, so
// "Choose Base Model" and `models/list` show the number the wizard would show once the file is on disk (±25 % for
// billion-parameter models, as memoryEstimate.ts says; the weights are sized as llama.cpp's Q4_K_M mix stores them).
import { ARCHITECTURES, isTrainableArch } from "../engine/architectures";
import { ALL_TARGET_MODULES, type TargetModule } from "../engine/types";
import { estimateTrainingMemory, USABLE_FRACTION, type ModelShape } from "../training/memoryEstimate";
import { TRAINING_PRESETS, type TrainingPresetId } from "../training/presets";
import type { CatalogueShape } from "./catalogue";

/**
 * Bits per weight in a Q4_K_M file, as llama.cpp's quantizer (llama_tensor_get_type) mixes them: the layers Q4_K with
 * some Q6_K (≈ 4.85, as memoryEstimate.ts sizes q4_k_m), the output projection Q6_K (a tied token_embd is that
 * output), an untied token_embd Q4_K. Rows that are not a multiple of 256 (Qwen2.5-0.5B's 896) cannot hold k-quants,
 * and fall back to Q5_0 for Q4_K and Q8_0 for Q6_K.
 */
const BITS = {
    kQuants: { layers: 4.85, output: 6.5625, tokenEmbd: 4.5 },
    fallback: { layers: 5.9, output: 8.5, tokenEmbd: 5.5 }
} as const;
const K_QUANT_ROW = 256;

/**
 * The ModelShape of a GGUF of `s` at Q4_K_M: the projection matrices as llama.cpp names and shapes them (Phi-3's fused
 * attn_qkv and gate+up ffn_up), token_embd apart from the other weights, no norms (a rounding error at this size).
 */
export function catalogueModelShape(s: CatalogueShape): ModelShape {
    const headDim = s.headDim ?? s.nEmbd / s.nHead;
    const qDim = s.nHead * headDim;
    const kvDim = s.nHeadKv * headDim;
    const E = s.nEmbd;
    const fused = isTrainableArch(s.arch) && ARCHITECTURES[s.arch].fused;
    // n_in + n_out of each target's tensor; targets that share a fused tensor all count that tensor (as the reader does).
    const qkv = E + qDim + 2 * kvDim;
    const gateUp = E + 2 * s.nFf;
    const perLayer: Record<TargetModule, number> = fused
        ? { attn_q: qkv, attn_k: qkv, attn_v: qkv, attn_o: qDim + E, ffn_gate: gateUp, ffn_up: gateUp, ffn_down: s.nFf + E }
        : { attn_q: E + qDim, attn_k: E + kvDim, attn_v: E + kvDim, attn_o: qDim + E, ffn_gate: E + s.nFf, ffn_up: E + s.nFf, ffn_down: s.nFf + E };
    const layerElements = s.nLayer * (E * qDim + 2 * E * kvDim + qDim * E + 3 * E * s.nFf);
    const outputElements = s.tiedEmbeddings ? 0 : E * s.nVocab;
    const bits = E % K_QUANT_ROW === 0 ? BITS.kQuants : BITS.fallback;
    const loraDims: Partial<Record<TargetModule, number>> = {};
    for (const target of ALL_TARGET_MODULES) loraDims[target] = s.nLayer * perLayer[target];
    return {
        arch: s.arch,
        nLayer: s.nLayer,
        nEmbd: E,
        nFf: s.nFf,
        nHead: s.nHead,
        nVocab: s.nVocab,
        weightBytes: Math.round((layerElements * bits.layers + outputElements * bits.output) / 8),
        tokenEmbdBytes: Math.round((E * s.nVocab * (s.tiedEmbeddings ? bits.output : bits.tokenEmbd)) / 8),
        floatMatrixBytes: 0,
        floatMatrixElements: 0,
        layerMatrixElements: layerElements,
        loraDims
    };
}

export interface PresetMemoryEstimate {
    preset: TrainingPresetId;
    /** Bytes the run needs at its peak with the preset's settings and every target module (the schema's default). */
    totalBytes: number;
    /** The memory the preset's tier has (VRAM, or RAM for the CPU tier). */
    presetMemoryBytes: number;
    /** Fits the tier's memory with the pre-flight check's margin (USABLE_FRACTION). */
    fits: boolean;
}

/** The memory estimate of training `shape` with preset `preset`, on the preset's device. */
export function presetMemoryEstimate(shape: CatalogueShape, preset: TrainingPresetId): PresetMemoryEstimate {
    const p = TRAINING_PRESETS[preset];
    const { totalBytes } = estimateTrainingMemory(
        catalogueModelShape(shape),
        { rank: p.settings.rank, targetModules: ALL_TARGET_MODULES, sequenceLength: p.settings.sequenceLength, quantizeBase: p.settings.quantizeBase },
        p.device
    );
    return { preset, totalBytes, presetMemoryBytes: p.memoryBytes, fits: totalBytes <= p.memoryBytes * USABLE_FRACTION };
}
