// Presets: each tier's memory-shaped settings fit the model size its description promises, by the same estimate
// the pre-flight check uses; the detected preset follows the hardware; presets are valid run configs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { resolvedConfig } from "../../../sidecar/src/training/config";
import { estimateTrainingMemory, USABLE_FRACTION, type ModelShape } from "../../../sidecar/src/training/memoryEstimate";
import { applyPreset, detectPreset, presetById, TRAINING_PRESET_IDS, TRAINING_PRESETS, type TrainingPresetId } from "../../../sidecar/src/training/presets";
import { ALL_TARGET_MODULES } from "../../../sidecar/src/engine/types";

interface Architecture {
    name: string;
    nLayer: number;
    nEmbd: number;
    nFf: number;
    nHead: number;
    nHeadKv: number;
    nVocab: number;
    tiedEmbeddings: boolean;
}

/** The shape a GGUF of this architecture at Q4_K_M (~4.85 bits per weight) has, as modelShapeFromGguf reads it. */
function q4Shape(a: Architecture): ModelShape {
    const kv = (a.nEmbd / a.nHead) * a.nHeadKv;
    const dims = { attn_q: 2 * a.nEmbd, attn_k: a.nEmbd + kv, attn_v: a.nEmbd + kv, attn_o: 2 * a.nEmbd, ffn_gate: a.nEmbd + a.nFf, ffn_up: a.nEmbd + a.nFf, ffn_down: a.nEmbd + a.nFf };
    const layerElements = a.nLayer * (2 * a.nEmbd * a.nEmbd + 2 * a.nEmbd * kv + 3 * a.nEmbd * a.nFf);
    const outputElements = a.tiedEmbeddings ? 0 : a.nEmbd * a.nVocab;
    return {
        arch: "llama", nLayer: a.nLayer, nEmbd: a.nEmbd, nFf: a.nFf, nHead: a.nHead, nVocab: a.nVocab,
        weightBytes: ((layerElements + outputElements) * 4.85) / 8,
        floatMatrixBytes: 0, floatMatrixElements: 0, layerMatrixElements: layerElements,
        loraDims: Object.fromEntries(Object.entries(dims).map(([k, v]) => [k, v * a.nLayer]))
    };
}

/** The model each tier is sized for (the presets.ts header names them); published shapes. */
const TYPICAL: Record<TrainingPresetId, Architecture> = {
    "gpu-6gb": { name: "Qwen2.5-0.5B", nLayer: 24, nEmbd: 896, nFf: 4864, nHead: 14, nHeadKv: 2, nVocab: 151936, tiedEmbeddings: true },
    "gpu-12gb": { name: "Llama-3.2-1B", nLayer: 16, nEmbd: 2048, nFf: 8192, nHead: 32, nHeadKv: 8, nVocab: 128256, tiedEmbeddings: true },
    "gpu-24gb": { name: "Llama-3.2-3B", nLayer: 28, nEmbd: 3072, nFf: 8192, nHead: 24, nHeadKv: 8, nVocab: 128256, tiedEmbeddings: true },
    cpu: { name: "Qwen2.5-1.5B", nLayer: 28, nEmbd: 1536, nFf: 8960, nHead: 12, nHeadKv: 2, nVocab: 151936, tiedEmbeddings: true }
};

for (const id of TRAINING_PRESET_IDS) {
    test(`preset ${id}: ${TYPICAL[id].name} fits in ${TRAINING_PRESETS[id].memoryBytes / 2 ** 30} GiB`, () => {
        const preset = TRAINING_PRESETS[id];
        const settings = { ...preset.settings, targetModules: ALL_TARGET_MODULES };
        const estimate = estimateTrainingMemory(q4Shape(TYPICAL[id]), settings, preset.device);
        const usable = preset.memoryBytes * USABLE_FRACTION;
        assert.ok(estimate.totalBytes <= usable, `${TYPICAL[id].name} needs ${(estimate.totalBytes / 2 ** 30).toFixed(2)} GiB > ${(usable / 2 ** 30).toFixed(2)} GiB: ${JSON.stringify(estimate.parts)}`);
        // Not oversized either: twice the rows would not fit, so the preset uses its tier.
        const doubled = estimateTrainingMemory(q4Shape(TYPICAL[id]), { ...settings, sequenceLength: settings.sequenceLength * 2 }, preset.device);
        assert.ok(doubled.totalBytes > usable * 0.5, `${id} leaves most of its memory unused`);
    });
}

test("every preset is a valid run config and keeps QLoRA's alpha = 2 × rank", () => {
    for (const id of TRAINING_PRESET_IDS) {
        const config = resolvedConfig(applyPreset({ model: "/m.gguf", data: "/d.jsonl", rank: 4, learningRate: 1e-3 }, id), `preset ${id}`);
        assert.equal(config.rank, TRAINING_PRESETS[id].settings.rank, "the preset's rank wins over the settings'");
        assert.equal(config.learningRate, 1e-3, "fields the preset does not shape stay as set");
        assert.equal(config.alpha, 2 * config.rank);
        assert.ok(config.sequenceLength * config.gradAccum >= 2048, `${id}: tokens per optimizer step`);
    }
});

test("the detected preset follows the device", () => {
    const GiB = 2 ** 30;
    assert.equal(detectPreset({ cuda: false }), "cpu");
    assert.equal(detectPreset({ cuda: true, totalBytes: 4 * GiB }), "cpu");
    assert.equal(detectPreset({ cuda: true, totalBytes: 5.8 * GiB }), "gpu-6gb");
    assert.equal(detectPreset({ cuda: true, totalBytes: 11.6 * GiB }), "gpu-12gb");
    assert.equal(detectPreset({ cuda: true, totalBytes: 23.6 * GiB }), "gpu-24gb");
    assert.equal(detectPreset({ cuda: true, totalBytes: 80 * GiB }), "gpu-24gb");
    assert.throws(() => presetById("gpu-8gb"), /unknown preset "gpu-8gb"; use one of gpu-6gb, gpu-12gb, gpu-24gb, cpu/);
});
