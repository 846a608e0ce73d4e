// Which base model an adapter was trained on, beyond its shape: adapterFit.ts refuses an adapter whose tensors do
// not fit the base, but two bases of the same shape (another fine-tune of the same model, or another seed) fit each
// other's adapters and give nonsense in silence. So an adapter records its base's fingerprint in its own GGUF
// metadata when it is saved: the tensor layout (names and shapes, not types, so a quantized copy of the base shares
// it) and a hash of a fixed sample of the base's weight bytes. Loading it onto a base whose fingerprint differs warns.
//
// The engine writes the adapter (llama_adapter_lora_save); stampBaseFingerprint rewrites it with the three keys,
// atomically, and is meant to run on the saved file before it is renamed into place.
import { createHash } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { basename } from "node:path";
import { readExactly } from "./readExactly";
import { readGguf, readTensorBytes, writeGguf, type GgufFile, type GgufTensorToWrite, type GgufValue } from "../gguf";

export const FINGERPRINT_KEYS = {
    layout: "lora_studio.base.layout_sha256",
    weights: "lora_studio.base.weights_sha256",
    name: "lora_studio.base.name"
} as const;

export interface BaseFingerprint {
    /** sha256 of the architecture and every tensor's name and shape. */
    layout: string;
    /** sha256 of SAMPLE_BYTES at the start and the middle of up to SAMPLE_TENSORS tensors spread over the table. */
    weights: string;
    /** general.name, or the file name: for the warning only. */
    name: string;
}

const SAMPLE_TENSORS = 8;
const SAMPLE_BYTES = 256;

function kvText(file: GgufFile, key: string): string | undefined {
    const v = file.kv.get(key);
    return v?.type === "string" ? v.value : undefined;
}

function readRange(path: string, position: number, length: number): Buffer {
    const fd = openSync(path, "r");
    try {
        return readExactly(fd, length, position);
    } finally {
        closeSync(fd);
    }
}

/** The fingerprint of a base model's header (from openModelFile/readGguf); reads 2 × 256 bytes of a few tensors. */
export function baseFingerprint(base: GgufFile): BaseFingerprint {
    const layout = createHash("sha256").update(JSON.stringify([kvText(base, "general.architecture") ?? null, base.tensors.map((t) => [t.name, t.dims])])).digest("hex");
    const weights = createHash("sha256");
    const n = base.tensors.length;
    const picks = new Set<number>();
    for (let i = 0; i < Math.min(SAMPLE_TENSORS, n); i++) picks.add(Math.floor((i * n) / Math.min(SAMPLE_TENSORS, n)));
    for (const i of picks) {
        const t = base.tensors[i]!;
        const length = t.byteLength ?? 0;
        weights.update(`${t.name}:${t.type}:`);
        for (const at of [0, Math.floor(length / 2)]) {
            weights.update(readRange(base.path, base.dataOffset + t.offset + at, Math.min(SAMPLE_BYTES, Math.max(0, length - at))));
        }
    }
    return { layout, weights: weights.digest("hex"), name: kvText(base, "general.name") ?? basename(base.path) };
}

/** The fingerprint an adapter recorded, or undefined for an adapter saved before fingerprints (or by another tool). */
export function recordedFingerprint(adapter: GgufFile): BaseFingerprint | undefined {
    const layout = kvText(adapter, FINGERPRINT_KEYS.layout);
    const weights = kvText(adapter, FINGERPRINT_KEYS.weights);
    if (layout === undefined || weights === undefined) return undefined;
    return { layout, weights, name: kvText(adapter, FINGERPRINT_KEYS.name) ?? "unknown" };
}

/** A warning when the adapter records another base than `base`, whose shape it nevertheless fits; else undefined. */
export function fingerprintWarning(adapter: GgufFile, base: GgufFile): string | undefined {
    const recorded = recordedFingerprint(adapter);
    if (!recorded) return undefined;
    const actual = baseFingerprint(base);
    if (recorded.layout === actual.layout && recorded.weights === actual.weights) return undefined;
    const what = recorded.layout !== actual.layout ? "a base with another tensor layout" : "a base of the same shape but other weights (another fine-tune or quantization of it, or another model)";
    return `the adapter ${adapter.path} was trained on "${recorded.name}", ${what}, not on ${base.path} ("${actual.name}"); its answers may be nonsense. Load it on the base it was trained on (its run's config.json names it).`;
}

/**
 * Records `fingerprint` in the adapter GGUF at `adapterPath` (its tensors and other keys unchanged), replacing the
 * file atomically. Run it on the freshly saved adapter before it is renamed into place.
 */
export function stampBaseFingerprint(adapterPath: string, fingerprint: BaseFingerprint): void {
    const adapter = readGguf(adapterPath);
    const keys = new Set<string>(Object.values(FINGERPRINT_KEYS));
    const kv: Array<[string, GgufValue]> = [...adapter.kv].filter(([k]) => !keys.has(k));
    kv.push([FINGERPRINT_KEYS.layout, { type: "string", value: fingerprint.layout }]);
    kv.push([FINGERPRINT_KEYS.weights, { type: "string", value: fingerprint.weights }]);
    kv.push([FINGERPRINT_KEYS.name, { type: "string", value: fingerprint.name }]);
    const tensors: GgufTensorToWrite[] = adapter.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type, data: () => readTensorBytes(adapter, t.name) }));
    writeGguf(adapterPath, { kv, tensors, alignment: adapter.alignment });
}
