// Reads a safetensors file (https://github.com/huggingface/safetensors, "Format"; export/safetensors.ts writes it):
// an 8-byte little-endian header length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}}, then
// the data. The header is checked before any tensor is read, as the safetensors library does, because a header that
// lies about its sizes would otherwise read another tensor's bytes (or past the file) as weights: every tensor's
// offsets lie inside the data section, its byte count is its shape × its dtype's size, no two tensors overlap and no
// byte of the data section belongs to none. Each problem names the file and the tensor (or header field).
import { closeSync, fstatSync, openSync } from "node:fs";
import { readExactly } from "../adapters/readExactly";
import { bf16BitsToF32, f16BitsToF32 } from "../gguf";
import { AdapterImportError } from "./errors";

export type SafetensorsReadDtype = "F32" | "F16" | "BF16";
const DTYPE_BYTES: Readonly<Record<SafetensorsReadDtype, number>> = { F32: 4, F16: 2, BF16: 2 };
/** A header larger than this is a corrupt length field (the safetensors library caps it at 100 MB too). */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface SafetensorsEntry {
    name: string;
    dtype: SafetensorsReadDtype;
    /** Row-major (PyTorch order). */
    shape: number[];
    /** Absolute file offsets. */
    begin: number;
    end: number;
}

export interface SafetensorsFile {
    path: string;
    entries: Map<string, SafetensorsEntry>;
}

const isCount = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Opens `path` and checks its header; reads no tensor data. */
export function readSafetensorsHeader(path: string): SafetensorsFile {
    let fd: number;
    try {
        fd = openSync(path, "r");
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new AdapterImportError(code === "ENOENT" ? `${path} does not exist` : `${path} cannot be read (${code ?? (error as Error).message})`);
    }
    try {
        const size = fstatSync(fd).size;
        const bad = (detail: string): never => {
            throw new AdapterImportError(`${path}: ${detail}; the file is damaged or not a safetensors file`);
        };
        if (size < 8) bad(`the file has ${size} bytes, fewer than the 8-byte header length`);
        const headerLength = readExactly(fd, 8, 0).readBigUInt64LE(0);
        if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) bad(`the header length field says ${headerLength} bytes, but the file has ${size - 8} bytes after it`);
        const dataStart = 8 + Number(headerLength);
        const dataLength = size - dataStart;
        let header: unknown;
        try {
            header = JSON.parse(readExactly(fd, Number(headerLength), 8).toString("utf8"));
        } catch (error) {
            bad(`the header is not valid JSON (${(error as Error).message})`);
        }
        if (typeof header !== "object" || header === null || Array.isArray(header)) bad("the header is not a JSON object");

        const entries = new Map<string, SafetensorsEntry>();
        for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
            if (name === "__metadata__") continue;
            const tensorBad = (detail: string): never => bad(`tensor '${name}': ${detail}`);
            const v = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
            if (typeof v !== "object" || v === null) tensorBad("its header entry is not an object");
            const { dtype, shape, data_offsets: offsets } = v!;
            if (typeof dtype !== "string" || !Object.hasOwn(DTYPE_BYTES, dtype)) {
                throw new AdapterImportError(`${path}: tensor '${name}' has dtype ${JSON.stringify(dtype)}; LoRA Studio imports F32, F16 and BF16 adapters (save the adapter in one of those: model.to(torch.float32) before save_pretrained)`);
            }
            if (!Array.isArray(shape) || !shape.every(isCount)) tensorBad(`shape ${JSON.stringify(shape)} is not a list of sizes`);
            if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount)) tensorBad(`data_offsets ${JSON.stringify(offsets)} is not [begin, end]`);
            const [begin, end] = offsets as [number, number];
            if (begin > end) tensorBad(`data_offsets [${begin}, ${end}] end before they begin`);
            if (end > dataLength) tensorBad(`data_offsets [${begin}, ${end}] reach past the end of the data section (${dataLength} bytes)`);
            const elements = (shape as number[]).reduce((a, b) => a * b, 1);
            const expected = elements * DTYPE_BYTES[dtype as SafetensorsReadDtype];
            if (end - begin !== expected) {
                tensorBad(`data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but shape [${(shape as number[]).join(", ")}] of ${dtype} needs ${expected}`);
            }
            entries.set(name, { name, dtype: dtype as SafetensorsReadDtype, shape: shape as number[], begin: dataStart + begin, end: dataStart + end });
        }
        // Sorted by offset, each tensor must start where the previous one ended: an overlap reads shared bytes as two
        // tensors, a hole means the header and the data disagree.
        let cursor = dataStart;
        let previous: string | undefined;
        for (const e of [...entries.values()].sort((x, y) => x.begin - y.begin || x.end - y.end)) {
            if (e.begin < cursor) bad(`tensor '${e.name}' overlaps tensor '${previous}' (data_offsets start ${e.begin - dataStart}, before ${cursor - dataStart})`);
            if (e.begin > cursor) bad(`bytes ${cursor - dataStart} to ${e.begin - dataStart} of the data section belong to no tensor (before tensor '${e.name}')`);
            cursor = e.end;
            previous = e.name;
        }
        if (cursor !== size) bad(`the data section has ${dataLength} bytes, but its tensors account for ${cursor - dataStart}`);
        return { path, entries };
    } finally {
        closeSync(fd);
    }
}

/** A tensor's values as F32 (F16 and BF16 widened exactly). */
export function readSafetensorsF32(file: SafetensorsFile, name: string): Float32Array {
    const e = file.entries.get(name);
    if (!e) throw new AdapterImportError(`${file.path}: no tensor '${name}'`);
    const fd = openSync(file.path, "r");
    let bytes: Buffer;
    try {
        bytes = readExactly(fd, e.end - e.begin, e.begin);
    } finally {
        closeSync(fd);
    }
    if (bytes.length !== e.end - e.begin) throw new AdapterImportError(`${file.path}: tensor '${name}': the file shrank while it was read`);
    // F32 bytes are taken as they are (a little-endian host, as the GGUF reader assumes), so the bits round-trip.
    if (e.dtype === "F32") return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
    const n = bytes.length / 2;
    const out = new Float32Array(n);
    const widen = e.dtype === "F16" ? f16BitsToF32 : bf16BitsToF32;
    for (let i = 0; i < n; i++) out[i] = widen(bytes.readUInt16LE(2 * i));
    return out;
}
